"""Reference masters shared by every facility: payers and insurance plans, ICD-10 codes, the drug
formulary (epoch-millis timestamps, per collections.csv), lab tests, radiology procedures, inventory
items and vendors. Built straight from the vocab tables, one document per row.
"""

from __future__ import annotations

from kx_lake.lib.synth import vocab_clinical as vc
from kx_lake.lib.synth import vocab_diagnostics as vd
from kx_lake.lib.synth import vocab_ops as vo
from kx_lake.lib.synth.masters_org import master_times
from kx_lake.lib.synth.messes import money
from kx_lake.lib.synth.rng import digits
from kx_lake.lib.synth.sim import DayCtx

LAB_PARAMS: dict[str, list[tuple]] = {}
for _p in vd.LAB_PARAMETERS:
    LAB_PARAMS.setdefault(_p[0], []).append(_p)


def payers(ctx: DayCtx) -> None:
    for pid, name, kind, category, days, _denial in vo.PAYERS:
        created, updated = master_times(ctx, 3000)
        ctx.emit("payers", {
            "_id": pid, "name": name, "type": kind, "tariff_category": category,
            "irdai_code": f"IRDA-{digits(ctx.rng, 3)}" if kind in ("insurer", "tpa") else None,
            "credit_terms_days": days, "contact": {"email": f"claims@{pid.lower()}.example.in",
                                                   "phone": f"1800-{digits(ctx.rng, 3)}-{digits(ctx.rng, 4)}"},
            "empanelled_facility_ids": [f.id for f in ctx.world.facilities
                                        if kind == "cash" or ctx.rng.random() < 0.8],
        }, created, updated)


def insurance_plans(ctx: DayCtx) -> None:
    for pid, name, kind, *_ in vo.PAYERS:
        if kind not in ("insurer", "government"):
            continue
        for tier, cover in vo.PLAN_TIERS[: 1 if kind == "government" else 4]:
            created, updated = master_times(ctx, 2000)
            ctx.emit("insurance_plans", {
                "_id": ctx.oid(created), "payer_id": pid, "plan_code": f"{pid}-{tier[:3].upper()}",
                "name": f"{name.split()[0]} {tier}" if kind != "government" else name,
                "sum_insured": money(cover if kind != "government" else 500000),
                "room_rent_limit": {"type": "percent_of_si", "value": 1} if tier != "Platinum" else None,
                "co_pay_percent": ctx.rng.choice((0, 0, 10, 20)), "cashless": True,
                "waiting_period_days": {"pre_existing": ctx.rng.choice((730, 1095, 1460)), "specific": 730},
            }, created, updated)


def icd10_codes(ctx: DayCtx) -> None:
    for code, desc, spec, season, _w, chronic in vc.ICD10:
        created, updated = master_times(ctx, 3000)
        ctx.emit("icd10_codes", {"_id": code, "code": code, "description": desc, "chapter": code[0],
                                 "block": code.split(".")[0], "specialty_hint": spec, "chronic": chronic,
                                 "seasonality": season, "billable": "." in code or len(code) == 3},
                 created, updated)


def drug_master(ctx: DayCtx) -> None:
    for code, generic, brand, form, strength, cat, sched, mrp, pack, dose in vc.DRUGS:
        created, updated = master_times(ctx, 2500)
        ctx.emit("drug_master", {
            "_id": ctx.oid(created), "drug_code": code, "generic_name": generic, "brand_name": brand,
            "form": form, "strength": strength, "category": cat, "schedule": sched or None,
            "controlled": sched == "X", "mrp": mrp, "pack_size": pack, "hsn_code": f"3004{digits(ctx.rng, 4)}",
            "gst_rate": 12, "default_dosage": dose, "manufacturer": ctx.rng.choice(
                ("Cipla", "Sun Pharma", "Dr. Reddy's", "Lupin", "Mankind", "Alkem", "Zydus", "Torrent")),
        }, created, updated)


def lab_test_master(ctx: DayCtx) -> None:
    for code, name, section, sample, container, price, tat, _w in vd.LAB_TESTS:
        created, updated = master_times(ctx, 2500)
        ctx.emit("lab_test_master", {
            "_id": f"LT-{code}", "code": code, "name": name, "section": section, "sample_type": sample,
            "container": container, "price": price, "tat_hours": tat, "nabl_accredited": True,
            "parameters": [{"name": p[1], "unit": p[2], "reference_range": {"low": p[3], "high": p[4]}}
                           for p in LAB_PARAMS.get(code, [])],
        }, created, updated)


def radiology_procedure_master(ctx: DayCtx) -> None:
    for code, name, modality, part, price, minutes, ctdi, dlp, _w, contrast in vd.RADIOLOGY:
        created, updated = master_times(ctx, 2500)
        ctx.emit("radiology_procedure_master", {
            "_id": f"RP-{code}", "code": code, "name": name, "modality": modality, "body_part": part,
            "price": price, "duration_minutes": minutes, "contrast": contrast or None,
            "reference_dose": {"ctdi_vol_mgy": ctdi, "dlp_mgy_cm": dlp} if ctdi else None,
        }, created, updated)


def items(ctx: DayCtx) -> None:
    for code, name, cat, unit, cost, shelf, reorder in vo.ITEMS:
        created, updated = master_times(ctx, 2000)
        ctx.emit("items", {"_id": code, "code": code, "name": name, "category": cat, "uom": unit,
                           "standard_cost": cost, "shelf_life_months": shelf or None, "reorder_level": reorder,
                           "hsn_code": f"90{digits(ctx.rng, 6)}", "batch_tracked": shelf > 0}, created, updated)


def vendors(ctx: DayCtx) -> None:
    for vid, name, cat, city in vo.VENDORS:
        created, updated = master_times(ctx, 2500)
        ctx.emit("vendors", {
            "_id": vid, "name": name, "category": cat, "city": city, "gstin": f"{ctx.rng.randint(10, 36)}AAC"
            f"{digits(ctx.rng, 7)}Z{ctx.rng.randint(1, 9)}", "payment_terms_days": ctx.rng.choice((30, 45, 60)),
            "rating": round(ctx.rng.uniform(2.8, 4.9), 1), "bank": {"ifsc": f"HDFC000{digits(ctx.rng, 4)}",
                                                                    "account_no": int(digits(ctx.rng, 12))},
        }, created, updated)
