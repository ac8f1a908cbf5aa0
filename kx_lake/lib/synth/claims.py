"""The money side of a stay: advance deposits (cash patients), cashless pre-authorisations
(insurers, TPAs, government schemes), and the claim submitted at discharge, whose adjudication is
deeply nested (adjudication.lines[].deductions[].reason.code, M15) and which settles weeks later
with a payer remittance (payer_settlements, ISO-string timestamps) and a payment on the bill.
Also health check-up packages, sold over the counter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kx_lake.lib.synth import messes, volumes
from kx_lake.lib.synth.billing import MODE_CUM, MODES, PAYER_BY_ID, cashier, create_bill, settle_payment
from kx_lake.lib.synth.clock import DAY_MS, HOUR_MS, MIN_MS, to_datetime
from kx_lake.lib.synth.lab import order_lab
from kx_lake.lib.synth.patients import pick_patient
from kx_lake.lib.synth.rng import bounded_lognormal, digits, pick, poisson
from kx_lake.lib.synth.sim import Change, DayCtx, Held, resolver

if TYPE_CHECKING:
    from kx_lake.lib.synth.adt import Inpatient

DEDUCTIONS = (("NME", "Non-medical expenses"), ("RRL", "Room rent above eligibility"),
              ("PPN", "Package rate applied"), ("CPY", "Co-payment"), ("DOC", "Documents not submitted"))
PACKAGES = (("HC-BASIC", "Basic Health Check", 1999, ["CBC", "FBS", "LIPID", "URINE-RE"]),
            ("HC-EXEC", "Executive Health Check", 5499, ["CBC", "FBS", "LIPID", "LFT", "KFT", "TSH", "HBA1C"]),
            ("HC-CARD", "Cardiac Risk Profile", 3999, ["LIPID", "FBS", "HBA1C", "ELEC"]),
            ("HC-WOMEN", "Women's Wellness", 3499, ["CBC", "TSH", "VITD", "URINE-RE"]))


def on_admission(ctx: DayCtx, ip: Inpatient, p: Any) -> None:
    rng, kind = ctx.rng, PAYER_BY_ID[ip.payer_id][2]
    at = ip.admit_ms + rng.randint(10, 50) * MIN_MS
    if kind == "cash":  # held with the stay: adjusted against the final bill at discharge
        ip.deposit = Held("deposits", {
            "_id": ctx.oid(at), "facility_id": ctx.fac.id, "patient_id": p.id, "admission_id": ip.adm.doc["_id"],
            "amount": messes.money(rng.choice((10, 20, 25, 50)) * 1000), "mode": pick(rng, MODES, MODE_CUM),
            "receipt_no": f"DEP-{digits(rng, 7)}", "collected_by": cashier(ctx), "status": "held"}, at)
    elif kind in ("insurer", "tpa", "government"):
        ip.preauth_id = ctx.oid(at)
        doc = {"_id": ip.preauth_id, "facility_id": ctx.fac.id, "patient_id": p.id, "admission_id": ip.adm.doc["_id"],
               "payer_id": ip.payer_id, "policy_no": digits(rng, 12), "diagnosis_code": ip.codes[0],
               "requested_amount": messes.money(rng.randint(4, 40) * 5000), "status": "requested",
               "requested_at": to_datetime(at), "documents": ["id_proof", "policy_card", "doctor_notes"]}
        ctx.schedule("preauth", at + int(bounded_lognormal(rng, 4, 0.6, 0.5, 30) * HOUR_MS),
                     {"_id": ip.preauth_id}, {("pre_authorizations", ip.preauth_id): doc})
        ctx.emit("pre_authorizations", doc, at)


@resolver("preauth", "pre_authorizations")
def _preauth(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    status = ctx.rng.choices(("approved", "query_raised", "rejected"), cum_weights=(84, 95, 100))[0]
    return [Change("pre_authorizations", data["_id"], {"status": status, "decided_at": to_datetime(due),
                                                        "approved_amount": messes.money(ctx.rng.randint(3, 30) * 5000)
                                                        if status == "approved" else None}, due)]


def on_discharge(ctx: DayCtx, ip: Inpatient, bill: dict[str, Any], at: int) -> None:
    if ip.deposit is not None:
        ip.deposit.change(ctx.sim.sink, {"status": "adjusted", "adjusted_bill_id": bill["_id"]}, at)
    payer = PAYER_BY_ID[ip.payer_id]
    if payer[2] == "cash":
        return
    rng = ctx.rng
    claim_id, net = ctx.oid(at), bill["net"]
    lines = []
    for code, share in (("ROOM", 0.35), ("PROC", 0.4), ("PHARMACY", 0.15), ("INVESTIGATIONS", 0.1)):
        deductions = [{"amount": round(net * share * rng.uniform(0.02, 0.15), 2),
                       "reason": {"code": c, "text": t, "category": {"group": "policy" if c in ("RRL", "CPY")
                                                                     else "documentation"}}}
                      for c, t in rng.sample(DEDUCTIONS, rng.choice((0, 0, 1, 2)))]
        lines.append({"head": code, "claimed": round(net * share, 2), "deductions": deductions})
    disallowed = round(sum(d["amount"] for ln in lines for d in ln["deductions"]), 2)
    doc = {"_id": claim_id, "claim_no": f"CLM-{digits(rng, 10)}", "facility_id": ctx.fac.id,
           "patient_id": bill["patient_id"], "admission_id": ip.adm.doc["_id"], "bill_id": bill["_id"],
           "preauth_id": ip.preauth_id, "payer_id": ip.payer_id, "claimed_amount": messes.money(net),
           "submitted_at": to_datetime(at + HOUR_MS), "status": "submitted",
           "adjudication": {"lines": lines, "disallowed": disallowed, "tpa_remarks": None}}
    denied = rng.random() < payer[5]
    due = at + int(bounded_lognormal(rng, payer[4], 0.35, 5, 120) * DAY_MS)
    ctx.schedule("claim_settlement", due, {"_id": claim_id, "bill_id": bill["_id"], "bill_no": bill["bill_no"],
                                           "patient_id": bill["patient_id"], "net": net, "paid": bill["paid"],
                                           "approved": 0.0 if denied else round(net - disallowed, 2),
                                           "payer_id": ip.payer_id}, {("insurance_claims", claim_id): doc})
    ctx.emit("insurance_claims", doc, at + HOUR_MS)


@resolver("claim_settlement", "insurance_claims")
def _settle(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    rng, approved = ctx.rng, data["approved"]
    if approved <= 0:
        ctx.change("insurance_claims", data["_id"], {"status": "denied", "decided_at": to_datetime(due)}, due)
        ctx.schedule("bill_balance", due + rng.randint(3, 20) * DAY_MS, {**data, "_id": data["bill_id"]})
        return []
    ctx.emit("payer_settlements", {
        "_id": ctx.oid(due), "facility_id": ctx.fac.id, "payer_id": data["payer_id"], "utr_no": f"UTR{digits(rng, 14)}",
        "bills": [{"bill_id": data["bill_id"], "bill_no": data["bill_no"], "amount": approved}],
        "claim_ids": [data["_id"]], "gross_amount": approved, "tds": round(approved * 0.1, 2),
        "net_amount": round(approved * 0.9, 2), "mode": "neft"}, due, iso_utc=rng.random() < 0.2)
    bill_data = {**data, "_id": data["bill_id"]}
    ctx.change("insurance_claims", data["_id"], {"status": "settled", "settled_amount": messes.money(approved),
                                                 "decided_at": to_datetime(due)}, due)
    ch = settle_payment(ctx, bill_data, approved, "insurance", due + MIN_MS, by="U-SYSTEM")
    ctx.change(ch.coll, ch.id, ch.set, ch.when_ms, ch.push)
    return []


def packages(ctx: DayCtx) -> None:
    """Health check-up packages sold (walk-in corporate and self-paid screening)."""
    rng = ctx.rng
    if "LAB" not in ctx.fac.departments:
        return
    for _ in range(poisson(rng, volumes.per_day(ctx.fac, ctx.world.scale, volumes.PACKAGES, ctx.tl.opd_factor(ctx.d),
                                                rare=True))):
        code, name, price, tests = pick(rng, PACKAGES)
        if code == "HC-WOMEN" and rng.random() < 0.5:
            continue
        p, at = pick_patient(ctx), ctx.tl.between(rng, ctx.d, 7, 11)
        pkg_id = ctx.oid(at)
        bill = create_bill(ctx, patient=p, encounter_id=None, kind="PKG", payer_id="CASH",
                           lines=[(f"LAB-{t}", 1) for t in tests], at_ms=at)
        order = order_lab(ctx, patient=p, tests=tests, at_ms=at + 5 * MIN_MS, encounter_id=None, doctor_id=None,
                          source="package", suspect=0.2)
        ctx.emit("health_packages", {"_id": pkg_id, "facility_id": ctx.fac.id, "package_code": code,
                                     "package_name": name, "price": round(price * ctx.fac.price_factor, -1),
                                     "patient_id": p.id, "bill_id": bill["_id"] if bill else None,
                                     "lab_order_id": order, "tests": tests, "status": "completed",
                                     "sold_by": cashier(ctx)}, at)
