"""People: staff and shift masters, licences and certifications (some expired), trainings, and the
HR transactions: daily biometric attendance, weekly duty rosters, leave applications and monthly
payroll runs. The HR module "went live" some weeks before the horizon (the whole year at scale >= 0.5),
which keeps attendance — one document per employee per working day — proportionate at small scales.
"""

from __future__ import annotations

from kx_lake.lib.synth import vocab_ops as vo
from kx_lake.lib.synth import volumes
from kx_lake.lib.synth.clock import DAY_MS, HOUR_MS, MIN_MS, to_datetime
from kx_lake.lib.synth.masters_org import master_times
from kx_lake.lib.synth.messes import money
from kx_lake.lib.synth.rng import digits, pick
from kx_lake.lib.synth.sim import DayCtx

SHIFT_HOURS = {s[0]: (int(s[2][:2]), int(s[3][:2])) for s in vo.SHIFTS}
COURSES = ("Basic Life Support", "Fire Safety", "Infection Control", "NABH Standards", "Biomedical Waste Handling",
           "Patient Communication")
LICENCES = {"Staff Nurse": "Nursing Council registration", "Nursing Supervisor": "Nursing Council registration",
            "Lab Technician": "Paramedical Council registration", "Pharmacist": "Pharmacy Council registration",
            "Radiographer": "AERB radiation worker licence"}


def hr_from_day(horizon: int, scale: float) -> int:
    return max(0, horizon - max(7, round(volumes.HR_HISTORY_DAYS * min(1.0, 2 * scale))))


def masters(ctx: DayCtx) -> None:
    for fac in ctx.world.facilities:
        for code, name, start, end in vo.SHIFTS:
            created, updated = master_times(ctx, 1500)
            ctx.emit("shifts", {"_id": f"{fac.id}-{code}", "facility_id": fac.id, "code": code, "name": name,
                                "start": start, "end": end, "break_minutes": 30, "night_allowance": code == "NGT"},
                     created, updated)
        for s in fac.staff:
            created, updated = master_times(ctx, 3000)
            ctx.emit("staff", {
                "_id": s.id, "employee_no": int(s.id[3:]), "facility_id": fac.id, "name": s.name, "gender": s.gender,
                "role": s.role, "department_id": s.department_id, "default_shift": s.shift,
                "date_of_joining": to_datetime(created - created % DAY_MS), "phone": f"+91 9{digits(ctx.rng, 9)}",
                "email": f"{s.name.split()[0].lower()}.{s.id.lower()}@example.in",
                "salary": {"gross_monthly": s.salary, "ctc_annual": money(s.salary * 12 * 1.18)},
                "status": "active"}, created, updated)
            if s.role in LICENCES:
                c2, u2 = master_times(ctx, 1200)
                expiry = u2 + ctx.rng.randint(-60, 900) * DAY_MS
                ctx.emit("staff_credentials", {
                    "_id": ctx.oid(c2), "facility_id": fac.id, "staff_id": s.id, "credential": LICENCES[s.role],
                    "number": f"{fac.city[1][:2].upper()}/{digits(ctx.rng, 6)}",
                    "issued_on": to_datetime(c2 - c2 % DAY_MS),
                    "expires_on": to_datetime(expiry - expiry % DAY_MS), "verified": ctx.rng.random() < 0.85},
                    c2, u2)


def day(ctx: DayCtx) -> None:
    rng, fac, today = ctx.rng, ctx.fac, ctx.tl.day(ctx.d)
    if today.day == 1:
        _payroll(ctx)  # payroll predates the attendance module: the whole year, every month
    if ctx.d < ctx.sim.state.get("hr_from_day", 0):
        return
    leave_until = ctx.sim.state.setdefault("leave_until", {})
    if today.weekday() == 0:
        _roster(ctx)
    if rng.random() < 0.03 + 0.05 * ctx.world.scale:
        at = ctx.tl.between(rng, ctx.d, 10, 16)
        ctx.emit("trainings", {"_id": ctx.oid(at), "facility_id": fac.id, "course": pick(rng, COURSES),
                               "trainer": rng.choice(("internal", "external")), "held_at": to_datetime(at),
                               "duration_hours": rng.choice((1, 2, 4)), "attendees": [
                                   {"staff_id": s.id, "score": rng.randint(55, 100)} for s in
                                   rng.sample(fac.staff, min(len(fac.staff), rng.randint(3, 12)))]},
                 at, at + 4 * HOUR_MS)
    for s in fac.staff:
        if (ctx.d + int(s.id[3:])) % 7 == 0:
            continue  # weekly off
        if leave_until.get(s.id, -1) >= ctx.d:
            status = "on_leave"
        elif rng.random() < 0.006:
            days = rng.choice((1, 1, 2, 3, 5))
            leave_until[s.id] = ctx.d + days - 1
            applied = max(ctx.sim.sink.floor_ms, ctx.day_ms - rng.randint(0, 10) * DAY_MS) + 10 * HOUR_MS
            ctx.emit("leaves", {"_id": ctx.oid(applied), "facility_id": fac.id, "staff_id": s.id,
                                "type": rng.choice(("casual", "sick", "earned")), "from": to_datetime(ctx.day_ms),
                                "to": to_datetime(ctx.day_ms + (days - 1) * DAY_MS), "days": days,
                                "status": "approved", "approved_by": fac.staff[0].id}, applied, applied + HOUR_MS)
            status = "on_leave"
        else:
            status = "absent" if rng.random() < 0.03 else "present"
        start_h, end_h = SHIFT_HOURS[s.shift]
        t_in = ctx.day_ms + start_h * HOUR_MS + rng.randint(-15, 25) * MIN_MS
        t_out = t_in + (((end_h - start_h) % 24) * HOUR_MS) + rng.randint(-10, 40) * MIN_MS
        present = status == "present"
        ctx.emit("attendance", {
            "_id": ctx.oid(ctx.day_ms), "facility_id": fac.id, "staff_id": s.id, "date": to_datetime(ctx.day_ms),
            "shift": s.shift, "status": status, "check_in": to_datetime(t_in) if present else None,
            "check_out": to_datetime(t_out) if present else None,
            "hours": round((t_out - t_in) / HOUR_MS, 2) if present else 0.0,
            "late_minutes": max(0, (t_in - ctx.day_ms - start_h * HOUR_MS) // MIN_MS) if present else None,
            "source": "biometric" if rng.random() < 0.92 else "manual"},
            ctx.day_ms + 5 * HOUR_MS,
            min(ctx.day_ms + DAY_MS - MIN_MS, max(t_out, t_in) if present else ctx.day_ms + 20 * HOUR_MS))


def _roster(ctx: DayCtx) -> None:
    at = ctx.day_ms + 8 * HOUR_MS
    ctx.emit("duty_rosters", {
        "_id": ctx.oid(at), "facility_id": ctx.fac.id, "week_of": to_datetime(ctx.day_ms), "published_by":
        pick(ctx.rng, ctx.fac.staff).id, "assignments": [
            {"staff_id": s.id, "days": [{"date": to_datetime(ctx.day_ms + k * DAY_MS), "shift": s.shift}
                                        for k in range(7) if (ctx.d + k + int(s.id[3:])) % 7]}
            for s in ctx.fac.staff]}, at)


def _payroll(ctx: DayCtx) -> None:
    at = ctx.day_ms + 11 * HOUR_MS
    lines = [{"staff_id": s.id, "gross": s.salary, "pf": round(s.salary * 0.12), "esi": round(s.salary * 0.0075)
              if s.salary <= 21000 else 0, "tds": round(max(0, s.salary - 50000) * 0.1)} for s in ctx.fac.staff]
    for ln in lines:
        ln["net"] = ln["gross"] - ln["pf"] - ln["esi"] - ln["tds"]
    month = ctx.tl.day(ctx.d - 1)
    ctx.emit("payroll_runs", {"_id": ctx.oid(at), "facility_id": ctx.fac.id, "period": f"{month:%Y-%m}",
                              "staff_count": len(lines), "gross_total": money(sum(ln["gross"] for ln in lines)),
                              "net_total": money(sum(ln["net"] for ln in lines)), "lines": lines,
                              "status": "disbursed", "bank_file": f"SAL_{ctx.fac.id}_{month:%Y%m}.txt"}, at)

