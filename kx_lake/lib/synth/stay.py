"""What happens to an inpatient between admission and discharge: daily care (vitals, nursing notes,
dispensations, lab work), a bed transfer, and the discharge itself (bed vacated, final bill, claim,
discharge summary with a null follow-up date when none is advised, M13).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from kx_lake.lib.synth import beds as bedmod
from kx_lake.lib.synth import claims
from kx_lake.lib.synth.admin import audit, notify
from kx_lake.lib.synth.billing import create_bill
from kx_lake.lib.synth.clinical import ICD, vitals
from kx_lake.lib.synth.clock import DAY_MS, HOUR_MS, MIN_MS, to_datetime
from kx_lake.lib.synth.lab import order_lab
from kx_lake.lib.synth.patients import patient
from kx_lake.lib.synth.pharmacy import dispense
from kx_lake.lib.synth.sim import DayCtx, Held
from kx_lake.lib.synth.vocab_care import pathway

if TYPE_CHECKING:
    from kx_lake.lib.synth.adt import Inpatient

DISPOSITIONS = (("home", 88), ("home_on_request", 93), ("lama", 96), ("referred", 98.5), ("death", 100))


def _nurse(ctx: DayCtx) -> str:
    return ctx.staff("Staff Nurse")


def care_day(ctx: DayCtx, ip: Inpatient) -> None:
    lo, hi = max(ctx.day_ms, ip.admit_ms), min(ctx.day_ms + DAY_MS, ip.discharge_ms)
    if hi <= lo:
        return
    rng, p = ctx.rng, patient(ctx.sim, ctx.world.facilities[ip.patient[0]], ip.patient[1])
    adm_id, enc_id = ip.adm.doc["_id"], ip.enc.doc["_id"]
    for hour in (6, 18):
        at = ctx.day_ms + hour * HOUR_MS + rng.randrange(40) * MIN_MS
        if lo <= at < hi:
            vitals(ctx, p, enc_id, at, ip.codes, _nurse(ctx))
    at = ctx.day_ms + 9 * HOUR_MS + rng.randrange(60) * MIN_MS
    if lo <= at < hi:
        drugs = [d for d in pathway(ip.codes[0])[4][:3]] + (["D031"] if rng.random() < 0.5 else [])
        dispense(ctx, admission_id=adm_id, patient_id=p.id, ward_id=bedmod.beds(ctx.sim)[ip.bed_id].ward.id,
                 drugs=drugs or ["D001"], at_ms=at)
        if rng.random() < 0.3:
            tests = list(pathway(ip.codes[0])[2][:2]) or ["CBC"]
            ip.labs.extend(tests)
            order_lab(ctx, patient=p, tests=tests, at_ms=at, encounter_id=enc_id, doctor_id=ip.doctor_id,
                      source="IPD", suspect=0.45)
    at = ctx.day_ms + 20 * HOUR_MS + rng.randrange(90) * MIN_MS
    if lo <= at < hi:
        ctx.emit("nursing_notes", {
            "_id": ctx.oid(at), "facility_id": ctx.fac.id, "admission_id": adm_id, "patient_id": p.id,
            "nurse_id": _nurse(ctx), "shift": "evening", "note_text": rng.choice((
                "Patient comfortable, vitals stable, taking orally.", "Afebrile. IV line patent. Slept well.",
                "Complains of mild pain, analgesic given as per chart.", "Ambulating with support.")),
            "intake_output": {"intake_ml": rng.randint(1200, 2800), "output_ml": rng.randint(900, 2400)},
            "pain_score": rng.randint(0, 6), "fall_risk": rng.choice(("low", "low", "moderate"))}, at)


def transfer(ctx: DayCtx, ip: Inpatient) -> None:
    at, ip.transfer_ms = ip.transfer_ms, None
    target = ["SEMI", "GEN"] if ip.category == "ICU" else (["ICU"] if ctx.rng.random() < 0.3 else ["PVT", "SEMI"])
    new_bed = bedmod.find_bed(ctx, [c for c in target if c != ip.category], at)
    if new_bed is None or at >= ip.discharge_ms:
        return
    old_bed, adm_id = ip.bed_id, ip.adm.doc["_id"]
    ward = bedmod.beds(ctx.sim)[new_bed].ward
    old_ward = bedmod.beds(ctx.sim)[old_bed].ward
    reason = "step-down" if ip.category == "ICU" else "clinical deterioration" if ward.category == "ICU" \
        else "upgrade on request"
    bedmod.vacate(ctx, old_bed, at, adm_id)
    bedmod.occupy(ctx, new_bed, at + 10 * MIN_MS, ip.discharge_ms, adm_id)
    ip.assign.change(ctx.sim.sink, {"to": to_datetime(at), "end_reason": "transfer"}, at)
    ip.assign.release(ctx.sim.sink)
    asg_id = ctx.oid(at)
    ip.assign = Held("bed_assignments", {"_id": asg_id, "facility_id": ctx.fac.id, "admission_id": adm_id,
                                         "patient_id": patient(ctx.sim, ctx.world.facilities[ip.patient[0]],
                                                               ip.patient[1]).id, "ward_id": ward.id,
                                         "bed_id": new_bed, "from": to_datetime(at + 10 * MIN_MS), "to": None,
                                         "reason": "transfer"}, at + 10 * MIN_MS)
    ctx.emit("transfers", {"_id": ctx.oid(at), "facility_id": ctx.fac.id, "admission_id": adm_id,
                           "from": {"ward_id": old_ward.id, "bed_id": old_bed, "category": ip.category},
                           "to": {"ward_id": ward.id, "bed_id": new_bed, "category": ward.category},
                           "reason": reason, "ordered_by": ip.doctor_id, "transferred_at": to_datetime(at)}, at)
    ip.adm.change(ctx.sim.sink, {"ward_id": ward.id, "bed_id": new_bed, "bed_category": ward.category}, at,
                  {"transfers": {"from_bed": old_bed, "to_bed": new_bed, "at": to_datetime(at), "reason": reason}})
    ip.bed_id, ip.category = new_bed, ward.category
    ip.segments.append({"category": ward.category, "from_ms": at})


def discharge(ctx: DayCtx, ip: Inpatient) -> None:
    rng, sink, at = ctx.rng, ctx.sim.sink, ip.discharge_ms
    p = patient(ctx.sim, ctx.world.facilities[ip.patient[0]], ip.patient[1])
    adm_id = ip.adm.doc["_id"]
    disposition = rng.choices([d[0] for d in DISPOSITIONS], cum_weights=[d[1] for d in DISPOSITIONS])[0]
    bedmod.vacate(ctx, ip.bed_id, at, adm_id)
    ip.assign.change(sink, {"to": to_datetime(at), "end_reason": "discharge"}, at)
    doctor = ctx.world.doctor_by_id[ip.doctor_id]
    days = max(1, math.ceil((at - ip.admit_ms) / DAY_MS))
    lines: list[tuple[str, float]] = []
    bounds = [s["from_ms"] for s in ip.segments[1:]] + [at]
    for seg, stop in zip(ip.segments, bounds, strict=True):
        lines.append((f"ROOM-{seg['category']}", max(1, math.ceil((stop - seg["from_ms"]) / DAY_MS))))
    lines += [(f"CONS-{doctor.specialty}", days), ("DIET", days), ("ECG", 1)] + [(f"LAB-{t}", 1) for t in ip.labs]
    if ip.surgery:
        lines.append((f"PROC-{ip.surgery['code']}", 1))
    bill = create_bill(ctx, patient=p, encounter_id=ip.enc.doc["_id"], kind="IP", payer_id=ip.payer_id,
                       lines=lines, at_ms=at - 40 * MIN_MS, doctor_id=ip.doctor_id,
                       then=lambda data: claims.on_discharge(ctx, ip, data, at))
    summary_id = ctx.oid(at)
    follow = at + rng.choice((5, 7, 10, 14)) * DAY_MS if disposition == "home" and rng.random() < 0.8 else None
    ctx.emit("discharges", {
        "_id": summary_id, "facility_id": ctx.fac.id, "admission_id": adm_id, "patient_id": p.id,
        "discharged_at": to_datetime(at), "disposition": disposition, "los_days": round((at - ip.admit_ms) / DAY_MS, 2),
        "summary": {"final_diagnoses": [{"code": c, "description": ICD[c][1]} for c in ip.codes],
                    "procedures": [ip.surgery["code"]] if ip.surgery else [],
                    "condition_at_discharge": "expired" if disposition == "death" else rng.choice(
                        ("stable", "improved", "improved")),
                    "medications": list(pathway(ip.codes[0])[4][:3])},
        "follow_up_on": to_datetime(follow - (follow - ctx.tl.start_ms(0)) % DAY_MS) if follow else None,
        "discharged_by": ip.doctor_id, "bill_id": bill["_id"] if bill else None}, at)
    ip.adm.change(sink, {"status": "discharged", "discharged_at": to_datetime(at), "discharge": {
        "disposition": disposition, "summary_id": summary_id}, "los_days": round((at - ip.admit_ms) / DAY_MS, 2),
        "final_bill_id": bill["_id"] if bill else None}, at)
    ip.enc.change(sink, {"ended_at": to_datetime(at), "status": "closed"}, at)
    for held in (ip.adm, ip.enc, ip.assign, ip.deposit):
        if held is not None:
            held.release(sink)
    notify(ctx, p.id, "discharge_summary", ("discharges", summary_id), at + 30 * MIN_MS)
    audit(ctx, at, ip.doctor_id, "DISCHARGE", "admission", adm_id)
