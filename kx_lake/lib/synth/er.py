"""Emergency: arrivals around the clock (evening peak, monsoon surge), triage into five levels, time
to doctor by level, a consultation, and a disposition: admission when a bed is free (about a fifth,
most of the sickest), discharge, leaving against advice, referral, or death. A quarter arrive by
ambulance.
"""

from __future__ import annotations

from kx_lake.lib.synth import adt, volumes
from kx_lake.lib.synth.admin import ambulance_trip, audit
from kx_lake.lib.synth.billing import pick_payer
from kx_lake.lib.synth.clinical import consult, diagnose
from kx_lake.lib.synth.clock import ER_HOUR_CUM, ER_HOURS, MIN_MS, to_datetime
from kx_lake.lib.synth.patients import patient, pick_patient
from kx_lake.lib.synth.rng import bounded_lognormal, pick, poisson
from kx_lake.lib.synth.sim import Change, DayCtx, resolver

LEVELS = ((1, "red", 3), (2, "orange", 15), (3, "yellow", 50), (4, "green", 85), (5, "blue", 100))
WAIT_MIN = {1: 1, 2: 6, 3: 18, 4: 35, 5: 50}
ADMIT_P = {1: 0.8, 2: 0.55, 3: 0.22, 4: 0.06, 5: 0.02}


def day(ctx: DayCtx) -> None:
    fac = ctx.fac
    if not fac.has_er:
        return
    rng = ctx.rng
    for _ in range(poisson(rng, volumes.per_day(fac, ctx.world.scale, volumes.ER_VISITS, ctx.tl.er_factor(ctx.d)))):
        p = pick_patient(ctx, same_facility=0.97)
        arrive = ctx.tl.at_hour(rng, ctx.d, ER_HOURS, ER_HOUR_CUM)
        ctx.schedule("er_visit", arrive, {"_id": ctx.oid(arrive), "p": [p.fac_idx, p.index]})


@resolver("er_visit", "er_visits", slack_h=10)
def _visit(ctx: DayCtx, data: dict, arrive: int) -> list[Change]:
    rng, fac, visit_id = ctx.rng, ctx.fac, data["_id"]
    p = patient(ctx.sim, ctx.world.facilities[data["p"][0]], data["p"][1])
    level, colour, _ = rng.choices(LEVELS, cum_weights=[lv[2] for lv in LEVELS])[0]
    triage_at = arrive + int(bounded_lognormal(rng, 4, 0.5, 0, 30) * MIN_MS)
    seen = triage_at + int(bounded_lognormal(rng, WAIT_MIN[level], 0.6, 0, 240) * MIN_MS)
    doctor = pick(rng, fac.doctors_of("EM") or fac.doctors)
    codes = diagnose(ctx, "EM" if rng.random() < 0.6 else pick(rng, ("GM", "CAR", "PUL", "GAS", "ORT")), p)
    by_ambulance = rng.random() < (0.6 if level <= 2 else 0.18)
    trip = ambulance_trip(ctx, p.id, arrive - rng.randint(15, 45) * MIN_MS, "emergency") if by_ambulance else None
    nurse = ctx.staff("Staff Nurse")
    ctx.emit("triage_assessments", {
        "_id": ctx.oid(triage_at), "facility_id": fac.id, "er_visit_id": visit_id, "patient_id": p.id,
        "level": level, "colour": colour, "nurse_id": nurse, "assessed_at": to_datetime(triage_at),
        "vitals": {"gcs": 15 if level > 2 else rng.randint(6, 14), "spo2": rng.randint(85 if level <= 2 else 94, 100),
                   "pulse": rng.randint(60, 140), "sbp": rng.randint(80 if level <= 2 else 100, 180)},
        "pain_score": rng.randint(0, 10), "red_flags": ["chest pain"] if codes[0] in ("I21.9", "R07.4") else []},
        triage_at)
    visit = consult(ctx, patient=p, doctor=doctor, start_ms=seen, source="ER", payer_id=pick_payer(ctx),
                    codes=codes, waited=(seen - arrive) // MIN_MS)
    disposition, admission_id = "discharged", None
    if rng.random() < ADMIT_P[level] and fac.has_beds:
        admission_id = adt.admit(ctx, p, doctor, visit.end_ms + rng.randint(20, 150) * MIN_MS, "ER", visit.codes)
        disposition = "admitted" if admission_id else "referred_no_bed"
    elif level == 1 and rng.random() < 0.08:
        disposition = "death"
    elif rng.random() < 0.04:
        disposition = rng.choice(("lama", "referred"))
    out = visit.end_ms + rng.randint(5, 120) * MIN_MS
    ctx.emit("er_visits", {
        "_id": visit_id, "visit_no": f"ER-{fac.id}-{visit_id.binary.hex()[-6:]}", "facility_id": fac.id,
        "patient_id": p.id, "arrival_mode": "ambulance" if by_ambulance else rng.choice(("walk_in", "private_vehicle")),
        "ambulance_trip_id": trip, "arrived_at": to_datetime(arrive), "triage": {"level": level, "colour": colour,
                                                                               "at": to_datetime(triage_at)},
        "seen_at": to_datetime(seen), "doctor_id": doctor.id, "encounter_id": visit.encounter_id,
        "disposition": disposition, "disposition_at": to_datetime(out), "admission_id": admission_id,
        "door_to_doctor_minutes": (seen - arrive) // MIN_MS, "length_of_stay_minutes": (out - arrive) // MIN_MS,
        "mlc": {"is_mlc": True, "police_station": f"{fac.locality} PS", "fir_no": None}
        if codes[0] in ("V89.2", "T14.9", "S06.0") else None}, arrive, out)
    audit(ctx, arrive, nurse, "REGISTER", "er_visit", visit_id)
    return []
