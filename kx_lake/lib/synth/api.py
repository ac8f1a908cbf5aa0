"""Public entry points: generate an environment's documents (pure, for tests), seed an environment's
MongoDB (drop, recreate, insert in batches, save run metadata) and mutate it (simulate more days:
new documents plus updates by _id of existing ones). Writing is writer.py's job.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from pymongo import MongoClient

from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.synth import engine, meta
from kx_lake.lib.synth.clock import Timeline
from kx_lake.lib.synth.engine import Progress, SynthError
from kx_lake.lib.synth.messes import DECIMAL128, supports_decimal128
from kx_lake.lib.synth.sim import Sim
from kx_lake.lib.synth.sink import Batch
from kx_lake.lib.synth.writer import Writer

HISTORY_DAYS = 365


@dataclass
class SeedReport:
    env: str
    scale: float
    seed: int
    first_day: date
    last_day: date
    inserted: dict[str, int]
    updated: dict[str, int]
    open_items: int
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.inserted.values())

    @property
    def docs_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0


@dataclass
class MutateReport:
    env: str
    days: int
    first_day: date
    last_day: date
    inserted: dict[str, int]
    updated: dict[str, int]
    resolved_items: int
    open_items: int
    seconds: float
    collections: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.inserted.values()) + sum(self.updated.values())


def default_as_of(project: ProjectConfig, env: str) -> date:
    """Today (00:00) in the environment's timezone: the simulated history ends at this midnight."""
    return datetime.now(project.environment(env).tz).date()


def _seed_sim(project: ProjectConfig, env: str, scale: float, seed: int, as_of: date | None) -> Sim:
    spec = project.environment(env)
    as_of = as_of or default_as_of(project, env)
    tl = Timeline.ending(as_of, spec.tz, HISTORY_DAYS, getattr(project, "partitions_start", None))
    sim = engine.new_sim(project, spec, seed=seed, scale=scale, timeline=tl, floor_ms=tl.start_ms(0))
    sim.state["hr_from_day"] = engine.hr_start(tl, scale)
    return sim


def _seed_batches(sim: Sim, progress: Progress | None) -> Iterator[Batch]:
    yield from engine.masters(sim)
    if progress:
        progress("masters", 1, 1, sum(sim.sink.inserted.values()))
    yield from engine.days(sim, range(sim.timeline.horizon), [], progress)
    yield from engine.finish(sim, seeding=True)


def generate_environment(project: ProjectConfig, env: str, *, scale: float, seed: int = 42,
                         as_of: date | None = None, progress: Progress | None = None,
                         decimal128: bool = True) -> Iterator[Batch]:
    """The batches `seed_environment` would write, without touching MongoDB."""
    token = DECIMAL128.set(decimal128)
    try:
        yield from _seed_batches(_seed_sim(project, env, scale, seed, as_of), progress)
    finally:
        DECIMAL128.reset(token)


def server_supports_decimal128(client: MongoClient) -> bool:
    return supports_decimal128(client.admin.command("buildInfo"))


def seed_environment(client: MongoClient, project: ProjectConfig, env: str, *, scale: float, seed: int = 42,
                     as_of: date | None = None, progress: Progress | None = None,
                     decimal128: bool | None = None) -> SeedReport:
    """Drop, recreate and fill every enabled collection of `env` with a year of synthetic HIMS data.
    Decimal128 amounts are written as doubles on servers that cannot store them (decimal128=None: ask)."""
    started = time.perf_counter()
    decimals = server_supports_decimal128(client) if decimal128 is None else decimal128
    sim = _seed_sim(project, env, scale, seed, as_of)
    for spec in project.enabled_collections:
        db = client[spec.database]
        db.drop_collection(spec.collection)
        db.create_collection(spec.collection)
    meta.forget(client, env)
    token = DECIMAL128.set(decimals)
    try:
        Writer(client).write_all(_seed_batches(sim, progress))
    finally:
        DECIMAL128.reset(token)
    tl = sim.timeline
    run = {"env": env, "generator_version": engine.GENERATOR_VERSION, "seed": seed, "scale": scale,
           "decimal128": decimals, "timezone": str(tl.tz),
           "first_day": tl.first_day.isoformat(),
           "horizon_day": tl.horizon, "as_of": tl.day(tl.horizon).isoformat(), "state": engine.saved_state(sim),
           "history": [{"op": "seed", "days": tl.horizon, "until": tl.day(tl.horizon).isoformat()}]}
    meta.save(client, env, run, sim.open_items)
    return SeedReport(env, scale, seed, tl.first_day, tl.day(tl.horizon - 1), dict(sim.sink.inserted),
                      dict(sim.sink.updated), len(sim.open_items), time.perf_counter() - started)


def mutate_environment(client: MongoClient, project: ProjectConfig, env: str, *, days: int, seed: int = 42,
                       progress: Progress | None = None) -> MutateReport:
    """Simulate `days` more days after the last simulated one: new documents, and updates by _id of
    existing ones (appointments completed, results reported, bills paid, patients discharged...)."""
    if days < 1:
        raise SynthError(f"days must be at least 1, got {days}")
    started = time.perf_counter()
    spec = project.environment(env)
    run = meta.load_run(client, env)
    if run is None:
        raise SynthError(f"environment {env!r} has not been seeded (no run in {meta.META_DB}); seed it first")
    if run.get("generator_version") != engine.GENERATOR_VERSION:
        raise SynthError(f"environment {env!r} was seeded by generator version {run.get('generator_version')}, "
                         f"this is version {engine.GENERATOR_VERSION}; re-seed it before mutating")
    old = run["horizon_day"]
    tl = Timeline(spec.tz, date.fromisoformat(run["first_day"]), old + days)
    sim = engine.new_sim(project, spec, seed=run["seed"], scale=run["scale"], timeline=tl,
                         floor_ms=tl.start_ms(old), clamp=True, day_seed=seed)
    items = meta.load_open_items(client, env)
    stored = engine.restore(sim, run.get("state", {}), items)

    def batches() -> Iterator[Batch]:
        yield from engine.days(sim, range(old, old + days), stored, progress, touch=True)
        yield from engine.finish(sim, seeding=False)

    token = DECIMAL128.set(run.get("decimal128", True))
    try:
        Writer(client, rerun_safe=True).write_all(batches())
    finally:
        DECIMAL128.reset(token)
    run.update(horizon_day=tl.horizon, as_of=tl.day(tl.horizon).isoformat(), state=engine.saved_state(sim))
    run.setdefault("history", []).append({"op": "mutate", "days": days, "seed": seed,
                                          "until": tl.day(tl.horizon).isoformat()})
    meta.save(client, env, {k: v for k, v in run.items() if k != "_id"}, sim.open_items)
    inserted, updated = dict(sim.sink.inserted), dict(sim.sink.updated)
    still = {str(it["data"]["_id"]) for it in sim.open_items}
    resolved = sum(1 for it in items if str(it["data"]["_id"]) not in still)
    return MutateReport(env, days, tl.day(old), tl.day(tl.horizon - 1), inserted, updated, resolved,
                        len(sim.open_items), time.perf_counter() - started, sorted(set(inserted) | set(updated)))


def counts(batches: Iterable[Batch]) -> Counter[str]:
    """Documents per collection in a stream of batches (tests and benchmarks)."""
    out: Counter[str] = Counter()
    for b in batches:
        out[b.collection] += len(b.docs)
    return out

