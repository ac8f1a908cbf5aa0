"""Deterministic randomness and ids.

Every stream of documents gets its own `random.Random`, seeded from a hash of (seed, env, stream
name, facility, day...), so output never depends on global state, on the order streams run in, or on
the clock. `_id`s are ObjectIds built from the document's own creation second plus 64 random bits
from the stream, so they are realistic (sortable by creation) and reproducible.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from typing import TypeVar

from bson import ObjectId

T = TypeVar("T")


def derive(seed: int, *parts: object) -> random.Random:
    """A Random for one stream, independent of every other stream and of call order."""
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))


def stable_int(*parts: object, bits: int = 32) -> int:
    """A stable hash of `parts` (Python's hash() is salted per process)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> (64 - bits)


def object_id(rng: random.Random, epoch_ms: int, seq: int = 0) -> ObjectId:
    """An ObjectId whose timestamp is the document's creation second.

    `seq` (the simulation's running count of ids, like a real ObjectId's counter) is mixed into the
    low bits: two streams drawn from equal random states — a resolver's rng is derived from its kind
    and document, so the same work resolved twice in one second repeats its draws — still get
    distinct ids (scale 1 hit exactly that: E11000 on bed_status_events)."""
    return ObjectId((epoch_ms // 1000).to_bytes(4, "big") + (rng.getrandbits(64) ^ (seq & 0xFFFFFF)).to_bytes(8, "big"))


def poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw (Knuth for small means, rounded normal for large ones)."""
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def bounded_lognormal(rng: random.Random, median: float, sigma: float, lo: float, hi: float) -> float:
    """A right-skewed duration (waiting times, lengths of stay) clipped to [lo, hi]."""
    return min(hi, max(lo, median * math.exp(rng.gauss(0.0, sigma))))


def chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def pick(rng: random.Random, items: Sequence[T], cum_weights: Sequence[float] | None = None) -> T:
    if cum_weights is None:
        return items[int(rng.random() * len(items))]
    return rng.choices(items, cum_weights=cum_weights)[0]


def digits(rng: random.Random, n: int) -> str:
    """n random decimal digits, the first non-zero."""
    return str(rng.randint(10 ** (n - 1), 10**n - 1))
