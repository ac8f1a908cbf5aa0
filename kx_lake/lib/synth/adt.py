"""Admissions, discharges and transfers as a day-by-day census per facility.

An admission takes a free bed of the right category, plans its length of stay (and any transfer or
surgery), and joins the census; each simulated day every inpatient gets vitals, a nursing note, a
dispensation and sometimes lab work; on its discharge day the bed is vacated and the final bill,
claim and discharge summary are written. The admission, its IPD encounter and its bed assignment are
held (sim.Held) until discharge, so the seeded documents carry their final state; inpatients still
in at the horizon are written as 'admitted' and kept as open items for `mutate` to continue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kx_lake.lib.synth import beds as bedmod
from kx_lake.lib.synth import claims, stay, surgery, volumes
from kx_lake.lib.synth import vocab_ops as vo
from kx_lake.lib.synth.billing import pick_payer
from kx_lake.lib.synth.clock import DAY_MS, HOUR_MS, MIN_MS, to_datetime
from kx_lake.lib.synth.patients import pick_patient
from kx_lake.lib.synth.rng import bounded_lognormal, digits, pick, poisson
from kx_lake.lib.synth.sim import DayCtx, Held, Sim

PROC_LOS = {"NVD": 2, "LSCS": 4, "LAPCHOLE": 2, "APPX": 3, "HERNIA": 2, "TKR": 6, "ORIF": 4, "PTCA": 3,
            "CATARACT": 1, "TURP": 3, "URS": 2, "FESS": 2}
PROC_ICD = {"NVD": "O80", "LSCS": "O82", "LAPCHOLE": "K80.20", "APPX": "K35.80", "HERNIA": "K40.90", "TKR": "M17.9",
            "ORIF": "S72.00", "PTCA": "I25.10", "CATARACT": "H25.9", "TURP": "N40.0", "URS": "N20.0", "FESS": "J32.9"}


@dataclass
class Inpatient:
    adm: Held
    enc: Held
    assign: Held
    patient: list[int]
    doctor_id: str
    bed_id: str
    category: str
    admit_ms: int
    discharge_ms: int
    payer_id: str
    codes: list[str]
    segments: list[dict[str, Any]]  # {category, from_ms} per bed stay (no nested arrays: FerretDB 1.x)
    labs: list[str]
    transfer_ms: int | None = None
    surgery: dict[str, Any] | None = None
    deposit: Held | None = None
    preauth_id: Any = None

    def dump(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("adm", "enc", "assign", "deposit")}
        out.update(adm_id=self.adm.doc["_id"], enc_id=self.enc.doc["_id"], assign_id=self.assign.doc["_id"],
                   deposit_id=self.deposit.doc["_id"] if self.deposit else None)
        if self.surgery and "ot" in self.surgery:
            out["surgery"] = {**self.surgery, "ot": self.surgery["ot"].doc["_id"]}
        return out

    @classmethod
    def load(cls, d: dict[str, Any]) -> Inpatient:
        d = dict(d)
        held = {k: Held(c, {"_id": d.pop(f"{k}_id")}, 0, written=True)
                for k, c in (("adm", "admissions"), ("enc", "encounters"), ("assign", "bed_assignments"),
                             ("deposit", "deposits"))}
        if held["deposit"].doc["_id"] is None:
            held["deposit"] = None
        if d.get("surgery") and d["surgery"].get("ot") is not None:
            d["surgery"]["ot"] = Held("ot_bookings", {"_id": d["surgery"]["ot"]}, 0, written=True)
        return cls(**held, **d)


def census(sim: Sim, fac_idx: int) -> list[Inpatient]:
    return sim.state.setdefault("census", {}).setdefault(fac_idx, [])


def admit(ctx: DayCtx, p: Any, doctor: Any, at_ms: int, source: str, codes: list[str],
          payer: str | None = None, procedure: str | None = None) -> Any:
    """Admit a patient if a bed is free; returns the admission id (None when the facility is full)."""
    rng, fac = ctx.rng, ctx.fac
    if not fac.wards:
        return None
    icu = source == "ER" and rng.random() < 0.35 or procedure in ("PTCA",) or rng.random() < 0.05
    payer = payer or pick_payer(ctx, inpatient=True)
    cats = (["NICU"] if p.age == 0 and rng.random() < 0.5 else []) + (["ICU"] if icu else []) + \
        (["PVT", "SEMI", "GEN"] if payer != "CASH" and rng.random() < 0.6 else ["GEN", "SEMI", "PVT"]) + ["ICU"]
    los = PROC_LOS.get(procedure or "", 0) + rng.randint(0, 1) if procedure else \
        bounded_lognormal(rng, volumes.ALOS_DAYS * (1.5 if icu else 0.85), 0.55, 1, 30)
    discharge = at_ms + int(los * DAY_MS)
    discharge = discharge - (discharge - ctx.tl.start_ms(0)) % DAY_MS + rng.randint(10 * 60, 16 * 60) * MIN_MS
    discharge = max(discharge, at_ms + 6 * HOUR_MS)
    bed_id = bedmod.find_bed(ctx, cats, at_ms)
    if bed_id is None:
        return None
    ward = bedmod.beds(ctx.sim)[bed_id].ward
    adm_id, enc_id, asg_id = ctx.oid(at_ms), ctx.oid(at_ms), ctx.oid(at_ms)
    adm = {"_id": adm_id, "admission_no": f"IP-{fac.id}-{digits(rng, 7)}", "facility_id": fac.id,
           "patient_id": p.id, "patient_name": p.name, "encounter_id": enc_id, "admitting_doctor_id": doctor.id,
           "department_id": doctor.department_id, "source": source, "admitted_at": to_datetime(at_ms),
           "ward_id": ward.id, "bed_id": bed_id, "bed_category": ward.category, "payer_id": payer,
           "provisional_diagnosis": codes[0], "expected_discharge_at": to_datetime(discharge),
           "transfers": [], "status": "admitted", "discharge": None}
    enc = {"_id": enc_id, "encounter_no": f"EN-{digits(rng, 10)}", "type": "IPD", "facility_id": fac.id,
           "facility_name": fac.name, "department_id": doctor.department_id, "doctor_id": doctor.id,
           "patient_id": p.id, "patient": {"name": p.name, "gender": p.gender, "age_years": p.age},
           "admission_id": adm_id, "started_at": to_datetime(at_ms), "ended_at": None,
           "diagnoses": [{"code": c, "type": "primary" if i == 0 else "secondary", "status": "provisional"}
                         for i, c in enumerate(codes)], "status": "open"}
    asg = {"_id": asg_id, "facility_id": fac.id, "admission_id": adm_id, "patient_id": p.id, "ward_id": ward.id,
           "bed_id": bed_id, "from": to_datetime(at_ms), "to": None, "reason": "admission"}
    ip = Inpatient(Held("admissions", adm, at_ms), Held("encounters", enc, at_ms), Held("bed_assignments", asg, at_ms),
                   [p.fac_idx, p.index], doctor.id, bed_id, ward.category, at_ms, discharge, payer, codes,
                   [{"category": ward.category, "from_ms": at_ms}], [])
    if los > 3 and volumes.rare(rng, 0.15, ctx.world.scale):
        when = at_ms + int(rng.uniform(0.3, 0.7) * (discharge - at_ms))
        ip.transfer_ms = ctx.tl.start_ms(0) + ((when - ctx.tl.start_ms(0)) // DAY_MS) * DAY_MS + \
            rng.randint(8 * 60, 20 * 60) * MIN_MS  # transfers happen during the day
    bedmod.occupy(ctx, bed_id, at_ms, discharge, adm_id)
    surgery.consent(ctx, p.id, adm_id, "general_admission", at_ms + 5 * MIN_MS)
    claims.on_admission(ctx, ip, p)
    if procedure:
        surgery.book(ctx, ip, procedure, at_ms)
    ctx.emit("diet_orders", {"_id": ctx.oid(at_ms), "facility_id": fac.id, "admission_id": adm_id,
                             "patient_id": p.id, "ward_id": ward.id, "diet": "NBM" if procedure else
                             rng.choice(("Normal", "Soft", "Diabetic" if "E11.9" in codes else "Low salt")),
                             "meals": ["breakfast", "lunch", "dinner"], "ordered_by": doctor.id,
                             "allergies_checked": True}, at_ms + 20 * MIN_MS)
    census(ctx.sim, fac.idx).append(ip)
    return adm_id


def daily(ctx: DayCtx) -> None:
    """One day of every inpatient at this facility: care, transfers, surgeries, discharges."""
    end = ctx.day_ms + DAY_MS
    keep = []
    for ip in census(ctx.sim, ctx.fac.idx):
        if ip.admit_ms >= end:
            keep.append(ip)
            continue
        stay.care_day(ctx, ip)
        if ip.transfer_ms and ip.transfer_ms < end:
            stay.transfer(ctx, ip)
        if ip.surgery and ip.surgery["at"] < end and not ip.surgery.get("done"):
            surgery.perform(ctx, ip)
        if ip.discharge_ms < end:
            stay.discharge(ctx, ip)
        else:
            keep.append(ip)
    census(ctx.sim, ctx.fac.idx)[:] = keep


def elective(ctx: DayCtx) -> None:
    """Planned admissions for procedures, booked at the facility's surgical departments."""
    rng, fac = ctx.rng, ctx.fac
    if not fac.wards:
        return
    procs = [p for p in vo.PROCEDURES if p[2] in fac.departments and p[0] in PROC_LOS]
    for _ in range(poisson(rng, volumes.per_day(fac, ctx.world.scale, volumes.ELECTIVE_ADMISSIONS,
                                                ctx.tl.opd_factor(ctx.d), rare=True))):
        p = pick_patient(ctx)
        fits = [x for x in procs if (x[2] != "OBG" or (p.gender == "F" and 18 <= p.age <= 42))
                and (x[0] != "TURP" or p.gender == "M") and (p.age >= 16 or x[2] in ("ENT", "GS"))]
        if not fits:
            continue
        proc = pick(rng, fits)
        surgeons = [d for d in fac.doctors if d.specialty == proc[2]]
        if surgeons:
            admit(ctx, p, pick(rng, surgeons), ctx.tl.between(rng, ctx.d, 7, 11), "elective", [PROC_ICD[proc[0]]],
                  procedure=proc[0])
