"""Bed state: when each bed is next free and its current status, the bed_status_events stream
(epoch-millis `event_ts`, partitioned by facility and ward) and the beds master, written at the end
of a run with each bed's current status (inserted by `seed`, updated by _id by `mutate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kx_lake.lib.synth.clock import HOUR_MS, MIN_MS
from kx_lake.lib.synth.masters_org import master_times
from kx_lake.lib.synth.rng import pick
from kx_lake.lib.synth.sim import Change, DayCtx, Sim, resolver
from kx_lake.lib.synth.world import Ward


@dataclass
class Bed:
    ward: Ward
    free_at: int = 0
    status: str = "available"
    last_ms: int = 0
    admission_id: Any = None


def beds(sim: Sim) -> dict[str, Bed]:
    if "beds" not in sim.state:
        sim.state["beds"] = {b: Bed(w) for f in sim.world.facilities for w in f.wards for b in w.bed_ids}
        sim.state["beds_touched"] = set()
    return sim.state["beds"]


def event(ctx: DayCtx, bed_id: str, status: str, at_ms: int, admission_id: Any = None) -> None:
    bed = beds(ctx.sim)[bed_id]
    ctx.emit("bed_status_events", {
        "_id": ctx.oid(at_ms), "facility_id": ctx.fac.id, "ward_id": bed.ward.id, "bed_id": bed_id,
        "status": status, "previous_status": bed.status, "admission_id": admission_id,
        "changed_by": pick(ctx.rng, ctx.fac.staff).id}, at_ms)
    if at_ms >= bed.last_ms:
        bed.status, bed.last_ms, bed.admission_id = status, at_ms, admission_id
    ctx.sim.state["beds_touched"].add(bed_id)


def find_bed(ctx: DayCtx, categories: list[str], at_ms: int) -> str | None:
    """A bed of the first category that has one free at at_ms."""
    state = beds(ctx.sim)
    for cat in categories:
        free = [b for w in ctx.fac.wards if w.category == cat for b in w.bed_ids if state[b].free_at <= at_ms]
        if free:
            return pick(ctx.rng, free)
    return None


def occupy(ctx: DayCtx, bed_id: str, at_ms: int, until_ms: int, admission_id: Any) -> None:
    beds(ctx.sim)[bed_id].free_at = until_ms + 3 * HOUR_MS
    event(ctx, bed_id, "occupied", at_ms, admission_id)


def vacate(ctx: DayCtx, bed_id: str, at_ms: int, admission_id: Any) -> None:
    """Patient leaves: cleaning now, available after housekeeping (possibly after the horizon)."""
    bed = beds(ctx.sim)[bed_id]
    event(ctx, bed_id, "cleaning", at_ms, admission_id)
    ready = at_ms + ctx.rng.randint(35, 170) * MIN_MS
    bed.free_at = ready
    ctx.schedule("bed_ready", ready, {"_id": f"{bed_id}@{ready}", "bed_id": bed_id})


@resolver("bed_ready", "bed_status_events")
def _ready(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    event(ctx, data["bed_id"], "available", due)
    return []


def maintenance(ctx: DayCtx) -> None:
    """Occasionally a free bed is blocked for repairs for a few hours."""
    if not ctx.fac.wards or ctx.rng.random() > 0.04:
        return
    at = ctx.tl.between(ctx.rng, ctx.d, 9, 16)
    bed_id = find_bed(ctx, [w.category for w in ctx.fac.wards], at)
    if bed_id:
        until = at + ctx.rng.randint(2, 6) * HOUR_MS
        beds(ctx.sim)[bed_id].free_at = until
        event(ctx, bed_id, "blocked", at)
        ctx.schedule("bed_ready", until, {"_id": f"{bed_id}@{until}", "bed_id": bed_id})


def write_master(sim: Sim, ctx: DayCtx, seeding: bool) -> None:
    """Beds master: every bed when seeding; beds whose status changed when mutating."""
    state = beds(sim)
    touched = sim.state["beds_touched"]
    for fac in sim.world.facilities:
        for ward in fac.wards:
            for n, bed_id in enumerate(ward.bed_ids, start=1):
                bed = state[bed_id]
                fields = {"status": bed.status, "current_admission_id": bed.admission_id if bed.status == "occupied"
                          else None}
                if seeding:
                    created, updated = master_times(ctx)
                    sim.sink.emit("beds", {"_id": bed_id, "facility_id": fac.id, "ward_id": ward.id,
                                           "bed_no": f"{ward.category}-{ward.floor}{n:02d}", "category": ward.category,
                                           "features": {"oxygen": True, "suction": ward.category in ("ICU", "NICU"),
                                                        "monitor": ward.category in ("ICU", "NICU")},
                                           "daily_rate": ward.rate, **fields}, created, max(updated, bed.last_ms))
                elif bed_id in touched:
                    sim.sink.update("beds", bed_id, fields, bed.last_ms)
    touched.clear()
