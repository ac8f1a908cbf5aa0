"""Outpatients: appointments booked days ahead through several channels (with reminders, slots and
waitlists), then on the day a check-in (ISO-string timestamps, per collections.csv), a queue token
(epoch millis) and a consultation, or a no-show (~10%) or a cancellation (~7%); plus walk-ins.

An appointment is scheduled for its outcome instant, so appointments booked for after the horizon stay
'booked' and `mutate` later checks them in, completes them or marks them no-show.
"""

from __future__ import annotations

from bson.int64 import Int64

from kx_lake.lib.config import TimestampEncoding
from kx_lake.lib.synth import adt, volumes
from kx_lake.lib.synth.admin import audit, notify
from kx_lake.lib.synth.billing import cashier, pick_payer
from kx_lake.lib.synth.clinical import consult
from kx_lake.lib.synth.clock import HOUR_MS, MIN_MS, OPD_HOUR_CUM, OPD_HOURS, encode_ts, to_datetime
from kx_lake.lib.synth.messes import SPRING_CLASS_P
from kx_lake.lib.synth.patients import Patient, patient, pick_patient
from kx_lake.lib.synth.rng import bounded_lognormal, digits, pick, poisson
from kx_lake.lib.synth.sim import Change, DayCtx, resolver
from kx_lake.lib.synth.world import SPEC_BY_CODE, Doctor

CHANNELS = ("mobile_app", "call_centre", "front_desk", "website", "whatsapp")
CHANNEL_CUM = (30, 55, 80, 90, 100)
JAVA_CLASS = "com.kx.hims.scheduling.domain.Appointment"


def choose_doctor(ctx: DayCtx, p: Patient, weekday: int | None = None) -> Doctor | None:
    docs = [d for d in ctx.fac.doctors if SPEC_BY_CODE[d.specialty][2] > 0 and p.age >= SPEC_BY_CODE[d.specialty][4]
            and (not SPEC_BY_CODE[d.specialty][5] or p.gender == "F") and (weekday is None or weekday in d.weekdays)]
    if p.age < 14:
        docs = [d for d in docs if d.specialty == "PED"] or docs
    if not docs:
        return None
    return ctx.rng.choices(docs, weights=[SPEC_BY_CODE[d.specialty][2] for d in docs])[0]


def day(ctx: DayCtx) -> None:
    rng, fac, scale = ctx.rng, ctx.fac, ctx.world.scale
    load = ctx.tl.opd_factor(ctx.d)
    for _ in range(poisson(rng, volumes.per_day(fac, scale, volumes.OPD_APPOINTMENTS, load))):
        book(ctx)
    for _ in range(poisson(rng, volumes.per_day(fac, scale, volumes.OPD_APPOINTMENTS, load * volumes.WALK_IN_SHARE))):
        p = pick_patient(ctx)
        doctor = choose_doctor(ctx, p, ctx.tl.day(ctx.d).weekday())
        if doctor is None:
            continue
        arrive = ctx.tl.at_hour(rng, ctx.d, OPD_HOURS, OPD_HOUR_CUM)
        ctx.schedule("walk_in", arrive, {"_id": ctx.oid(arrive), "p": [p.fac_idx, p.index], "doctor_id": doctor.id,
                                         "payer": pick_payer(ctx)})


@resolver("walk_in", "encounters", slack_h=7)
def _walk_in(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    p = patient(ctx.sim, ctx.world.facilities[data["p"][0]], data["p"][1])
    arrive_and_consult(ctx, p, ctx.world.doctor_by_id[data["doctor_id"]], due, None, data["payer"])
    return []


def book(ctx: DayCtx) -> None:
    rng, fac = ctx.rng, ctx.fac
    p = pick_patient(ctx)
    lead = 0 if rng.random() < 0.35 else rng.randint(1, 3) if rng.random() < 0.6 else rng.randint(4, 14)
    doctor = choose_doctor(ctx, p)
    if doctor is None:
        return
    for _ in range(7):
        if ctx.tl.day(ctx.d + lead).weekday() in doctor.weekdays:
            break
        lead += 1
    slot = ctx.tl.start_ms(ctx.d + lead) + doctor.start_hour * HOUR_MS + rng.randrange(16) * 15 * MIN_MS
    booked = (ctx.tl.between(rng, ctx.d, 7, 22) if lead else
              max(ctx.day_ms + 7 * HOUR_MS, slot - rng.randint(30, 180) * MIN_MS))
    if booked >= slot:
        booked = slot - 15 * MIN_MS
    appt_id, slot_id = ctx.oid(booked), ctx.oid(booked)
    tele = volumes.rare(rng, volumes.TELE_SHARE, ctx.world.scale) and doctor.specialty not in ("DEN", "PHY", "OPH")
    payer = pick_payer(ctx)
    r = rng.random()
    outcome = "cancelled" if r < volumes.CANCEL_RATE else "no_show" if r < volumes.CANCEL_RATE + volumes.NO_SHOW_RATE \
        else "arrived"
    due = {"cancelled": booked + int((slot - booked) * rng.uniform(0.1, 0.95)),
           "no_show": slot + 2 * HOUR_MS, "arrived": slot - rng.randint(-15, 25) * MIN_MS}[outcome]
    due = max(due, booked + MIN_MS)
    appt = {"_id": appt_id, "appointment_no": f"APT-{digits(rng, 9)}", "facility_id": fac.id,
            "department_id": doctor.department_id, "doctor_id": doctor.id, "patient_id": p.id,
            "patient_name": p.name, "slot": {"slot_id": slot_id, "start": to_datetime(slot),
                                             "end": to_datetime(slot + 15 * MIN_MS)},
            "booked_at": to_datetime(booked), "channel": "front_desk" if lead == 0 and rng.random() < 0.5
            else pick(rng, CHANNELS, CHANNEL_CUM), "visit_type": rng.choice(("new", "follow_up", "follow_up")),
            "mode": "video" if tele else "in_person", "payer_id": payer, "status": "booked",
            "status_history": [{"status": "booked", "at": to_datetime(booked)}]}
    if rng.random() < SPRING_CLASS_P:
        appt["_class"] = JAVA_CLASS  # M12: written by the Java scheduling service
    slot_doc = {"_id": slot_id, "facility_id": fac.id, "department_id": doctor.department_id,
                "doctor_id": doctor.id, "start": to_datetime(slot), "end": to_datetime(slot + 15 * MIN_MS),
                "status": "booked", "appointment_id": appt_id}
    if rng.random() < 0.04:
        ctx.emit("waitlist_entries", {"_id": ctx.oid(booked), "facility_id": fac.id, "patient_id": p.id,
                                      "department_id": doctor.department_id, "doctor_id": doctor.id,
                                      "requested_for": to_datetime(ctx.tl.start_ms(ctx.d + lead)),
                                      "priority": rng.randint(1, 3),
                                      "status": "converted", "appointment_id": appt_id},
                 max(ctx.day_ms, booked - rng.randint(10, 300) * MIN_MS), booked)
    notify(ctx, p.id, "appointment_booked", ("appointments", appt_id), booked + MIN_MS)
    reminder = ctx.tl.start_ms(ctx.d + lead) - 6 * HOUR_MS  # 18:00 local, the day before
    if lead and booked < reminder < ctx.horizon_ms:
        ctx.emit("appointment_reminders", {"_id": ctx.oid(reminder), "facility_id": fac.id, "appointment_id": appt_id,
                                           "patient_id": p.id, "channel": rng.choice(("sms", "whatsapp")),
                                           "send_at": to_datetime(reminder), "status": "sent"}, reminder)
    data = {"_id": appt_id, "slot_id": slot_id, "p": [p.fac_idx, p.index], "doctor_id": doctor.id, "slot_ms": slot,
            "outcome": outcome, "payer": payer, "tele": tele, "booked": booked,
            "free": appt["visit_type"] == "follow_up" and rng.random() < 0.3}
    ctx.schedule("appointment", due, data, {("appointments", appt_id): appt, ("appointment_slots", slot_id): slot_doc})
    ctx.emit("appointments", appt, booked)
    ctx.emit("appointment_slots", slot_doc, booked)


@resolver("appointment", "appointments", slack_h=7)
def _outcome(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    appt_id, outcome = data["_id"], data["outcome"]
    if outcome != "arrived":
        fields = {"status": outcome}
        if outcome == "cancelled":
            fields["cancellation"] = {"at": to_datetime(due), "by": pick(ctx.rng, ("patient", "patient", "hospital")),
                                      "reason": pick(ctx.rng, ("feeling better", "doctor unavailable", "travel",
                                                               "rescheduled"))}
        ctx.change("appointment_slots", data["slot_id"], {"status": "released" if outcome == "cancelled"
                                                          else "no_show"}, due)
        return [Change("appointments", appt_id, fields, due, {"status_history": {"status": outcome,
                                                                                  "at": to_datetime(due)}})]
    p = patient(ctx.sim, ctx.world.facilities[data["p"][0]], data["p"][1])
    doctor = ctx.world.doctor_by_id[data["doctor_id"]]
    visit_end, start, waited = arrive_and_consult(ctx, p, doctor, due, appt_id, data["payer"], data["slot_ms"],
                                                  data["tele"], data.get("free", False))
    ctx.change("appointment_slots", data["slot_id"], {"status": "completed"}, visit_end)
    return [Change("appointments", appt_id, {
        "status": "completed", "check_in_at": to_datetime(due), "consult_start_at": to_datetime(start),
        "consult_end_at": to_datetime(visit_end), "waiting_minutes": waited}, visit_end,
        {"status_history": {"status": "completed", "at": to_datetime(visit_end)}})]


def arrive_and_consult(ctx: DayCtx, p: Patient, doctor: Doctor, arrive: int, appt_id, payer: str,
                       slot_ms: int | None = None, tele: bool = False, free: bool = False) -> tuple[int, int, int]:
    """Check-in, queue token and consultation; returns (end, consult start, minutes waited)."""
    rng, fac = ctx.rng, ctx.fac
    busy = 1.4 if doctor.specialty in ("GM", "PED", "ORT") else 1.0
    start = max(arrive, slot_ms or arrive) + int(bounded_lognormal(rng, 14 * busy, 0.7, 1, 150) * MIN_MS)
    waited = (start - arrive) // MIN_MS
    if tele:
        start = slot_ms or arrive
        waited = rng.randint(0, 8)
    visit = consult(ctx, patient=p, doctor=doctor, start_ms=start, source="OPD", appointment_id=appt_id,
                    payer_id=payer, waited=waited, free_follow_up=free)
    if tele:
        ctx.emit("teleconsultations", {
            "_id": ctx.oid(start), "facility_id": fac.id, "appointment_id": appt_id, "encounter_id": visit.encounter_id,
            "doctor_id": doctor.id, "patient_id": p.id, "platform": rng.choice(("jitsi", "zoom", "in-app")),
            "meeting": {"room_id": digits(rng, 10), "join_url": f"https://tele.example.in/r/{digits(rng, 10)}"},
            "started_at": to_datetime(start), "ended_at": to_datetime(visit.end_ms),
            "duration_sec": (visit.end_ms - start) // 1000, "quality": {"avg_bitrate_kbps": rng.randint(300, 2500),
                                                                        "dropped": rng.random() < 0.06}}, start,
            visit.end_ms)
        return visit.end_ms, start, waited
    iso = TimestampEncoding.ISO_STRING
    ctx.emit("visit_checkins", {
        "_id": ctx.oid(arrive), "facility_id": fac.id, "patient_id": p.id, "appointment_id": appt_id,
        "doctor_id": doctor.id, "checked_in_at": encode_ts(iso, arrive, ctx.tl.tz),
        "mode": rng.choice(("front_desk", "kiosk", "qr_scan")), "desk_user": cashier(ctx),
        "visit_type": "appointment" if appt_id else "walk_in"}, arrive)
    token = {"_id": ctx.oid(arrive), "token_no": f"{doctor.specialty[0]}-{rng.randint(1, 180):03d}",
             "facility_id": fac.id, "department_id": doctor.department_id, "doctor_id": doctor.id,
             "patient_id": p.id, "appointment_id": appt_id, "issued_at_ms": Int64(arrive),
             "called_at_ms": Int64(start), "served_at_ms": Int64(visit.end_ms), "waiting_minutes": waited,
             "status": "served", "counter": f"C{rng.randint(1, 6)}"}
    ctx.emit("queue_tokens", token, arrive, visit.end_ms)
    audit(ctx, arrive, cashier(ctx), "CHECK_IN", "visit", token["_id"])
    if rng.random() < volumes.OPD_ADMIT_RATE and fac.has_beds:
        adt.admit(ctx, p, doctor, visit.end_ms + rng.randint(20, 120) * MIN_MS, "OPD", visit.codes, payer=None)
    return visit.end_ms, start, waited
