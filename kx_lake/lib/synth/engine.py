"""Drives a run: builds the world and the simulation, writes the masters, steps through the days
(facility by facility, stream by stream), resolves open work that falls due, and finally writes the
end-of-run snapshots (beds, stock) and collects what is still open. Seed and mutate share all of it;
they differ only in the window they simulate and in what they start from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from kx_lake.lib.config import CollectionSpec, EnvironmentSpec, ProjectConfig
from kx_lake.lib.synth import beds, hr, patients, stock, vocab_clinical, vocab_ops
from kx_lake.lib.synth.adt import Inpatient, census
from kx_lake.lib.synth.clock import Timeline
from kx_lake.lib.synth.registry import DAY_STREAMS, MASTERS, PRODUCERS
from kx_lake.lib.synth.sim import RESOLVERS, Sim
from kx_lake.lib.synth.sink import Batch, Sink
from kx_lake.lib.synth.volumes import plan_wards
from kx_lake.lib.synth.world import build_world

Progress = Callable[[str, int, int, int], None]  # (stage, done, total, documents so far)
# Bump when the world or the meaning of saved state changes: mutate refuses runs seeded by another version.
GENERATOR_VERSION = 1
FLUSH_EVERY_DAYS = 30  # partial buffers are flushed this often, so small collections don't sit in memory
_DRUG_NAMES = {d[0]: (d[2], "PHARMACY") for d in vocab_clinical.DRUGS}
_ITEM_NAMES = {i[0]: (i[1], "MAIN") for i in vocab_ops.ITEMS}


class SynthError(RuntimeError):
    """A run that cannot proceed (unseeded environment, collection nobody generates)."""


def collection_specs(project: ProjectConfig) -> tuple[dict[str, CollectionSpec], set[str]]:
    known = {c.collection for c in project.collections}
    missing = sorted(known - set(PRODUCERS))
    if missing:
        raise SynthError(f"no synthetic generator for configured collection(s): {', '.join(missing)}")
    return {c.collection: c for c in project.enabled_collections}, known


def new_sim(project: ProjectConfig, env: EnvironmentSpec, *, seed: int, scale: float, timeline: Timeline,
            floor_ms: int, clamp: bool = False, batch_size: int = 2000, day_seed: int | None = None) -> Sim:
    if not 0 < scale <= 50:
        raise SynthError(f"scale must be in (0, 50], got {scale}")
    enabled, known = collection_specs(project)
    world = build_world(seed, env.name, scale)
    plan_wards(world)
    sink = Sink(enabled, known, env.tz, floor_ms, timeline.horizon_ms, batch_size, clamp=clamp)
    return Sim(world, timeline, sink, seed, env.name, day_seed=day_seed)


def masters(sim: Sim) -> Iterator[Batch]:
    fac0 = sim.world.facilities[0]
    for name, fn in MASTERS:
        fn(sim.ctx(f"master:{name}", fac0, 0))
        yield from sim.sink.ready()
    for fac in sim.world.facilities:  # patients registered before the simulated year
        n = patients.existing(fac, sim.world.scale)
        for lo in range(0, n, 1000):
            patients.emit_patients(sim, fac, lo, min(n, lo + 1000))
            yield from sim.sink.ready()


def days(sim: Sim, span: range, stored: list[dict[str, Any]], progress: Progress | None,
         touch: bool = False) -> Iterator[Batch]:
    """Simulate the days in `span`, resolving `stored` open items as they fall due."""
    tl, sink, scale = sim.timeline, sim.sink, sim.world.scale
    stored = sorted(stored, key=lambda it: (it["due_ms"], str(it["data"]["_id"])))
    waiting: list[dict[str, Any]] = []
    i = 0
    for n, d in enumerate(span, start=1):
        day_end = tl.start_ms(d + 1)
        while i < len(stored) and stored[i]["due_ms"] < day_end:
            item = stored[i]
            i += 1
            if item["due_ms"] + RESOLVERS[item["kind"]][2] >= sim.horizon_ms:
                waiting.append(item)  # its flow would run past the new horizon: still open
            else:
                sim.resolve(item["kind"], max(item["due_ms"], sink.floor_ms), item["data"], None)
        for fac in sim.world.facilities:
            lo = patients.registered_before(fac, scale, d)
            hi = patients.registered_before(fac, scale, d + 1)
            patients.emit_patients(sim, fac, lo, hi)
            for name, fn in DAY_STREAMS:
                fn(sim.ctx(name, fac, d))
            if touch:
                patients.touch(sim.ctx("touch", fac, d))
        yield from sink.ready(flush=n % FLUSH_EVERY_DAYS == 0, updates=False)  # updates go last (finish)
        if progress:
            progress("days", n, len(span), sum(sink.inserted.values()))
    sim.open_items[:0] = waiting + stored[i:]


def finish(sim: Sim, seeding: bool) -> Iterator[Batch]:
    """End-of-run snapshots; inpatients still in become open items (their held documents are written)."""
    ctx = sim.ctx("final", sim.world.facilities[0], sim.timeline.horizon - 1)
    beds.write_master(sim, ctx, seeding)
    stock.snapshots(sim, stock.book(sim, "drug"), "pharmacy_stock", _DRUG_NAMES)
    stock.snapshots(sim, stock.book(sim, "item"), "stock_levels", _ITEM_NAMES)
    for fac in sim.world.facilities:
        for ip in census(sim, fac.idx):
            for held in (ip.adm, ip.enc, ip.assign, ip.deposit, (ip.surgery or {}).get("ot")):
                if held is not None:
                    held.release(sim.sink)
            sim.open_items.append({"kind": "inpatient", "due_ms": ip.discharge_ms,
                                   "data": {"_id": ip.adm.doc["_id"], "fac_idx": fac.idx, **ip.dump()}})
    yield from sim.sink.ready(flush=True)


def restore(sim: Sim, state: dict[str, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Put a saved run's state back; returns the open items that the resolvers handle."""
    books = sim.state.setdefault("stock", {})
    for name, raw in state.get("stock", {}).items():
        books[name] = stock.StockBook.load(name, raw)
    sim.state["leave_until"] = dict(state.get("leave_until", {}))
    sim.state["hr_from_day"] = state.get("hr_from_day", 0)
    bed_state = beds.beds(sim)
    rest = []
    for item in items:
        data = item["data"]
        if item["kind"] == "inpatient":
            ip = Inpatient.load({k: v for k, v in data.items() if k not in ("_id", "fac_idx")})
            census(sim, data["fac_idx"]).append(ip)
            bed = bed_state[ip.bed_id]
            bed.free_at, bed.status, bed.admission_id = ip.discharge_ms + 3 * 3_600_000, "occupied", ip.adm.doc["_id"]
            continue
        if item["kind"] == "bed_ready":
            bed = bed_state[data["bed_id"]]
            bed.free_at, bed.status = max(bed.free_at, item["due_ms"]), "cleaning"
        rest.append(item)
    return rest


def saved_state(sim: Sim) -> dict[str, Any]:
    return {"stock": {name: bk.dump() for name, bk in sim.state.get("stock", {}).items()},
            "leave_until": sim.state.get("leave_until", {}), "hr_from_day": sim.state.get("hr_from_day", 0)}


def hr_start(timeline: Timeline, scale: float) -> int:
    return hr.hr_from_day(timeline.horizon, scale)
