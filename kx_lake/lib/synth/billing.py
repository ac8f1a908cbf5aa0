"""Bills, payments and receipts, and what happens to an unpaid balance later: settlement by a
corporate/insurer payer, payment by the patient a few days on, or a write-off. Also discounts,
refunds and credit notes. Money inside bills is double (except total_amount, see messes M04);
payments carry Decimal128 amounts (M16), and a few imported payments keep string _ids (M18).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kx_lake.lib.synth import messes, volumes
from kx_lake.lib.synth import vocab_ops as vo
from kx_lake.lib.synth.clock import DAY_MS, MIN_MS, to_datetime
from kx_lake.lib.synth.masters_org import PAYER_CATEGORIES, catalogue
from kx_lake.lib.synth.rng import bounded_lognormal, digits, pick
from kx_lake.lib.synth.sim import Change, DayCtx, apply, resolver

PAYER_BY_ID = {p[0]: p for p in vo.PAYERS}
MODES = ("upi", "cash", "card", "netbanking")
MODE_CUM = (46, 76, 96, 100)
OPD_PAYER_CUM = (86, 92, 96, 100)  # cash, corporate, insurance, government
IPD_PAYER_CUM = (42, 50, 88, 100)
_KIND_POOLS = (("CASH",), ("CORP-INF", "CORP-STL", "CORP-RAIL"),
               ("INS-SGI", "INS-KHI", "INS-BMA", "INS-JRH", "INS-NHI", "TPA-MSR", "TPA-HLK", "TPA-RKS"),
               ("GOV-PMJAY", "GOV-CGHS"))


def pick_payer(ctx: DayCtx, inpatient: bool = False) -> str:
    pool = ctx.rng.choices(_KIND_POOLS, cum_weights=IPD_PAYER_CUM if inpatient else OPD_PAYER_CUM)[0]
    return pick(ctx.rng, pool)


def user_of(staff_or_doctor_id: str) -> str:
    return f"U-{staff_or_doctor_id}"


def cashier(ctx: DayCtx) -> str:
    return user_of(ctx.staff("Billing Executive", "Front Office Executive"))


def create_bill(ctx: DayCtx, *, patient: Any, encounter_id: Any, kind: str, payer_id: str,
                lines: list[tuple[str, float]], at_ms: int, doctor_id: str | None = None,
                then: Callable[[dict[str, Any]], None] | None = None, waive: bool = False) -> dict[str, Any] | None:
    """Write a bill for `lines` [(service code, qty)], paid now (cash) or settled later (credit);
    returns its settlement data (_id, net, paid, ...) or None when nothing was billable. `then(data)`
    runs before the bill is written, so what it changes on the bill is folded in."""
    rng, fac = ctx.rng, ctx.fac
    cat = PAYER_BY_ID[payer_id][3]
    services = catalogue(fac)
    items = []
    for code, qty in lines:
        if code not in services:
            continue
        name, svc_kind, price = services[code]
        unit = 0.0 if waive and svc_kind == "consultation" else round(price * PAYER_CATEGORIES[cat], 2)
        items.append({"service_id": f"{fac.id}-{code}", "code": code, "name": name, "category": svc_kind,
                      "qty": qty, "unit_price": unit, "amount": round(unit * qty, 2)})
    if not items:
        return None
    gross = round(sum(i["amount"] for i in items), 2)
    discount = round(gross * rng.choice((0.05, 0.1, 0.15)), 2) if rng.random() < 0.08 and cat == "cash" else None
    net = round(gross - (discount or 0), 2)
    bill_id = ctx.oid(at_ms)
    bill = {"_id": bill_id, "bill_no": f"{fac.id}/{kind}/{to_datetime(at_ms):%y%m}/{digits(rng, 6)}",
            "bill_type": kind, "facility_id": fac.id,
            "facility_name": messes.facility_name(rng, fac, ctx.world.facilities[0].id),
            "patient_id": patient.id, "patient_name": patient.name, "encounter_id": encounter_id,
            "doctor_id": doctor_id, "payer": {"payer_id": payer_id, "category": cat}, "items": items,
            "gross_amount": gross, "discount": discount, "tax": 0.0, "total_amount": messes.amount_value(rng, net),
            "paid_amount": 0.0, "balance": net, "status": "unpaid", "payments": [], "billed_by": cashier(ctx)}
    if discount:
        ctx.emit("discounts", {"_id": ctx.oid(at_ms), "facility_id": fac.id, "bill_id": bill_id,
                               "patient_id": patient.id, "amount": discount, "percent": round(100 * discount / gross),
                               "reason": rng.choice(("senior citizen", "staff relative", "management approval",
                                                     "camp offer")), "approved_by": cashier(ctx),
                               "approved_at": to_datetime(at_ms)}, at_ms)
    pending = {("bills", bill_id): bill}
    data = {"_id": bill_id, "patient_id": patient.id, "net": net, "paid": 0.0, "bill_no": bill["bill_no"],
            "payer_id": payer_id}
    if net <= 0:
        bill["status"] = "no_charge"  # M14: waived follow-up, payments stays []
    elif cat == "cash":
        share = 1.0 if not volumes.rare(rng, 0.04, ctx.world.scale) else rng.choice((0.5, 0.7))
        ch = settle_payment(ctx, data, round(net * share, 2), pick(ctx.rng, MODES, MODE_CUM),
                            at_ms + rng.randint(1, 12) * MIN_MS)
        apply(bill, ch)
        data["paid"] = bill["paid_amount"]
        if share < 1:
            later = "bill_writeoff" if volumes.rare(rng, 0.2, ctx.world.scale) else "bill_balance"
            days = 90 if later == "bill_writeoff" else rng.randint(1, 10)
            ctx.schedule(later, at_ms + days * DAY_MS, data, pending)
        elif volumes.rare(rng, 0.012, ctx.world.scale):
            ctx.schedule("refund", at_ms + rng.randint(1, 3) * DAY_MS + rng.randrange(DAY_MS // 2), data, pending)
    elif kind != "IP":  # inpatient credit bills are settled through claims
        due = at_ms + int(bounded_lognormal(rng, PAYER_BY_ID[payer_id][4] or 30, 0.35, 7, 120) * DAY_MS)
        ctx.schedule("payer_settlement", due, data, pending)
    if then is not None:
        with ctx.holding(pending):
            then(data)
    ctx.emit("bills", bill, at_ms)
    return data


def settle_payment(ctx: DayCtx, data: dict, amount: float, mode: str, at_ms: int, by: str | None = None) -> Change:
    """Emit a payment (+ receipt) against a bill; return the bill change it implies."""
    rng = ctx.rng
    legacy = rng.random() < messes.STRING_PAYMENT_ID_P
    pay_id = f"PAY-{to_datetime(at_ms).year}-{digits(rng, 9)}" if legacy else ctx.oid(at_ms)
    ref = None if mode == "cash" else (f"UPI{digits(rng, 12)}" if mode == "upi" else digits(rng, 12))
    doc = {"_id": pay_id, "payment_no": f"RCPT-{digits(rng, 8)}", "facility_id": ctx.fac.id, "bill_id": data["_id"],
           "patient_id": data["patient_id"], "amount": messes.money(amount), "currency": "INR", "mode": mode,
           "reference": ref, "paid_at": to_datetime(at_ms), "received_by": by or cashier(ctx), "status": "success"}
    if legacy:
        doc["source"] = {"system": "CashDesk 3", "imported": True}
    ctx.emit("payments", doc, at_ms)
    if mode not in ("payer_settlement", "insurance"):
        ctx.emit("receipts", {"_id": ctx.oid(at_ms), "receipt_no": doc["payment_no"], "facility_id": ctx.fac.id,
                              "payment_id": pay_id, "bill_id": data["_id"], "amount": amount,
                              "issued_at": to_datetime(at_ms), "printed": rng.random() < 0.7,
                              "emailed": rng.random() < 0.3}, at_ms + 30_000)
    paid = round(data.get("paid", 0.0) + amount, 2)
    balance = round(data["net"] - paid, 2)
    return Change("bills", data["_id"], {"paid_amount": paid, "balance": balance,
                                         "status": "paid" if balance <= 0.01 else "partially_paid"}, at_ms + 30_000,
                  {"payments": {"payment_id": pay_id, "mode": mode, "amount": amount, "paid_at": to_datetime(at_ms)}})


@resolver("bill_balance", "bills")
def _balance(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    at = due
    return [settle_payment(ctx, data, round(data["net"] - data["paid"], 2), pick(ctx.rng, MODES, MODE_CUM), at)]


@resolver("payer_settlement", "bills")
def _payer(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    rng, amount = ctx.rng, data["net"]
    ctx.emit("payer_settlements", {
        "_id": ctx.oid(due), "facility_id": ctx.fac.id, "payer_id": data["payer_id"],
        "utr_no": f"UTR{digits(rng, 14)}", "bills": [{"bill_id": data["_id"], "bill_no": data["bill_no"],
                                                      "amount": amount}],
        "gross_amount": amount, "tds": round(amount * 0.1, 2), "net_amount": round(amount * 0.9, 2),
        "mode": "neft"}, due, iso_utc=rng.random() < 0.2)
    return [settle_payment(ctx, data, amount, "payer_settlement", due + 60_000, by="U-SYSTEM")]


@resolver("bill_writeoff", "bills")
def _writeoff(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    balance = round(data["net"] - data["paid"], 2)
    ctx.emit("write_offs", {"_id": ctx.oid(due), "facility_id": ctx.fac.id, "bill_id": data["_id"],
                            "patient_id": data["patient_id"], "amount": balance,
                            "reason": "unrecoverable after 90 days",
                            "approved_by": cashier(ctx), "gl_account": "BAD-DEBT-4410"}, due)
    return [Change("bills", data["_id"], {"status": "written_off", "balance": 0.0, "written_off_amount": balance}, due)]


@resolver("refund", "bills", slack_h=0.5)
def _refund(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    rng = ctx.rng
    amount = round(data["net"] * rng.choice((0.2, 0.5, 1.0)), 2)
    note_id = ctx.oid(due)
    ctx.emit("credit_notes", {"_id": note_id, "note_no": f"CN-{digits(rng, 7)}", "facility_id": ctx.fac.id,
                              "bill_id": data["_id"], "amount": amount, "reason": rng.choice(
                                  ("service not rendered", "duplicate billing", "tariff correction"))}, due)
    ctx.emit("refunds", {"_id": ctx.oid(due), "facility_id": ctx.fac.id, "bill_id": data["_id"],
                         "credit_note_id": note_id, "patient_id": data["patient_id"],
                         "amount": messes.money(amount), "mode": rng.choice(("cash", "upi", "card_reversal")),
                         "status": "processed", "processed_by": cashier(ctx)}, due + 15 * MIN_MS)
    return [Change("bills", data["_id"], {"refunded_amount": amount, "status": "refunded" if amount >= data["net"]
                                          else "paid"}, due + 15 * MIN_MS)]
