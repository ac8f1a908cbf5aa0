"""Parse the compact, pipe-separated reference tables the vocab modules are written in.

Reference data (cities, ICD-10 codes, drugs, tests) is far easier to read and review as one row per
line than as nested Python literals, and parsing a few hundred short lines at import costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Caster = Callable[[str], Any]


def rows(text: str, *casts: Caster) -> list[tuple[Any, ...]]:
    """Split `text` into rows of '|'-separated cells, casting cell i with casts[i] (str by default)."""
    out: list[tuple[Any, ...]] = []
    for line in text.strip().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split("|")]
        out.append(tuple((casts[i] if i < len(casts) else str)(c) for i, c in enumerate(cells)))
    return out


def words(text: str) -> tuple[str, ...]:
    """Whitespace- or comma-separated words (multi-word items use '_' for spaces)."""
    return tuple(w.replace("_", " ") for w in text.replace(",", " ").split())


def opt_float(cell: str) -> float | None:
    return float(cell) if cell else None


def cum(weights: Sequence[float]) -> list[float]:
    """Cumulative weights for random.choices(cum_weights=...), which is much faster than weights=."""
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out
