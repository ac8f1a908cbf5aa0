"""Pharmacy: prescriptions (instructions as text or struct, M03), counter sales against them or over
the counter (net_amount Decimal128 at facilities on the new POS, M17), inpatient dispensations, the
narcotics register for schedule-X drugs, returns, and replenishment: an indent when a drug falls
below its reorder level, fulfilled within hours as a new batch with an expiry date.
"""

from __future__ import annotations

from typing import Any

from kx_lake.lib.synth import messes, volumes
from kx_lake.lib.synth import vocab_clinical as vc
from kx_lake.lib.synth.clock import DAY_MS, HOUR_MS, MIN_MS, to_datetime
from kx_lake.lib.synth.rng import digits, pick, poisson
from kx_lake.lib.synth.sim import Change, DayCtx, resolver
from kx_lake.lib.synth.stock import Position, book, move

DRUGS = {d[0]: d for d in vc.DRUGS}
PER_DAY = {"OD": 1, "BD": 2, "TDS": 3, "QID": 4, "HS": 1, "SOS": 1, "stat": 1, "weekly": 1 / 7}
UNIT_FORMS = {"tablet", "capsule", "sachet"}


def _pharmacist(ctx: DayCtx) -> str:
    return ctx.staff("Pharmacist")


def position(ctx: DayCtx, code: str, at_ms: int) -> Position:
    """The facility's position in a drug, opened (with its first batch) on first use."""
    bk = book(ctx.sim, "drug")
    key = bk.key(ctx.fac.id, code)
    if key not in bk.positions:
        pack, daily = DRUGS[code][8], max(1.0, volumes.per_day(ctx.fac, ctx.world.scale, 12))
        order = max(pack * 10, round(daily * 30 / pack) * pack)
        bk.positions[key] = Position(order, max(pack * 2, round(daily * 7)), order, round(DRUGS[code][7] * 0.72, 2),
                                     "", 0, at_ms)
        _new_batch(ctx, code, bk.positions[key], order, at_ms - ctx.rng.randint(5, 60) * DAY_MS, at_ms)
    return bk.positions[key]


def _new_batch(ctx: DayCtx, code: str, pos: Position, qty: int, created: int, at_ms: int) -> None:
    rng = ctx.rng
    pos.batch_no = f"{DRUGS[code][2][:3].upper().replace(' ', '')}{digits(rng, 5)}"
    pos.expiry_ms = at_ms + rng.randint(9, 36) * 30 * DAY_MS
    ctx.emit("drug_batches", {
        "_id": ctx.oid(created), "facility_id": ctx.fac.id, "drug_code": code, "batch_no": pos.batch_no,
        "manufactured_on": to_datetime(created - rng.randint(30, 200) * DAY_MS - created % DAY_MS),
        "expiry_date": to_datetime(pos.expiry_ms - pos.expiry_ms % DAY_MS), "qty_received": qty,
        "purchase_rate": pos.unit_cost, "mrp": DRUGS[code][7], "supplier_id": rng.choice(("VEN-003", "VEN-011")),
        "storage": "2-8°C" if DRUGS[code][3] == "injection" and rng.random() < 0.3 else "room temperature"},
        min(created, at_ms), at_ms)


def quantity(code: str, days: int) -> int:
    drug = DRUGS[code]
    if drug[3] not in UNIT_FORMS:
        return 1
    freq = drug[9].split()[2] if len(drug[9].split()) > 2 else "OD"
    return max(1, round(PER_DAY.get(freq, 1) * days))


def prescribe(ctx: DayCtx, *, patient: Any, doctor_id: str, encounter_id: Any, drugs: list[str], at_ms: int) -> Any:
    rng = ctx.rng
    meds = []
    for code in drugs:
        d = DRUGS[code]
        chronic = d[5] in ("antidiabetic", "antihypertensive", "statin", "thyroid")
        days = rng.choice((3, 5, 5, 7, 10, 30 if chronic else 5))
        parts = d[9].split()
        meds.append({"drug_code": code, "brand": d[2], "generic": d[1], "form": d[3], "strength": d[4],
                     "quantity": quantity(code, days), "instructions": messes.instructions_value(
                         rng, " ".join(parts[:2]), parts[2] if len(parts) > 2 else "as directed", days,
                         "oral" if d[3] in UNIT_FORMS else d[3])})
    rx_id = ctx.oid(at_ms)
    ctx.emit("prescriptions", {
        "_id": rx_id, "rx_no": f"RX-{digits(rng, 9)}", "facility_id": ctx.fac.id, "patient_id": patient.id,
        "doctor_id": doctor_id, "encounter_id": encounter_id, "medicines": meds,
        "advice": rng.choice(("Plenty of oral fluids", "Review after 5 days", "Avoid oily food", None)),
        "valid_till": to_datetime(at_ms + 30 * DAY_MS), "e_signed": rng.random() < 0.8}, at_ms)
    if "PHA" in ctx.fac.departments and rng.random() < 0.65:
        sell(ctx, [(m["drug_code"], m["quantity"]) for m in meds], at_ms + rng.randint(4, 25) * MIN_MS,
             patient.id, rx_id, "OP")
    return rx_id


def sell(ctx: DayCtx, lines: list[tuple[str, int]], at_ms: int, patient_id: str | None, rx_id: Any, kind: str) -> None:
    rng, sale_id = ctx.rng, ctx.oid(at_ms)
    items = []
    for code, qty in lines:
        pos = position(ctx, code, at_ms)
        items.append({"drug_code": code, "name": DRUGS[code][2], "batch_no": pos.batch_no,
                      "expiry": to_datetime(pos.expiry_ms - pos.expiry_ms % DAY_MS), "qty": qty,
                      "mrp": DRUGS[code][7], "amount": round(qty * DRUGS[code][7], 2)})
        move(ctx, book(ctx.sim, "drug"), code, -qty, at_ms, "sale", ("pharmacy_sales", sale_id), "PHARMACY")
        replenish(ctx, code, at_ms)
    gross = round(sum(i["amount"] for i in items), 2)
    net = round(gross * (0.9 if rng.random() < 0.3 else 1.0), 2)
    new_pos = ctx.fac.idx % 3 == 0
    sale = {"_id": sale_id, "invoice_no": f"PH-{ctx.fac.id}-{digits(rng, 7)}", "facility_id": ctx.fac.id,
            "patient_id": patient_id, "prescription_id": rx_id, "sale_type": kind, "items": items,
            "gross_amount": gross, "net_amount": messes.money(net) if new_pos else net,
            "payment_mode": pick(rng, ("upi", "cash", "card")), "sold_by": _pharmacist(ctx)}
    if new_pos:
        sale["pos"] = {"terminal": f"POS-{rng.randint(1, 4)}", "version": "2.1"}
    pending = {("pharmacy_sales", sale_id): sale}
    if volumes.rare(rng, 0.02, ctx.world.scale):
        ctx.schedule("pharmacy_return", at_ms + rng.randint(1, 5) * DAY_MS,
                     {"_id": sale_id, "code": items[0]["drug_code"], "qty": max(1, items[0]["qty"] // 2),
                      "mrp": items[0]["mrp"], "patient_id": patient_id}, pending)
    ctx.emit("pharmacy_sales", sale, at_ms)


def replenish(ctx: DayCtx, code: str, at_ms: int) -> None:
    pos = book(ctx.sim, "drug").positions[f"{ctx.fac.id}|{code}"]
    if pos.on_order or pos.qty >= pos.reorder_level:
        return
    pos.on_order = True
    indent_id = ctx.oid(at_ms)
    indent = {"_id": indent_id, "indent_no": f"IND-{digits(ctx.rng, 7)}", "facility_id": ctx.fac.id,
              "lines": [{"drug_code": code, "qty": pos.order_qty, "on_hand": pos.qty}], "status": "raised",
              "raised_by": _pharmacist(ctx), "priority": "urgent" if pos.qty == 0 else "normal"}
    ctx.schedule("indent", at_ms + ctx.rng.randint(3, 30) * HOUR_MS, {"_id": indent_id, "code": code},
                 {("pharmacy_indents", indent_id): indent})
    ctx.emit("pharmacy_indents", indent, at_ms)


@resolver("indent", "pharmacy_indents")
def _fulfil(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    bk = book(ctx.sim, "drug")
    pos = bk.positions[bk.key(ctx.fac.id, data["code"])]
    _new_batch(ctx, data["code"], pos, pos.order_qty, due, due)
    move(ctx, bk, data["code"], pos.order_qty, due, "receipt", ("pharmacy_indents", data["_id"]), "PHARMACY")
    pos.on_order = False
    return [Change("pharmacy_indents", data["_id"], {"status": "fulfilled", "fulfilled_at": to_datetime(due)}, due)]


@resolver("pharmacy_return", "pharmacy_sales")
def _return(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    ret_id = ctx.oid(due)
    ctx.emit("pharmacy_returns", {"_id": ret_id, "facility_id": ctx.fac.id, "sale_id": data["_id"],
                                  "patient_id": data["patient_id"], "drug_code": data["code"], "qty": data["qty"],
                                  "refund_amount": round(data["qty"] * data["mrp"], 2),
                                  "reason": ctx.rng.choice(("course changed", "adverse reaction", "excess purchase"))},
             due)
    position(ctx, data["code"], due)
    move(ctx, book(ctx.sim, "drug"), data["code"], data["qty"], due, "return", ("pharmacy_returns", ret_id), "PHARMACY")
    return [Change("pharmacy_sales", data["_id"], {"has_return": True}, due)]


def dispense(ctx: DayCtx, *, admission_id: Any, patient_id: str, ward_id: str, drugs: list[str], at_ms: int) -> None:
    if "PHA" not in ctx.fac.departments:
        return
    rng, disp_id = ctx.rng, ctx.oid(at_ms)
    nurse = ctx.staff("Staff Nurse")
    items = []
    for code in drugs:
        qty = 1 if DRUGS[code][3] not in UNIT_FORMS else rng.randint(2, 4)
        pos = position(ctx, code, at_ms)
        items.append({"drug_code": code, "qty": qty, "batch_no": pos.batch_no})
        move(ctx, book(ctx.sim, "drug"), code, -qty, at_ms, "ip_issue", ("dispensations", disp_id), "PHARMACY")
        replenish(ctx, code, at_ms)
        if DRUGS[code][6] == "X":
            ctx.emit("narcotics_register", {
                "_id": ctx.oid(at_ms), "facility_id": ctx.fac.id, "drug_code": code, "batch_no": pos.batch_no,
                "qty": qty, "patient_id": patient_id, "admission_id": admission_id, "dispensation_id": disp_id,
                "issued_by": _pharmacist(ctx), "received_by": nurse, "witness": pick(rng, ctx.fac.staff).id,
                "balance_after": pos.qty}, at_ms)
    ctx.emit("dispensations", {"_id": disp_id, "facility_id": ctx.fac.id, "admission_id": admission_id,
                               "patient_id": patient_id, "ward_id": ward_id, "items": items,
                               "dispensed_by": _pharmacist(ctx), "received_by": nurse}, at_ms)


def otc_sales(ctx: DayCtx) -> None:
    if "PHA" not in ctx.fac.departments:
        return
    rng = ctx.rng
    load = ctx.tl.opd_factor(ctx.d)
    for _ in range(poisson(rng, volumes.per_day(ctx.fac, ctx.world.scale, volumes.OTC_SALES, load))):
        codes = rng.sample(("D001", "D017", "D030", "D046", "D036", "D006", "D021", "D045", "D043"), rng.randint(1, 3))
        sell(ctx, [(c, rng.randint(1, 3) * (10 if DRUGS[c][3] in UNIT_FORMS else 1)) for c in codes],
             ctx.tl.between(rng, ctx.d, 8, 22), None, None, "OTC")
