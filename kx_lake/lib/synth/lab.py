"""Laboratory: orders with tests[], samples with 10-digit int64 barcodes (M07), results with
reference ranges and H/L/critical flags, signed reports, culture & sensitivity, and daily QC runs.

Results are due after the test's turnaround time; when that falls beyond the simulated horizon the
order stays 'in_progress' and `mutate` completes it later (results, report, order update).
"""

from __future__ import annotations

from typing import Any

from bson.int64 import Int64

from kx_lake.lib.synth import vocab_diagnostics as vd
from kx_lake.lib.synth import volumes
from kx_lake.lib.synth.admin import audit, notify
from kx_lake.lib.synth.clock import HOUR_MS, MIN_MS, to_datetime
from kx_lake.lib.synth.masters_ref import LAB_PARAMS
from kx_lake.lib.synth.rng import bounded_lognormal, digits, pick, poisson
from kx_lake.lib.synth.sim import Change, DayCtx, resolver

TESTS = {t[0]: t for t in vd.LAB_TESTS}
LOW_IS_BAD = {"Haemoglobin", "Platelet count", "Albumin", "25-OH Vitamin D", "HDL cholesterol", "Haematocrit"}
ORGANISMS = ("Escherichia coli", "Klebsiella pneumoniae", "Staphylococcus aureus", "Enterococcus faecalis",
             "Pseudomonas aeruginosa")
ANTIBIOTICS = ("Amikacin", "Ceftriaxone", "Ciprofloxacin", "Meropenem", "Nitrofurantoin", "Piperacillin-Tazobactam")


def lab_staff(ctx: DayCtx) -> str:
    return ctx.staff("Lab Technician")


def order_lab(ctx: DayCtx, *, patient: Any, tests: list[str], at_ms: int, encounter_id: Any,
              doctor_id: str | None, source: str, suspect: float = 0.3) -> Any:
    """Write a lab order and its samples; schedule the results. `suspect` = chance a result is abnormal."""
    if "LAB" not in ctx.fac.departments or not tests:
        return None
    rng, fac = ctx.rng, ctx.fac
    order_id = ctx.oid(at_ms)
    stat = source == "ER" or (source == "IPD" and rng.random() < 0.3)
    collected = at_ms + rng.randint(3, 35 if not stat else 10) * MIN_MS
    received = collected + rng.randint(8, 50) * MIN_MS
    samples: dict[str, Int64] = {}
    for code in tests:
        container = TESTS[code][4]
        if container not in samples:
            samples[container] = Int64(int(digits(rng, 10)))
            ctx.emit("lab_samples", {
                "_id": ctx.oid(collected), "barcode": samples[container], "order_id": order_id,
                "facility_id": fac.id, "patient_id": patient.id, "sample_type": TESTS[code][3],
                "container": container, "collected_at": to_datetime(collected), "collected_by": lab_staff(ctx),
                "received_at": to_datetime(received), "condition": "hemolysed" if rng.random() < 0.015 else "ok",
                "storage": {"location": {"rack": f"R{rng.randint(1, 12)}", "position": rng.randint(1, 96)},
                            "temperature_c": rng.choice((4, 22))}}, collected, received)
    order = {"_id": order_id, "order_no": f"LO-{digits(rng, 9)}", "facility_id": fac.id, "patient_id": patient.id,
             "patient_name": patient.name, "encounter_id": encounter_id, "ordered_by": doctor_id,
             "source": source, "priority": "stat" if stat else "routine", "ordered_at": to_datetime(at_ms),
             "tests": [{"test_code": c, "name": TESTS[c][1], "status": "in_progress",
                        "sample_barcode": samples[TESTS[c][4]]} for c in tests], "status": "in_progress"}
    tat = max(TESTS[c][6] for c in tests) * (0.5 if stat else 1.0)
    due = received + int(bounded_lognormal(rng, tat * 0.7, 0.45, 0.3, tat * 3) * HOUR_MS)
    data = {"_id": order_id, "patient_id": patient.id, "gender": patient.gender, "tests": tests,
            "suspect": suspect, "ordered_ms": at_ms, "order_no": order["order_no"]}
    ctx.schedule("lab_result", due, data, {("lab_orders", order_id): order})
    ctx.emit("lab_orders", order, at_ms)
    return order_id


def _value(ctx: DayCtx, param: tuple, abnormal: bool) -> tuple[float, str]:
    """A result: mostly inside the reference range; pushed out of it (the clinical direction) if abnormal."""
    _t, name, _unit, low, high, _mean, sd, decimals = param
    rng = ctx.rng
    mean, spread = (low + high) / 2, (high - low) / 5
    if abnormal:
        mean, spread = ((low - 0.8 * sd) if name in LOW_IS_BAD else high + 1.2 * sd), sd * 0.5
    value = max(0.0, rng.gauss(mean, spread))
    value = round(value, decimals) if decimals else float(round(value))
    if value > high * 3 or (name in LOW_IS_BAD and value < low * 0.5):
        return value, "C"
    return value, "H" if value > high else "L" if value < low else "N"


@resolver("lab_result", "lab_orders", slack_h=1.5)
def _results(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    rng, fac = ctx.rng, ctx.fac
    dept = fac.departments["LAB"].id
    signer = pick(rng, fac.doctors_of("PAT") or fac.doctors).id
    result_ids, tests = [], []
    for code in data["tests"]:
        at = due + rng.randint(0, 40) * MIN_MS
        abnormal = rng.random() < data["suspect"]
        params = [dict(zip(("name", "value", "flag"), (p[1], *_value(ctx, p, abnormal and i == 0)), strict=True),
                       unit=p[2], reference_range={"low": p[3], "high": p[4]})
                  for i, p in enumerate(LAB_PARAMS.get(code, []))]
        rid = ctx.oid(at)
        result_ids.append(rid)
        ctx.emit("lab_results", {
            "_id": rid, "order_id": data["_id"], "facility_id": fac.id, "department_id": dept,
            "patient_id": data["patient_id"], "test_code": code, "test_name": TESTS[code][1],
            "section": TESTS[code][2], "parameters": params, "abnormal": any(p["flag"] != "N" for p in params),
            "critical": any(p["flag"] == "C" for p in params), "analyser": f"{TESTS[code][2][:4].upper()}-"
            f"{rng.randint(1, 3)}", "resulted_at": to_datetime(at), "verified_by": signer,
            "tat_minutes": (at - data["ordered_ms"]) // MIN_MS}, at)
        if TESTS[code][2] == "Microbiology":
            growth = rng.random() < 0.35
            ctx.emit("microbiology_cultures", {
                "_id": ctx.oid(at), "result_id": rid, "order_id": data["_id"], "facility_id": fac.id,
                "patient_id": data["patient_id"], "specimen": TESTS[code][3],
                "organism": pick(rng, ORGANISMS) if growth else None,
                "growth": "significant" if growth else "no growth",
                "sensitivity": [{"antibiotic": a, "result": rng.choice("SSSIR"),
                                 "mic_ug_ml": rng.choice((0.5, 1, 2, 4, 8))}
                                for a in rng.sample(ANTIBIOTICS, 4)] if growth else [],
                "incubation_hours": 48}, at)
        tests.append({"test_code": code, "name": TESTS[code][1], "status": "completed", "result_id": rid})
    due += 45 * MIN_MS  # signed after the last result
    ctx.emit("lab_reports", {
        "_id": ctx.oid(due), "report_no": f"LR-{data['order_no'][3:]}", "order_id": data["_id"],
        "facility_id": fac.id, "patient_id": data["patient_id"], "result_ids": result_ids, "signed_by": signer,
        "signed_at": to_datetime(due), "pdf": {"pages": len(result_ids), "key": f"lab/{fac.id}/{data['_id']}.pdf"},
        "delivery": [{"channel": "sms", "at": to_datetime(due + MIN_MS)}] + (
            [{"channel": "email", "at": to_datetime(due + 2 * MIN_MS)}] if rng.random() < 0.4 else [])}, due)
    notify(ctx, data["patient_id"], "lab_report_ready", ("lab_orders", data["_id"]), due + MIN_MS)
    audit(ctx, due, signer, "SIGN", "lab_report", data["_id"])
    return [Change("lab_orders", data["_id"], {"status": "completed", "tests": tests, "reported_at": to_datetime(due)},
                   due)]


def qc_runs(ctx: DayCtx) -> None:
    """Daily internal quality-control runs on the lab's analysers (Westgard rules)."""
    if "LAB" not in ctx.fac.departments:
        return
    rng = ctx.rng
    for _ in range(poisson(rng, volumes.per_day(ctx.fac, ctx.world.scale, volumes.QC_RUNS) / ctx.fac.size * 2)):
        at = ctx.tl.between(rng, ctx.d, 6, 9)
        test = pick(rng, ("CBC", "KFT", "LFT", "LIPID", "FBS"))
        results = []
        for p in LAB_PARAMS[test]:
            z = round(rng.gauss(0, 1.1), 2)
            results.append({"parameter": p[1], "value": round(p[5] + z * p[6] * 0.2, 2), "target_mean": p[5],
                            "sd": round(p[6] * 0.2, 3), "z_score": z,
                            "rule": "1-3s" if abs(z) > 3 else "1-2s" if abs(z) > 2 else "ok"})
        ctx.emit("lab_qc_runs", {"_id": ctx.oid(at), "facility_id": ctx.fac.id, "test_code": test,
                                 "analyser": f"{TESTS[test][2][:4].upper()}-1", "control_level": rng.choice((1, 2, 3)),
                                 "lot_no": f"QC{digits(rng, 6)}", "results": results,
                                 "passed": all(r["rule"] != "1-3s" for r in results), "run_by": lab_staff(ctx),
                                 "run_at": to_datetime(at)}, at)
