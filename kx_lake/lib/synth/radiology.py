"""Radiology: orders, the modality worklist, performed studies (DICOM-like uids, series), radiation
dose records for ionising modalities, and radiologists' reports.

Two steps complete later than the order: the study (when the patient reaches the scanner) and the
report (a radiologist's turnaround); each is scheduled, so either may be left open at the horizon.
"""

from __future__ import annotations

from typing import Any

from kx_lake.lib.synth import vocab_diagnostics as vd
from kx_lake.lib.synth.admin import audit
from kx_lake.lib.synth.clock import HOUR_MS, MIN_MS, to_datetime
from kx_lake.lib.synth.masters_org import catalogue
from kx_lake.lib.synth.rng import bounded_lognormal, digits, pick
from kx_lake.lib.synth.sim import Change, DayCtx, resolver

PROCS = {r[0]: r for r in vd.RADIOLOGY}
IONISING = {"XR", "CT", "MG", "DX"}
FINDINGS = {"normal": "No significant abnormality detected.",
            "abnormal": "Findings as described; clinical correlation advised."}


def available(ctx: DayCtx, codes: list[str] | tuple[str, ...]) -> list[str]:
    services = catalogue(ctx.fac)
    return [c for c in codes if f"RAD-{c}" in services]


def order_radiology(ctx: DayCtx, *, patient: Any, code: str, at_ms: int, encounter_id: Any,
                    doctor_id: str | None, source: str) -> Any:
    if not available(ctx, [code]):
        return None
    rng, fac, proc = ctx.rng, ctx.fac, PROCS[code]
    order_id = ctx.oid(at_ms)
    accession = f"ACC{digits(rng, 10)}"
    urgent = source in ("ER", "IPD")
    wait_h = bounded_lognormal(rng, 0.6 if urgent or proc[2] == "XR" else 5, 0.8, 0.1, 48)
    scheduled = at_ms + int(wait_h * HOUR_MS)
    order = {"_id": order_id, "order_no": f"RO-{digits(rng, 8)}", "accession_no": accession, "facility_id": fac.id,
             "patient_id": patient.id, "encounter_id": encounter_id, "ordered_by": doctor_id, "source": source,
             "procedure_code": code, "procedure_name": proc[1], "modality": proc[2], "priority":
             "urgent" if urgent else "routine", "clinical_history": rng.choice(("r/o pathology", "follow-up", "pain")),
             "ordered_at": to_datetime(at_ms), "scheduled_at": to_datetime(scheduled), "status": "scheduled"}
    wl_id = ctx.oid(at_ms)
    worklist = {"_id": wl_id, "facility_id": fac.id, "accession_no": accession, "order_id": order_id,
                "modality": proc[2], "station_ae_title": f"{fac.id[:3]}_{proc[2]}{rng.randint(1, 2)}",
                "scheduled_at": to_datetime(scheduled), "patient": {"id": patient.id, "name": patient.name,
                                                                    "sex": patient.gender},
                "status": "scheduled"}
    data = {"_id": order_id, "wl_id": wl_id, "patient_id": patient.id, "code": code, "accession": accession}
    ctx.schedule("rad_study", scheduled, data, {("radiology_orders", order_id): order,
                                               ("modality_worklist", wl_id): worklist})
    ctx.emit("radiology_orders", order, at_ms)
    ctx.emit("modality_worklist", worklist, at_ms + 60_000)
    return order_id


@resolver("rad_study", "radiology_orders", slack_h=1.5)
def _study(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    rng, fac, proc = ctx.rng, ctx.fac, PROCS[data["code"]]
    end = due + proc[5] * MIN_MS
    study_id = ctx.oid(due)
    images = rng.randint(1, 4) if proc[2] in ("XR", "MG", "DX") else rng.randint(20, 60) if proc[2] == "US" else \
        rng.randint(150, 900)
    ctx.emit("radiology_studies", {
        "_id": study_id, "study_uid": f"1.2.840.113619.2.{rng.randint(100, 999)}.{digits(rng, 10)}.{digits(rng, 6)}",
        "accession_no": data["accession"], "order_id": data["_id"], "facility_id": fac.id,
        "patient_id": data["patient_id"], "modality": proc[2], "body_part": proc[3], "performed_at": to_datetime(due),
        "completed_at": to_datetime(end), "technician_id": ctx.staff("Radiographer"), "contrast": proc[9] or None,
        "series": [{"series_no": n + 1, "description": f"{proc[3]} {v}", "images": max(1, images // 2)}
                   for n, v in enumerate(("axial", "coronal") if proc[2] in ("CT", "MR") else ("AP",))],
        "image_count": images}, due, end)
    if proc[2] in IONISING:
        ctdi = proc[6] or 0.0
        ctx.emit("radiation_dose_logs", {
            "_id": ctx.oid(end), "facility_id": fac.id, "study_id": study_id, "patient_id": data["patient_id"],
            "modality": proc[2], "kvp": rng.choice((80, 100, 120)), "mas": rng.randint(2, 300),
            "ctdi_vol_mgy": round(ctdi * rng.uniform(0.7, 1.3), 2) if ctdi else None,
            "dlp_mgy_cm": round(proc[7] * rng.uniform(0.7, 1.4), 1) if proc[7] else None,
            "effective_dose_msv": round((proc[7] or 1.5) * 0.014 * rng.uniform(0.7, 1.3), 3),
            "exceeds_drl": rng.random() < 0.03}, end)
    ctx.change("radiology_orders", data["_id"], {"status": "performed", "performed_at": to_datetime(due)}, end)
    ctx.change("modality_worklist", data["wl_id"], {"status": "completed"}, end)
    report_due = end + int(bounded_lognormal(ctx.rng, 3, 0.9, 0.3, 36) * HOUR_MS)
    ctx.schedule("rad_report", report_due, {**data, "study_id": study_id, "end": end})
    return []


@resolver("rad_report", "radiology_orders")
def _report(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    rng, fac = ctx.rng, ctx.fac
    radiologist = pick(rng, fac.doctors_of("RAD") or fac.doctors).id
    abnormal = rng.random() < 0.35
    ctx.emit("radiology_reports", {
        "_id": ctx.oid(due), "facility_id": fac.id, "order_id": data["_id"], "study_id": data["study_id"],
        "accession_no": data["accession"], "patient_id": data["patient_id"], "radiologist_id": radiologist,
        "findings": FINDINGS["abnormal" if abnormal else "normal"], "impression": "Abnormal study" if abnormal
        else "Normal study", "critical_finding": abnormal and rng.random() < 0.05,
        "signed_at": to_datetime(due), "turnaround_minutes": (due - data["end"]) // MIN_MS,
        "addenda": []}, due)
    audit(ctx, due, radiologist, "SIGN", "radiology_report", data["_id"])
    return [Change("radiology_orders", data["_id"], {"status": "reported", "reported_at": to_datetime(due)}, due)]
