"""Organisation masters: hospital groups, facilities, departments, specialties, doctors, doctor
schedules, wards, services and tariffs, written from the in-memory World.

Masters are created long before the simulated year and last edited inside it (so their modified
timestamp falls in a lake partition); their counts do not shrink with the scale.
"""

from __future__ import annotations

from kx_lake.lib.synth import vocab_clinical as vc
from kx_lake.lib.synth import vocab_diagnostics as vd
from kx_lake.lib.synth import vocab_ops as vo
from kx_lake.lib.synth.clock import DAY_MS
from kx_lake.lib.synth.rng import digits
from kx_lake.lib.synth.sim import DayCtx
from kx_lake.lib.synth.world import QUALIFICATION, SPEC_BY_CODE, Facility

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PAYER_CATEGORIES = {"cash": 1.0, "insurance": 1.12, "corporate": 0.92, "government": 0.62}


def master_times(ctx: DayCtx, oldest_days: int = 2000) -> tuple[int, int]:
    """(created, last modified): created years ago, last edited during the simulated history."""
    start = ctx.tl.start_ms(0)
    created = start - ctx.rng.randint(30, oldest_days) * DAY_MS + ctx.rng.randrange(DAY_MS)
    updated = start + ctx.rng.randrange(max(1, ctx.horizon_ms - start - DAY_MS))
    return created, updated


def address(ctx: DayCtx, fac: Facility, locality: str | None = None) -> dict:
    city, state, pin, lat, lon, std, _ = fac.city
    return {"line1": f"{ctx.rng.randint(1, 480)}, {ctx.rng.choice(('Main Road', 'Cross Road', 'Ring Road'))}",
            "locality": locality or fac.locality, "city": city, "state": state,
            "pincode": f"{pin}{ctx.rng.randint(1, 99):03d}", "country": "IN",
            "geo": {"type": "Point", "coordinates": [round(lon + ctx.rng.uniform(-0.08, 0.08), 5),
                                                      round(lat + ctx.rng.uniform(-0.08, 0.08), 5)]}}


def groups(ctx: DayCtx) -> None:
    for name, code, _stem in ctx.world.groups:
        facs = [f for f in ctx.world.facilities if f.group_id == f"GRP-{code}"]
        created, updated = master_times(ctx, 4000)
        ctx.emit("hospital_groups", {
            "_id": f"GRP-{code}", "code": code, "name": name,
            "legal_name": name + (" Pvt Ltd" if "Ltd" not in name else ""),
            "pan": f"AA{code[:3]}{digits(ctx.rng, 4)}F", "hq_city": facs[0].city[0],
            "facility_ids": [f.id for f in facs], "subscription": {"plan": ctx.rng.choice(("standard", "enterprise")),
                                                                  "since": created // 1000}, "active": True,
        }, created, updated)


def facilities(ctx: DayCtx) -> None:
    for fac in ctx.world.facilities:
        created, updated = master_times(ctx)
        beds = sum(len(w.bed_ids) for w in fac.wards)
        ctx.emit("facilities", {
            "_id": fac.id, "code": fac.id, "name": fac.name, "short_name": fac.name.split(",")[0],
            "group_id": fac.group_id, "type": fac.type, "address": address(ctx, fac),
            "contact": {"phone": f"{fac.city[5]}-{digits(ctx.rng, 8)}", "email": f"info.{fac.id.lower()}@example.in"},
            "bed_capacity": beds, "licensed_beds": beds + ctx.rng.randint(0, 10) if beds else 0,
            "emergency_24x7": fac.has_er, "nabh_accredited": ctx.rng.random() < 0.6,
            "gstin": f"{ctx.rng.randint(10, 36)}AAB{fac.group_id[4:7]}{digits(ctx.rng, 4)}C1Z{ctx.rng.randint(1, 9)}",
            "timezone": str(ctx.tl.tz), "active": True,
        }, created, updated)


def specialties(ctx: DayCtx) -> None:
    for code, name, _w, fee, min_age, sex in vc.SPECIALTIES:
        created, updated = master_times(ctx, 4000)
        ctx.emit("specialties", {"_id": f"SPC-{code}", "code": code, "name": name, "default_consult_fee": fee,
                                 "min_age_years": min_age, "gender_restriction": sex or None}, created, updated)


def departments(ctx: DayCtx) -> None:
    for fac in ctx.world.facilities:
        for dept in fac.departments.values():
            created, updated = master_times(ctx)
            head = next((d.id for d in fac.doctors if d.department_id == dept.id), None)
            ctx.emit("departments", {
                "_id": dept.id, "facility_id": fac.id, "code": dept.code, "name": dept.name, "kind": dept.kind,
                "specialty_id": f"SPC-{dept.code}" if dept.code in SPEC_BY_CODE else None,
                "head_doctor_id": head, "cost_centre": f"CC-{fac.id}-{dept.code}", "active": True,
            }, created, updated)


def doctors(ctx: DayCtx) -> None:
    for doc in ctx.world.doctors:
        created, updated = master_times(ctx)
        fac = ctx.world.by_id[doc.facility_id]
        visiting = [ctx.world.facilities[i].id for i in fac.siblings if ctx.rng.random() < 0.3]
        first = doc.name.split()[1].lower()
        degree = QUALIFICATION.get(doc.specialty, f"MD ({SPEC_BY_CODE[doc.specialty][1]})")
        ctx.emit("doctors", {
            "_id": doc.id, "facility_id": doc.facility_id, "department_id": doc.department_id,
            "specialty_id": f"SPC-{doc.specialty}", "name": doc.name, "gender": doc.gender,
            "qualifications": [degree] if doc.specialty in ("DEN", "PHY") else ["MBBS", degree],
            "registration_no": doc.reg_no, "experience_years": doc.experience, "consultation_fee": doc.fee,
            "phone": doc.phone, "email": f"{first}.{doc.id.lower()}@example.in",
            "consulting_facility_ids": [doc.facility_id, *visiting], "employment": ctx.rng.choice(
                ("full_time", "full_time", "visiting")), "active": True,
        }, created, updated)


def doctor_schedules(ctx: DayCtx) -> None:
    for doc in ctx.world.doctors:
        created, updated = master_times(ctx, 600)
        hours = 24 if doc.specialty == "EM" else ctx.rng.choice((3, 4, 4, 6))
        ctx.emit("doctor_schedules", {
            "_id": ctx.oid(created), "doctor_id": doc.id, "facility_id": doc.facility_id,
            "department_id": doc.department_id, "slot_minutes": 15 if doc.specialty != "PSY" else 30,
            "sessions": [{"weekday": WEEKDAYS[w], "start": f"{doc.start_hour:02d}:00",
                          "end": f"{min(23, doc.start_hour + hours):02d}:00", "room": f"OPD-{ctx.rng.randint(1, 40)}"}
                         for w in doc.weekdays],
            "effective_from": created // 1000 * 1000, "max_patients_per_session": hours * 4,
        }, created, updated)


def wards(ctx: DayCtx) -> None:
    for fac in ctx.world.facilities:
        for ward in fac.wards:
            created, updated = master_times(ctx)
            ctx.emit("wards", {
                "_id": ward.id, "facility_id": fac.id, "name": ward.name, "category": ward.category,
                "floor": ward.floor, "bed_count": len(ward.bed_ids), "room_rent_per_day": ward.rate,
                "nursing_station": f"NS-{ward.floor}", "department_id": fac.departments["NUR"].id,
            }, created, updated)


def services(ctx: DayCtx) -> None:
    """Billable services per facility and their tariffs per payer category."""
    for fac in ctx.world.facilities:
        for code, (name, kind, price) in catalogue(fac).items():
            created, updated = master_times(ctx)
            sid = f"{fac.id}-{code}"
            ctx.emit("services", {"_id": sid, "facility_id": fac.id, "code": code, "name": name, "category": kind,
                                  "base_price": price, "gst_rate": 0 if kind != "hotel" else 5, "active": True},
                     created, updated)
            for cat, factor in PAYER_CATEGORIES.items():
                if cat == "cash" or ctx.rng.random() < 0.6:
                    continue  # cash pays the base price; only some services have negotiated rates
                t_created, t_updated = master_times(ctx, 700)
                ctx.emit("tariffs", {"_id": ctx.oid(t_created), "facility_id": fac.id, "service_id": sid,
                                     "payer_category": cat, "price": round(price * factor, -1), "currency": "INR",
                                     "valid_from": ctx.tl.start_ms(0) // 1000, "valid_to": None},
                         t_created, t_updated)


def catalogue(fac: Facility) -> dict[str, tuple[str, str, float]]:
    """The facility's billable services: code -> (name, category, price in ₹)."""
    if fac.services:
        return fac.services
    out = [(f"CONS-{d.code}", f"Consultation - {d.name}", "consultation", SPEC_BY_CODE[d.code][3] or 1000)
           for d in fac.departments.values() if d.code in SPEC_BY_CODE]
    if "LAB" in fac.departments:
        out += [(f"LAB-{t[0]}", t[1], "laboratory", t[5]) for t in vd.LAB_TESTS]
    if "RAD" in fac.departments:
        out += [(f"RAD-{r[0]}", r[1], "radiology", r[4]) for r in vd.RADIOLOGY
                if fac.type in ("multispeciality", "diagnostic") or r[2] in ("XR", "US", "CT")]
    if fac.has_beds:
        out += [(f"ROOM-{c[0]}", f"Room rent - {c[1]}", "room", c[2]) for c in vo.BED_CATEGORIES]
        out += [(f"PROC-{p[0]}", p[1], "procedure", p[3]) for p in vo.PROCEDURES if p[2] in fac.departments]
    out += [(m[0], m[1], m[2], m[3]) for m in vo.MISC_SERVICES if fac.has_er or m[0] not in ("ER-CONSULT", "AMB")]
    fac.services.update({c: (n, k, round(p * fac.price_factor, -1)) for c, n, k, p in out})
    return fac.services
