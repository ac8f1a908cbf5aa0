"""The simulation state shared by all domain generators, and the per-(facility, day) context they get.

Work that completes later than it starts (an appointment booked for next week, a lab result due in
six hours, a claim settled in a month) is `schedule`d with a due instant. If that instant is inside
the simulated past it is resolved at once and its changes are folded into the not-yet-written
documents; otherwise it is kept as an open item, and `mutate` resolves it when simulated time reaches
it, as `$set`/`$push` updates by `_id`. One resolver per kind serves both paths, and each resolution
draws from a Random derived from the item's own id, so the outcome is the same either way.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId

from kx_lake.lib.synth.clock import DAY_MS, Timeline
from kx_lake.lib.synth.rng import derive, object_id
from kx_lake.lib.synth.sink import UPDATED_KEY, Sink
from kx_lake.lib.synth.world import Facility, World


@dataclass(slots=True)
class Change:
    """One resolver outcome: fields to set (and optionally array elements to push) on a document."""

    coll: str
    id: Any
    set: dict[str, Any]
    when_ms: int
    push: dict[str, Any] | None = None


Pending = dict[tuple[str, Any], dict[str, Any]]
Resolver = Callable[["DayCtx", dict[str, Any], int], list[Change]]
RESOLVERS: dict[str, tuple[str, Resolver, int]] = {}  # kind -> (collection, resolver, slack ms)


def resolver(kind: str, coll: str, slack_h: float = 0.25) -> Callable[[Resolver], Resolver]:
    """Register the resolver of a kind of deferred work. `slack_h` bounds how long after its due
    instant the resolution may still write documents; work is resolved inline only if due + slack
    falls inside the simulated past, so no flow is ever cut by the horizon."""
    def register(fn: Resolver) -> Resolver:
        RESOLVERS[kind] = (coll, fn, int(slack_h * 3_600_000))
        return fn
    return register


@dataclass
class Sim:
    world: World
    timeline: Timeline
    sink: Sink
    seed: int
    env: str
    day_seed: int | None = None  # mutate may draw new days from another seed (the world stays the seeded one)
    open_items: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # domain state (census, stock) across days
    unwritten: Pending = field(default_factory=dict)  # documents of the resolution in progress
    oid_seq: int = 0  # ids handed out so far (mixed into each ObjectId, see rng.object_id)

    @property
    def horizon_ms(self) -> int:
        return self.sink.limit_ms

    def ctx(self, stream: str, fac: Facility, d: int, rng: random.Random | None = None) -> DayCtx:
        seed = self.seed if self.day_seed is None else self.day_seed
        return DayCtx(self, fac, d, rng or derive(seed, self.env, stream, fac.idx, d))

    def day_of(self, ms: int) -> int:
        return (ms - self.timeline.start_ms(0)) // DAY_MS

    def resolve(self, kind: str, due_ms: int, data: dict[str, Any], pending: Pending | None) -> None:
        fn = RESOLVERS[kind][1]
        fac = self.world.facilities[data["fac_idx"]]
        rng = derive(self.seed, self.env, "resolve", kind, str(data["_id"]))
        outer, self.unwritten = self.unwritten, pending or {}
        try:
            changes = fn(DayCtx(self, fac, self.day_of(due_ms), rng), data, due_ms)
        finally:
            self.unwritten = outer
        for ch in changes:
            doc = pending.get((ch.coll, ch.id)) if pending else None
            if doc is None:
                self.sink.update(ch.coll, ch.id, ch.set, ch.when_ms, ch.push)
            else:
                apply(doc, ch)


def apply(doc: dict[str, Any], ch: Change) -> None:
    """Fold a change into a document that has not been written yet."""
    doc.update(ch.set)
    for key, value in (ch.push or {}).items():
        doc.setdefault(key, []).append(value)
    doc[UPDATED_KEY] = max(doc.get(UPDATED_KEY, 0), ch.when_ms)


@dataclass
class Held:
    """A document whose later changes are folded in before it is written (during seeding), or sent
    as updates by _id once it has been written (a held document restored by `mutate`)."""

    coll: str
    doc: dict[str, Any]
    created_ms: int
    written: bool = False

    def change(self, sink: Sink, fields: dict[str, Any], when_ms: int, push: dict[str, Any] | None = None) -> None:
        if self.written:
            sink.update(self.coll, self.doc["_id"], fields, when_ms, push)
        else:
            apply(self.doc, Change(self.coll, self.doc["_id"], fields, when_ms, push))

    def release(self, sink: Sink) -> None:
        if not self.written:
            sink.emit(self.coll, self.doc, self.created_ms)
            self.written = True


class DayCtx:
    """What a domain generator needs for one facility on one day."""

    __slots__ = ("sim", "fac", "d", "rng", "day_ms", "world", "tl")

    def __init__(self, sim: Sim, fac: Facility, d: int, rng: random.Random):
        self.sim, self.fac, self.d, self.rng = sim, fac, d, rng
        self.world, self.tl = sim.world, sim.timeline
        self.day_ms = sim.timeline.start_ms(d)

    @property
    def horizon_ms(self) -> int:
        return self.sim.horizon_ms

    def staff(self, *roles: str) -> str:
        """A random employee of this facility in one of `roles` (anyone, if nobody has them)."""
        people = [s for s in self.fac.staff if s.role in roles] or self.fac.staff
        return people[int(self.rng.random() * len(people))].id

    def oid(self, ms: int) -> ObjectId:
        self.sim.oid_seq += 1
        return object_id(self.rng, ms, self.sim.oid_seq)

    def emit(self, coll: str, doc: dict[str, Any], created_ms: int, updated_ms: int | None = None,
             *, iso_utc: bool = False) -> dict:
        return self.sim.sink.emit(coll, doc, created_ms, updated_ms, iso_utc=iso_utc)

    @contextmanager
    def holding(self, pending: Pending) -> Iterator[None]:
        """Within this block, changes to these not-yet-written documents are folded into them."""
        outer = self.sim.unwritten
        self.sim.unwritten = {**outer, **pending}
        try:
            yield
        finally:
            self.sim.unwritten = outer

    def change(self, coll: str, _id: Any, fields: dict[str, Any], when_ms: int,
               push: dict[str, Any] | None = None) -> None:
        """Change a document now: folded in if it is not written yet, else an update by _id."""
        doc = self.sim.unwritten.get((coll, _id))
        if doc is None:
            self.sim.sink.update(coll, _id, fields, when_ms, push)
        else:
            apply(doc, Change(coll, _id, fields, when_ms, push))

    def schedule(self, kind: str, due_ms: int, data: dict[str, Any], pending: Pending | None = None) -> bool:
        """Resolve now if due inside the simulated past (returns True), else keep it open."""
        data.setdefault("fac_idx", self.fac.idx)
        if due_ms + RESOLVERS[kind][2] < self.sim.horizon_ms:
            # documents of an enclosing resolution are not written yet either: fold changes into them too
            self.sim.resolve(kind, due_ms, data, {**self.sim.unwritten, **(pending or {})})
            return True
        self.sim.open_items.append({"kind": kind, "due_ms": due_ms, "data": data})
        return False
