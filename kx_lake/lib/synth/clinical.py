"""A consultation and everything it writes: the encounter (diagnoses as structs, or bare codes from
the v1 app, M02; a denormalised facility_name with a second spelling for one facility, M19), vitals
(epoch-millis, M09), coded diagnoses, notes, referrals, and the orders its diagnosis calls for:
prescription, lab tests, imaging, and the bill. OPD, walk-ins, ER and admissions all go through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kx_lake.lib.synth import messes
from kx_lake.lib.synth import vocab_clinical as vc
from kx_lake.lib.synth import vocab_ops as vo
from kx_lake.lib.synth.admin import after_visit, audit
from kx_lake.lib.synth.billing import create_bill
from kx_lake.lib.synth.clock import MIN_MS, season_of, to_datetime
from kx_lake.lib.synth.lab import order_lab
from kx_lake.lib.synth.pharmacy import prescribe
from kx_lake.lib.synth.radiology import available, order_radiology
from kx_lake.lib.synth.rng import digits, pick
from kx_lake.lib.synth.sim import DayCtx
from kx_lake.lib.synth.tables import cum
from kx_lake.lib.synth.vocab_care import pathway
from kx_lake.lib.synth.world import Doctor

ICD = {c[0]: c for c in vc.ICD10}
FEMALE_ONLY = {"Z34.9", "O80", "O82", "N92.0", "E28.2", "C50.9"}
MALE_ONLY = {"N40.0"}
CHILD = {"Z00.1", "Z23", "P59.9"}
_TABLES: dict[tuple[str, str], tuple[list[str], list[float]]] = {}


@dataclass(slots=True)
class Visit:
    encounter_id: Any
    end_ms: int
    codes: list[str]
    bill_id: Any


def _table(spec: str, season: str) -> tuple[list[str], list[float]]:
    key = (spec, season)
    if key not in _TABLES:
        rows = [c for c in vc.ICD10 if c[2] == spec] or [c for c in vc.ICD10 if c[2] == "GM"]
        weights = [c[4] * (2.5 if c[3] == season else 0.6 if c[3] != "all" else 1.0) for c in rows]
        _TABLES[key] = ([c[0] for c in rows], cum(weights))
    return _TABLES[key]


def diagnose(ctx: DayCtx, spec: str, patient: Any) -> list[str]:
    codes, cw = _table(spec, season_of(ctx.tl.day(ctx.d)))
    for _ in range(6):
        code = ctx.rng.choices(codes, cum_weights=cw)[0]
        if (code in FEMALE_ONLY and patient.gender != "F") or (code in MALE_ONLY and patient.gender != "M") \
                or (code in CHILD and patient.age > 14) or (ICD[code][5] and patient.age < 12):
            continue
        break
    else:
        code = "R50.9"
    out = [code]
    if patient.age > 40 and ctx.rng.random() < 0.3:
        chronic = pick(ctx.rng, ("I10", "E11.9", "E78.5", "E03.9"))
        if chronic != code:
            out.append(chronic)
    return out


def vitals(ctx: DayCtx, patient: Any, encounter_id: Any, at_ms: int, codes: list[str], by: str) -> None:
    rng = ctx.rng
    fever = any(ICD[c][3] in ("monsoon", "winter") and c[0] in "ABJR" for c in codes)
    htn = "I10" in codes
    adult = patient.age >= 14
    weight = round(rng.gauss(68 if patient.gender == "M" else 58, 11) if adult else 3 + patient.age * 2.6, 1)
    height = round(rng.gauss(168 if patient.gender == "M" else 155, 7) if adult else 50 + patient.age * 6.5)
    ctx.emit("vitals", {
        "_id": ctx.oid(at_ms), "facility_id": ctx.fac.id, "patient_id": patient.id, "encounter_id": encounter_id,
        "recorded_by": by, "readings": {
            "bp": {"systolic": round(rng.gauss(148 if htn else 122, 12)),
                   "diastolic": round(rng.gauss(92 if htn else 79, 8))},
            "pulse": round(rng.gauss(96 if fever else 80, 10)),
            "temp_c": round(rng.gauss(38.6 if fever else 36.8, 0.4), 1),
            "spo2": min(100, round(rng.gauss(97, 1.5))), "resp_rate": round(rng.gauss(18, 2)),
            "weight_kg": max(2.0, weight), "height_cm": max(45, height),
            "bmi": round(max(2.0, weight) / (max(45, height) / 100) ** 2, 1)},
        "device": {"id": f"MON-{ctx.fac.idx:02d}{rng.randint(1, 20):02d}", "type": rng.choice(("manual", "monitor"))}},
        at_ms)


def _immunize(ctx: DayCtx, patient: Any, doctor: Doctor, enc_id: Any, at: int, nurse: str) -> None:
    rng = ctx.rng
    child = patient.age <= 14
    for vaccine in rng.sample(vo.VACCINES[:7] if child else vo.VACCINES[7:], rng.randint(1, 2)):
        ctx.emit("immunizations", {
            "_id": ctx.oid(at), "facility_id": ctx.fac.id, "patient_id": patient.id, "encounter_id": enc_id,
            "vaccine": vaccine, "dose_number": rng.randint(1, 3), "lot_no": f"VL{digits(rng, 6)}",
            "site": rng.choice(("left deltoid", "right deltoid", "left thigh", "oral")), "route":
            "oral" if vaccine in ("OPV", "Rotavirus") else "IM", "administered_by": nurse, "ordered_by": doctor.id,
            "programme": "UIP" if child and rng.random() < 0.6 else "private",
            "next_due_on": to_datetime(ctx.tl.start_ms(ctx.d) + rng.choice((28, 42, 180)) * 86_400_000)
            if child else None}, at)


def consult(ctx: DayCtx, *, patient: Any, doctor: Doctor, start_ms: int, source: str,
            appointment_id: Any = None, payer_id: str = "CASH", billed: bool = True, codes: list[str] | None = None,
            waited: int = 0, free_follow_up: bool = False) -> Visit:
    """One consultation; returns the encounter id, its end and the diagnosis codes."""
    rng, fac = ctx.rng, ctx.fac
    codes = codes or diagnose(ctx, doctor.specialty, patient)
    path = pathway(codes[0])
    end = start_ms + rng.randint(6, 25) * MIN_MS
    enc_id = ctx.oid(start_ms)
    nurse = ctx.staff("Staff Nurse", "Front Office Executive")
    if source != "IPD" and rng.random() < 0.9:
        vitals(ctx, patient, enc_id, start_ms - rng.randint(2, 10) * MIN_MS, codes, nurse)
    structs = [{"code": c, "description": ICD[c][1], "type": "primary" if i == 0 else "secondary",
                "status": rng.choice(("provisional", "confirmed", "confirmed"))} for i, c in enumerate(codes)]
    for d in structs:
        ctx.emit("diagnoses", {"_id": ctx.oid(end), "facility_id": fac.id, "encounter_id": enc_id,
                               "patient_id": patient.id, "doctor_id": doctor.id, **d,
                               "chronic": ICD[d["code"]][5], "diagnosed_at": to_datetime(end)}, end)
    if codes[0] == "Z23" or (patient.age <= 14 and rng.random() < 0.1) or (source == "OPD" and rng.random() < 0.01):
        _immunize(ctx, patient, doctor, enc_id, end, nurse)
    orders: dict[str, Any] = {}
    labs = [t for t in path[2] if rng.random() < 0.55] if rng.random() < 0.45 else []
    if labs:
        orders["lab_order_id"] = order_lab(ctx, patient=patient, tests=labs, at_ms=end, encounter_id=enc_id,
                                           doctor_id=doctor.id, source=source, suspect=0.35)
    rads = available(ctx, path[3])
    if rads and rng.random() < (0.25 if source == "OPD" else 0.5):
        orders["radiology_order_id"] = order_radiology(ctx, patient=patient, code=rads[0], at_ms=end,
                                                       encounter_id=enc_id, doctor_id=doctor.id, source=source)
    if path[4] and source != "IPD" and rng.random() < 0.8:
        orders["prescription_id"] = prescribe(ctx, patient=patient, doctor_id=doctor.id, encounter_id=enc_id,
                                              drugs=[d for d in path[4] if rng.random() < 0.75] or [path[4][0]],
                                              at_ms=end)
    if rng.random() < 0.3:
        ctx.emit("clinical_notes", {
            "_id": ctx.oid(end), "facility_id": fac.id, "encounter_id": enc_id, "patient_id": patient.id,
            "author_id": doctor.id, "note_type": "SOAP", "note_text": f"Pt c/o {path[1]} x {rng.randint(1, 10)} days. "
            f"O/E vitals stable. Impression: {ICD[codes[0]][1]}. Plan: as advised, review SOS.",
            "sections": {"subjective": path[1], "assessment": ICD[codes[0]][1], "plan": {
                "orders": [k for k in orders], "follow_up_days": rng.choice((None, 5, 7, 14))}}}, end)
    if rng.random() < 0.03 and fac.siblings:
        other = ctx.world.facilities[pick(rng, fac.siblings)]
        ctx.emit("referrals", {"_id": ctx.oid(end), "facility_id": fac.id, "patient_id": patient.id,
                               "encounter_id": enc_id, "from_doctor_id": doctor.id, "to_facility_id": other.id,
                               "to_doctor_id": pick(rng, other.doctors).id if other.doctors else None,
                               "reason": f"Further evaluation of {ICD[codes[0]][1].lower()}",
                               "urgency": rng.choice(("routine", "urgent")), "status": "sent"}, end)
    bill_id = None
    if billed:
        lines = [(f"CONS-{doctor.specialty}" if source != "ER" else "ER-CONSULT", 1)]
        lines += [(f"LAB-{t}", 1) for t in labs] + [(f"RAD-{r}", 1) for r in rads[:1] if "radiology_order_id" in orders]
        if source != "IPD" and rng.random() < 0.15:
            lines.append(("REG", 1))
        bill = create_bill(ctx, patient=patient, encounter_id=enc_id, kind="ER" if source == "ER" else "OP",
                           payer_id=payer_id, lines=lines, at_ms=end + 2 * MIN_MS, doctor_id=doctor.id,
                           waive=free_follow_up)
        bill_id = bill["_id"] if bill else None
    enc = {"_id": enc_id, "encounter_no": f"EN-{digits(rng, 10)}", "type": source, "facility_id": fac.id,
           "facility_name": messes.facility_name(rng, fac, ctx.world.facilities[0].id),
           "department_id": doctor.department_id, "doctor_id": doctor.id, "patient_id": patient.id,
           "patient": {"name": patient.name, "gender": patient.gender, "age_years": patient.age},
           "appointment_id": appointment_id, "started_at": to_datetime(start_ms), "ended_at": to_datetime(end),
           "chief_complaint": path[1], "diagnoses": messes.diagnoses_value(rng, structs) if rng.random() > 0.02 else [],
           "orders": orders, "bill_id": bill_id, "status": "closed"}
    if rng.random() < 0.1:
        enc["referring_doctor_id"] = pick(rng, ctx.world.doctors).id
    ctx.emit("encounters", enc, start_ms, end + 5 * MIN_MS)
    audit(ctx, end, doctor.id, "CREATE", "encounter", enc_id)
    if source != "IPD":
        after_visit(ctx, patient.id, enc_id, doctor.id, end, waited)
    return Visit(enc_id, end, codes, bill_id)
