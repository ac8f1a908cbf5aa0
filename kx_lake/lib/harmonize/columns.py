"""Row-to-column transposition shared by inference and conversion.

Both work column-wise so that the per-value work happens inside C builtins (map, zip, itemgetter,
set, chain) instead of Python bytecode. Objects are grouped by their key tuple - documents of one
collection mostly share a few key layouts - and each group is transposed with one itemgetter/zip.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Mapping, Sequence


def transpose(keys: tuple[str, ...], group: Sequence[Mapping[str, Any]]) -> list[Sequence[Any]]:
    """Values per key (in `keys` order) of objects that all have exactly `keys`."""
    if not keys:
        return []
    if len(keys) == 1:
        return [list(map(itemgetter(keys[0]), group))]
    return list(zip(*map(itemgetter(*keys), group)))


def group_by_keys(dicts: Sequence[Mapping[str, Any]]) -> dict[tuple[str, ...], list[Any]]:
    """Objects grouped by key tuple, preserving order within a group."""
    keysets = list(map(tuple, dicts))
    first = keysets[0] if keysets else ()
    if keysets.count(first) == len(keysets):
        return {first: list(dicts)}
    groups: dict[tuple[str, ...], list[Any]] = {}
    for keys, obj in zip(keysets, dicts):
        groups.setdefault(keys, []).append(obj)
    return groups


def group_rows_by_keys(dicts: Sequence[Mapping[str, Any]]) -> dict[tuple[str, ...], list[int]] | None:
    """Row indices grouped by key tuple; None when every object has the same keys (the fast path)."""
    keysets = list(map(tuple, dicts))
    if not keysets or keysets.count(keysets[0]) == len(keysets):
        return None
    groups: dict[tuple[str, ...], list[int]] = {}
    for row, keys in enumerate(keysets):
        groups.setdefault(keys, []).append(row)
    return groups
