"""Patients: a patient is (home facility, index). Facility f has E_f patients registered before the
simulated year and registers r_f more per day, so "the patients registered before day d" is the index
range [0, E_f + ceil(r_f * d)) and any stream can pick one in O(1) without a lookup. A patient's core
attributes (name, sex, age) come from a Random derived from its index, re-derived (and cached) on demand.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from bson.int64 import Int64

from kx_lake.lib.synth import messes, volumes
from kx_lake.lib.synth import vocab_ops as vo
from kx_lake.lib.synth import vocab_people as vp
from kx_lake.lib.synth.clock import DAY_MS, to_datetime
from kx_lake.lib.synth.masters_org import address
from kx_lake.lib.synth.rng import derive, digits, pick, poisson
from kx_lake.lib.synth.sim import DayCtx, Sim
from kx_lake.lib.synth.world import Facility, person_name

AGE_BANDS = ((0, 14), (15, 29), (30, 44), (45, 59), (60, 88))
AGE_CUM = (18, 38, 60, 82, 100)
ALLERGENS = (("Penicillin", "Rash"), ("Sulfa drugs", "Urticaria"), ("NSAIDs", "Bronchospasm"),
             ("Peanuts", "Anaphylaxis"), ("Dust mite", "Rhinitis"), ("Latex", "Contact dermatitis"),
             ("Shellfish", "Angioedema"), ("Iodinated contrast", "Hives"))


@dataclass(frozen=True, slots=True)
class Patient:
    id: str
    fac_idx: int
    index: int
    name: str
    gender: str
    age: int  # years, at the start of the simulated history
    dob_ms: int


def existing(fac: Facility, scale: float) -> int:
    return max(15, round(volumes.per_day(fac, scale, volumes.PATIENTS_EXISTING)))


def rate(fac: Facility, scale: float) -> float:
    return max(0.05, volumes.per_day(fac, scale, volumes.PATIENT_REGISTRATIONS))


def registered_before(fac: Facility, scale: float, d: int) -> int:
    """How many of the facility's patients were registered before day d."""
    return existing(fac, scale) + math.ceil(rate(fac, scale) * max(0, d))


def _core(sim: Sim, fac: Facility, i: int) -> tuple[Patient, random.Random]:
    rng = derive(sim.seed, sim.env, "patient", fac.idx, i)
    gender = "F" if rng.random() < 0.51 else "M"
    lo, hi = AGE_BANDS[rng.choices(range(5), cum_weights=AGE_CUM)[0]]
    age = rng.randint(lo, hi)
    dob = sim.timeline.start_ms(0) - age * 365 * DAY_MS - rng.randrange(365) * DAY_MS
    dob -= dob % DAY_MS  # a calendar date
    return Patient(f"PAT-{fac.idx + 1:02d}{i:06d}", fac.idx, i, person_name(rng, gender), gender, age, dob), rng


def patient(sim: Sim, fac: Facility, i: int) -> Patient:
    cache = sim.state.setdefault("patients", {})
    key = (fac.idx, i)
    if key not in cache:
        cache[key] = _core(sim, fac, i)[0]
    return cache[key]


def pick_patient(ctx: DayCtx, same_facility: float = 0.92) -> Patient:
    """A registered patient for a visit to ctx.fac on ctx.d (usually its own, sometimes a sibling's)."""
    fac = ctx.fac
    if fac.siblings and ctx.rng.random() > same_facility:
        fac = ctx.world.facilities[pick(ctx.rng, fac.siblings)]
    n = registered_before(fac, ctx.world.scale, ctx.d)
    return patient(ctx.sim, fac, ctx.rng.randrange(n))


def emit_patients(sim: Sim, fac: Facility, lo: int, hi: int) -> None:
    """Write patients lo..hi-1 of a facility (with their allergies and scanned ID documents)."""
    e, r, start = existing(fac, sim.world.scale), rate(fac, sim.world.scale), sim.timeline.start_ms(0)
    for i in range(lo, hi):
        p, rng = _core(sim, fac, i)
        ctx = DayCtx(sim, fac, 0 if i < e else int((i - e) / r), rng)
        if i < e:
            created = start - rng.randint(1, 2500) * DAY_MS + rng.randrange(DAY_MS)
            updated = start + rng.randrange(max(1, sim.horizon_ms - start - DAY_MS))
        else:
            created = ctx.tl.between(rng, ctx.d, 8, 20)
            updated = created + (rng.randrange(30) * DAY_MS if rng.random() < 0.3 else rng.randrange(600_000))
        updated = min(updated, sim.horizon_ms - 1)
        sim.sink.emit("patients", _patient_doc(ctx, p, created, updated), created, updated)


def _patient_doc(ctx: DayCtx, p: Patient, created: int, updated: int) -> dict:
    rng, fac = ctx.rng, ctx.fac
    first, last = p.name.split(" ", 1)
    mobile = int("9" + digits(rng, 9)) if rng.random() < 0.7 else int(rng.choice("678") + digits(rng, 9))
    allergies = []
    for substance, reaction in rng.sample(ALLERGENS, rng.choice((1, 1, 2))) if rng.random() < 0.15 else []:
        aid = ctx.oid(created)
        allergies.append({"allergy_id": aid, "substance": substance, "reaction": reaction,
                          "severity": rng.choice(("mild", "moderate", "severe")), "noted_on": to_datetime(created)})
        ctx.emit("allergies", {"_id": aid, "patient_id": p.id, "facility_id": fac.id, "substance": substance,
                               "category": "drug" if "drug" in substance or substance in ("Penicillin", "NSAIDs")
                               else "environment", "reaction": reaction, "status": "active",
                               "recorded_by": rng.choice(fac.doctors).id if fac.doctors else None}, created, updated)
    doc = {
        "_id": p.id, "uhid": Int64(700_000_000_000 + fac.idx * 10_000_000 + p.index), "facility_id": fac.id,
        "mrn": f"{fac.id}/{to_datetime(created).year}/{p.index:06d}", "name": p.name, "first_name": first,
        "last_name": last, "gender": p.gender,
        "date_of_birth": (to_datetime(p.dob_ms + 6 * 3_600_000).strftime("%Y-%m-%d") if rng.random() < 0.12
                          else to_datetime(p.dob_ms)),
        "blood_group": rng.choices(vo.BLOOD_GROUPS, cum_weights=vo.BLOOD_GROUP_CUM)[0] if rng.random() < 0.7 else None,
        "phone": messes.phone_value(rng, mobile),
        "national_id": f"XXXX-XXXX-{digits(rng, 4)}" if rng.random() < 0.6 else None,
        "addresses": [_address(ctx, "home")] + ([_address(ctx, "work")] if rng.random() < 0.2 else []),
        "contacts": [] if rng.random() < 0.1 else [
            {"name": person_name(rng, rng.choice("MF")), "relation": pick(rng, vp.RELATIONS),
             "phone": f"+91 9{digits(rng, 9)}", "is_emergency": n == 0} for n in range(rng.choice((1, 1, 2)))],
        "allergies": messes.allergies_value(rng, [{k: v for k, v in a.items() if k != "allergy_id"}
                                                  for a in allergies]),
        "registration": {"source": rng.choice(("front_desk", "front_desk", "mobile_app", "call_centre", "kiosk")),
                         "registered_at": to_datetime(created)},
        "preferences": {"language": rng.choice(("en", "hi", fac.city[1][:2].lower())),
                        "sms_opt_in": rng.random() < 0.8},
        "status": "active",
    }
    r = rng.random()
    if r < 0.5:
        doc["email"] = email(rng, first, last)
    elif r < 0.6:
        doc["email"] = None  # M11: null here, absent in the rest
    if rng.random() < 0.3:
        doc["insurance"] = {"payer_id": pick(rng, [p[0] for p in vo.PAYERS[1:9]]), "policy_no": digits(rng, 10),
                            "valid_till": to_datetime(created + 365 * DAY_MS)}
    if created < ctx.tl.start_ms(0) and rng.random() < 0.4:
        doc["legacy_ref"] = {"system": "MedSoft 6", "patient_no": int(digits(rng, 9))}  # extra field
    if rng.random() < 0.4:
        ctx.emit("patient_documents", {
            "_id": ctx.oid(created), "patient_id": p.id, "facility_id": fac.id,
            "doc_type": rng.choice(("aadhaar_card", "pan_card", "insurance_card", "previous_report")),
            "file": {"name": f"{p.id}_{digits(rng, 6)}.pdf", "mime": "application/pdf",
                     "size_bytes": rng.randint(40_000, 2_500_000),
                     "storage": {"bucket": "hims-docs", "key": f"{fac.id}/{p.id}/{digits(rng, 8)}.pdf"}},
            "verified": rng.random() < 0.7}, created + 120_000, updated)
    return doc


def email(rng: random.Random, first: str, last: str) -> str:
    return f"{first.lower()}.{last.lower().replace(' ', '').replace(chr(39), '')}{rng.randint(1, 99)}@example.com"


def _address(ctx: DayCtx, kind: str) -> dict:
    a = address(ctx, ctx.fac, pick(ctx.rng, vp.LOCALITIES))
    a["line1"] = f"#{ctx.rng.randint(1, 999)}, {pick(ctx.rng, vp.STREETS)}"
    return {"type": kind, **a}


def touch(ctx: DayCtx) -> None:
    """Profile edits to existing patients (new phone, e-mail or address), as updates by _id (mutate only)."""
    rng, fac = ctx.rng, ctx.fac
    n = registered_before(fac, ctx.world.scale, ctx.d)
    for _ in range(poisson(rng, volumes.per_day(fac, ctx.world.scale, volumes.PROFILE_EDITS))):
        p = patient(ctx.sim, fac, rng.randrange(n))
        at = ctx.tl.between(rng, ctx.d, 8, 20)
        first, last = p.name.split(" ", 1)
        fields = rng.choice((
            {"phone": messes.phone_value(rng, int("9" + digits(rng, 9)))},
            {"email": email(rng, first, last)},
            {"addresses": [_address(ctx, "home")]}))
        ctx.change("patients", p.id, fields, at)
