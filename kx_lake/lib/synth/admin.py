"""Administration: application users, the audit trail (epoch-millis `ts`, int64 session ids),
SMS/WhatsApp/e-mail notifications, patient feedback and complaints, housekeeping tasks and ambulance
trips. `audit` and `notify` are called by every other domain when something user-visible happens.
"""

from __future__ import annotations

from typing import Any

from bson.int64 import Int64

from kx_lake.lib.synth import volumes
from kx_lake.lib.synth.clock import DAY_MS, HOUR_MS, MIN_MS, to_datetime
from kx_lake.lib.synth.masters_org import master_times
from kx_lake.lib.synth.rng import bounded_lognormal, digits, pick, poisson
from kx_lake.lib.synth.sim import Change, DayCtx, resolver

ROLES = {"Staff Nurse": "nurse", "Nursing Supervisor": "nurse", "Lab Technician": "lab", "Radiographer": "radiology",
         "Pharmacist": "pharmacy", "Front Office Executive": "front_office", "Billing Executive": "billing"}
TEMPLATES = {"appointment_booked": "whatsapp", "appointment_reminder": "sms", "lab_report_ready": "sms",
             "bill_receipt": "email", "discharge_summary": "email", "feedback_request": "whatsapp"}
COMPLAINTS = ("long waiting time", "billing discrepancy", "rude behaviour of staff", "cleanliness of ward",
              "delay in discharge", "parking", "food quality", "lab report delayed")


def audit(ctx: DayCtx, ms: int, actor: str, action: str, entity: str, entity_id: Any) -> None:
    """One audit-trail entry (actor is a doctor/staff id or a user id)."""
    rng = ctx.rng
    ctx.emit("audit_logs", {
        "_id": ctx.oid(ms), "facility_id": ctx.fac.id, "user_id": actor if actor.startswith("U-") else f"U-{actor}",
        "action": action, "entity": entity, "entity_id": str(entity_id),
        "session_id": Int64(rng.getrandbits(40) | (1 << 40)), "ip": f"10.{ctx.fac.idx}.{rng.randint(1, 30)}."
        f"{rng.randint(2, 250)}", "client": {"app": rng.choice(("hims-web", "hims-web", "hims-mobile")),
                                             "version": rng.choice(("4.12.0", "4.12.3", "4.13.1"))}}, ms)


def notify(ctx: DayCtx, patient_id: str, template: str, ref: tuple[str, Any], ms: int) -> None:
    rng = ctx.rng
    if rng.random() > 0.6:
        return  # not every event triggers a message (opt-outs, templates disabled per facility)
    status = rng.choices(("delivered", "sent", "failed"), cum_weights=(86, 96, 100))[0]
    doc = {"_id": ctx.oid(ms), "facility_id": ctx.fac.id, "patient_id": patient_id, "channel": TEMPLATES[template],
           "template": template, "to": f"+91 9XXXXX{digits(rng, 4)}", "provider": rng.choice(("gupshup", "msg91")),
           "status": status, "sent_at": to_datetime(ms), "ref": {"collection": ref[0], "id": ref[1]}}
    if status == "delivered":
        doc["delivered_at"] = to_datetime(ms + rng.randint(2, 90) * 1000)
    elif status == "failed":
        doc["error"] = {"code": rng.choice((30003, 30005, 21614)), "message": "undeliverable"}
    ctx.emit("notifications", doc, ms, ms + 120_000)


def after_visit(ctx: DayCtx, patient_id: str, encounter_id: Any, doctor_id: str, end_ms: int, waited: int) -> None:
    """Feedback (some visits) and complaints (few, likelier after long waits)."""
    rng = ctx.rng
    if rng.random() < 0.06:
        ctx.schedule("feedback", end_ms + rng.randint(2, 30) * HOUR_MS,
                     {"_id": ctx.oid(end_ms), "patient_id": patient_id, "encounter_id": encounter_id,
                      "doctor_id": doctor_id, "waited": waited})
    if volumes.rare(rng, 0.008 + (0.01 if waited > 60 else 0), ctx.world.scale):
        at = end_ms + rng.randint(5, 120) * MIN_MS
        cid = ctx.oid(at)
        doc = {"_id": cid, "ticket_no": f"CMP-{digits(rng, 6)}", "facility_id": ctx.fac.id, "patient_id": patient_id,
               "encounter_id": encounter_id, "category": "long waiting time" if waited > 60 else pick(rng, COMPLAINTS),
               "channel": rng.choice(("front_desk", "email", "google_review", "call_centre")),
               "status": "open", "resolution": None}
        ctx.schedule("complaint_close", at + int(bounded_lognormal(rng, 2, 0.8, 0.2, 20) * DAY_MS), {"_id": cid},
                     {("complaints", cid): doc})
        ctx.emit("complaints", doc, at)


@resolver("feedback", "patient_feedback")
def _feedback(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    rng = ctx.rng
    score = max(1, min(5, round(rng.gauss(4.3 - (1.2 if data["waited"] > 45 else 0), 0.9))))
    ctx.emit("patient_feedback", {
        "_id": data["_id"], "facility_id": ctx.fac.id, "patient_id": data["patient_id"],
        "encounter_id": data["encounter_id"], "doctor_id": data["doctor_id"], "channel": "whatsapp",
        "ratings": {"overall": score, "doctor": min(5, score + rng.choice((0, 0, 1))), "waiting_time":
                    max(1, score - (1 if data["waited"] > 30 else 0)), "cleanliness": rng.randint(3, 5)},
        "nps": max(0, min(10, score * 2 + rng.choice((-1, 0, 0, 1)))),
        "comment": rng.choice((None, None, "Good care", "Waited too long", "Doctor explained well"))}, due)
    return []


@resolver("complaint_close", "complaints")
def _close(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    return [Change("complaints", data["_id"], {"status": "closed", "resolution": {
        "summary": ctx.rng.choice(("apologised and explained", "refund issued", "staff counselled")),
        "closed_at": to_datetime(due), "closed_by": f"U-{pick(ctx.rng, ctx.fac.staff).id}"}}, due)]


def users(ctx: DayCtx) -> None:
    for fac in ctx.world.facilities:
        people = [(d.id, d.name, "doctor") for d in fac.doctors] + [
            (s.id, s.name, ROLES.get(s.role, "staff")) for s in fac.staff]
        for pid, name, role in people:
            created, updated = master_times(ctx, 1500)
            login = updated - ctx.rng.randrange(DAY_MS) if ctx.rng.random() < 0.9 else None
            ctx.emit("users", {
                "_id": f"U-{pid}", "username": f"{name.split()[-2 if role == 'doctor' else 0].lower()}.{pid.lower()}",
                "facility_id": fac.id, "person_id": pid, "display_name": name, "roles": [role],
                "email": f"{pid.lower()}@{fac.group_id[4:].lower()}.example.in", "mfa_enabled": ctx.rng.random() < 0.4,
                "last_login_at": to_datetime(login) if login and login > created else None,
                "status": "active" if ctx.rng.random() > 0.03 else "locked"}, created, updated)


def daily(ctx: DayCtx) -> None:
    """Housekeeping rounds and non-ER ambulance trips (inter-facility transfers, home pick-ups)."""
    rng, fac, scale = ctx.rng, ctx.fac, ctx.world.scale
    for _ in range(poisson(rng, volumes.per_day(fac, scale, volumes.HOUSEKEEPING))):
        at = ctx.tl.between(rng, ctx.d, 6, 22)
        done = at + rng.randint(15, 120) * MIN_MS
        area = pick(rng, [w.id for w in fac.wards] or ["OPD", "Lobby", "Washrooms"])
        ctx.emit("housekeeping_tasks", {
            "_id": ctx.oid(at), "facility_id": fac.id, "area": area, "task": rng.choice(
                ("routine cleaning", "spill cleanup", "washroom cleaning", "biomedical waste pickup")),
            "assigned_to": ctx.staff("Housekeeping Attendant"), "requested_at": to_datetime(at),
            "completed_at": to_datetime(done) if done < ctx.horizon_ms else None,
            "status": "completed" if done < ctx.horizon_ms else "in_progress"}, at, min(done, ctx.horizon_ms - 1))
    if fac.has_er and rng.random() < volumes.per_day(fac, scale, volumes.AMBULANCE_TRANSFERS):
        at = ctx.tl.between(rng, ctx.d, 7, 20)
        ambulance_trip(ctx, None, at, "inter_facility_transfer")


def ambulance_trip(ctx: DayCtx, patient_id: str | None, at: int, purpose: str) -> Any:
    rng = ctx.rng
    km = round(rng.uniform(2, 28), 1)
    trip_id = ctx.oid(at)
    end = at + int(km * 3 + 25) * MIN_MS
    ctx.emit("ambulance_trips", {
        "_id": trip_id, "facility_id": ctx.fac.id, "patient_id": patient_id, "purpose": purpose,
        "vehicle": {"reg_no": f"{ctx.fac.city[1][:2].upper()}-{rng.randint(1, 50):02d}-{digits(rng, 4)}",
                    "type": rng.choice(("BLS", "ALS"))}, "dispatched_at": to_datetime(at),
        "distance_km": km, "crew": [pick(rng, ctx.fac.staff).id], "status": "completed",
        "pickup": {"locality": ctx.fac.locality, "geo": {"lat": ctx.fac.city[3], "lon": ctx.fac.city[4]}}}, at, end)
    return trip_id
