"""Operation theatre and blood bank: OT bookings (held until the surgery happens), surgeries with
timings, anaesthesia, implants and complications, consents, and blood units collected at donation
camps (with component shelf lives) and issued for transfusions during surgery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kx_lake.lib.synth import vocab_ops as vo
from kx_lake.lib.synth import volumes
from kx_lake.lib.synth.beds import beds
from kx_lake.lib.synth.clock import DAY_MS, HOUR_MS, MIN_MS, to_datetime
from kx_lake.lib.synth.patients import patient
from kx_lake.lib.synth.pharmacy import dispense
from kx_lake.lib.synth.rng import digits, pick, poisson
from kx_lake.lib.synth.sim import DayCtx, Held

if TYPE_CHECKING:
    from kx_lake.lib.synth.adt import Inpatient

PROCS = {p[0]: p for p in vo.PROCEDURES}
IMPLANTS = {"TKR": ("Knee prosthesis", "Zimmer"), "PTCA": ("Drug-eluting stent", "Meril"),
            "CATARACT": ("Foldable IOL", "Alcon"), "ORIF": ("Locking plate", "Synthes")}


def consent(ctx: DayCtx, p_id: str, adm_id: Any, kind: str, at: int) -> None:
    ctx.emit("consents", {"_id": ctx.oid(at), "facility_id": ctx.fac.id, "patient_id": p_id, "admission_id": adm_id,
                          "consent_type": kind, "signed_by": ctx.rng.choice(("patient", "patient", "relative")),
                          "witness_id": pick(ctx.rng, ctx.fac.staff).id, "signed_at": to_datetime(at),
                          "form_version": ctx.rng.choice(("v3", "v4")), "language": "en"}, at)


def book(ctx: DayCtx, ip: Inpatient, code: str, at_ms: int) -> None:
    rng = ctx.rng
    day0 = ctx.tl.start_ms(0)
    when = max(at_ms + 2 * HOUR_MS, day0 + ((at_ms - day0) // DAY_MS + rng.randint(0, 1)) * DAY_MS
               + rng.randint(8 * 60, 16 * 60) * MIN_MS)  # lists run 08:00-17:00
    if ip.discharge_ms < when + 6 * HOUR_MS:  # recover at least overnight after the procedure
        ip.discharge_ms = day0 + ((when - day0) // DAY_MS + 1) * DAY_MS + rng.randint(10 * 60, 15 * 60) * MIN_MS
        beds(ctx.sim)[ip.bed_id].free_at = ip.discharge_ms + 3 * HOUR_MS
    if code == "NVD":
        ip.surgery = {"code": code, "at": when, "surgeon_id": ip.doctor_id}
        return
    booked = max(ctx.sim.sink.floor_ms, at_ms - rng.randint(1, 7) * DAY_MS)
    ot_id = ctx.oid(booked)
    doc = {"_id": ot_id, "facility_id": ctx.fac.id, "admission_id": ip.adm.doc["_id"], "procedure_code": code,
           "surgeon_id": ip.doctor_id, "ot_room": f"OT-{rng.randint(1, 4)}", "scheduled_at": to_datetime(when),
           "expected_minutes": PROCS[code][4], "status": "scheduled"}
    ip.surgery = {"code": code, "at": when, "surgeon_id": ip.doctor_id, "ot": Held("ot_bookings", doc, booked)}


def perform(ctx: DayCtx, ip: Inpatient) -> None:
    rng, s = ctx.rng, ip.surgery
    s["done"] = True
    code, start = s["code"], s["at"]
    proc = PROCS[code]
    p_id = patient(ctx.sim, ctx.world.facilities[ip.patient[0]], ip.patient[1]).id
    minutes = max(20, int(proc[4] * rng.uniform(0.8, 1.5))) if proc[4] else rng.randint(120, 300)
    end = min(start + minutes * MIN_MS, ip.discharge_ms - MIN_MS)
    if proc[5]:
        consent(ctx, p_id, ip.adm.doc["_id"], "surgery_and_anaesthesia", start - 2 * HOUR_MS)
    others = [d.id for d in ctx.fac.doctors if d.id != s["surgeon_id"]]
    doc = {"_id": ctx.oid(start), "facility_id": ctx.fac.id, "admission_id": ip.adm.doc["_id"], "patient_id": p_id,
           "procedure_code": code, "procedure_name": proc[1], "surgeon_id": s["surgeon_id"],
           "assistant_ids": rng.sample(others, min(len(others), rng.randint(0, 2))),
           "anaesthesia": {"type": proc[5] or None,
                           "anaesthetist_id": pick(rng, others) if others and proc[5] else None,
                           "asa_grade": rng.choice((1, 1, 2, 2, 3))},
           "timeline": {"in_ot": to_datetime(start - 20 * MIN_MS), "incision": to_datetime(start),
                        "closure": to_datetime(end), "out_ot": to_datetime(end + 15 * MIN_MS)},
           "blood_loss_ml": rng.randint(20, 600), "implants": [], "complications": [], "status": "completed"}
    if code in IMPLANTS:
        name, maker = IMPLANTS[code]
        doc["implants"] = [{"name": name, "manufacturer": maker, "lot_no": digits(rng, 8),
                            "udi": f"(01){digits(rng, 14)}"}]
    if rng.random() < 0.04:
        doc["complications"] = [{"type": rng.choice(("bleeding", "infection", "anaesthesia reaction")),
                                 "clavien_dindo": rng.choice(("I", "II"))}]
    ctx.emit("surgeries", doc, start, end + 20 * MIN_MS)
    if "ot" in s:
        s["ot"].change(ctx.sim.sink, {"status": "completed", "actual_minutes": minutes}, end + 20 * MIN_MS)
        s["ot"].release(ctx.sim.sink)
    if proc[5] == "general":
        dispense(ctx, admission_id=ip.adm.doc["_id"], patient_id=p_id, ward_id=beds(ctx.sim)[ip.bed_id].ward.id,
                 drugs=["D025", "D024"], at_ms=start - 10 * MIN_MS)
    if volumes.rare(rng, 0.12, ctx.world.scale) and "LAB" in ctx.fac.departments:
        unit = blood_unit(ctx, start - rng.randint(2, 30) * DAY_MS, start, issued=True)
        ctx.emit("blood_transfusions", {"_id": ctx.oid(start), "facility_id": ctx.fac.id, "unit_id": unit,
                                        "patient_id": p_id, "admission_id": ip.adm.doc["_id"],
                                        "started_at": to_datetime(start + 30 * MIN_MS), "volume_ml": 350,
                                        "reaction": None if rng.random() > 0.02 else {"type": "febrile", "grade": 1},
                                        "administered_by": pick(rng, ctx.fac.staff).id}, start + 30 * MIN_MS)


def blood_unit(ctx: DayCtx, collected: int, at: int, issued: bool = False) -> Any:
    rng = ctx.rng
    comp, shelf, _w = rng.choices(vo.BLOOD_COMPONENTS, weights=[c[2] for c in vo.BLOOD_COMPONENTS])[0]
    unit_id = ctx.oid(collected)
    ctx.emit("blood_bank_units", {
        "_id": unit_id, "facility_id": ctx.fac.id, "unit_no": f"BU{digits(rng, 8)}", "component": comp,
        "blood_group": rng.choices(vo.BLOOD_GROUPS, cum_weights=vo.BLOOD_GROUP_CUM)[0],
        "collected_at": to_datetime(collected), "expires_at": to_datetime(collected + shelf * DAY_MS),
        "volume_ml": 350 if comp in ("PRBC", "WB") else 200, "donor": {"type": rng.choice(("voluntary", "replacement")),
                                                                       "camp": rng.random() < 0.5},
        "tests": {"hiv": "NR", "hbsag": "NR", "hcv": "NR", "vdrl": "NR", "malaria": "NR"},
        "status": "issued" if issued else "available"}, min(collected, at), at)
    return unit_id


def blood_bank(ctx: DayCtx) -> None:
    """Units collected today at multispeciality hospitals' blood banks."""
    if ctx.fac.type != "multispeciality":
        return
    for _ in range(poisson(ctx.rng, volumes.per_day(ctx.fac, ctx.world.scale, volumes.BLOOD_DONATIONS, rare=True))):
        at = ctx.tl.between(ctx.rng, ctx.d, 9, 17)
        blood_unit(ctx, at, at)
