"""Stores and purchasing: departments' material requests issued from the main store, inter-store
transfers, monthly stock adjustments (expiry, breakage, count differences), purchase orders raised
when an item falls below its reorder level and goods receipts (with batches and expiry dates)
a few days later, and biomedical equipment maintenance. Every movement lands in stock_ledger.
"""

from __future__ import annotations

from kx_lake.lib.synth import vocab_ops as vo
from kx_lake.lib.synth import volumes
from kx_lake.lib.synth.clock import DAY_MS, HOUR_MS, MIN_MS, to_datetime
from kx_lake.lib.synth.rng import bounded_lognormal, digits, pick, poisson
from kx_lake.lib.synth.sim import Change, DayCtx, resolver
from kx_lake.lib.synth.stock import Position, book, move

ITEMS = {i[0]: i for i in vo.ITEMS}
VENDOR_FOR = {v[2]: v[0] for v in vo.VENDORS}
USERS = {"consumable": ("NUR", "OTC", "LAB"), "surgical": ("OTC",), "housekeeping": ("HKP",), "linen": ("NUR", "HKP"),
         "lab consumable": ("LAB",), "reagent": ("LAB",), "radiology": ("RAD",), "stationery": ("FRO", "BIL"),
         "gas": ("NUR", "OTC")}


def _keeper(ctx: DayCtx) -> str:
    return ctx.staff("Store Keeper")


def position(ctx: DayCtx, code: str, at_ms: int) -> Position:
    bk = book(ctx.sim, "item")
    key = bk.key(ctx.fac.id, code)
    if key not in bk.positions:
        item = ITEMS[code]
        daily = max(0.5, volumes.per_day(ctx.fac, ctx.world.scale, 8))
        order = max(5, round(daily * 30))
        bk.positions[key] = Position(order, max(item[6] // 20, round(daily * 7)), order, item[4],
                                     f"OPEN-{digits(ctx.rng, 5)}", at_ms + max(item[5], 12) * 30 * DAY_MS, at_ms)
    return bk.positions[key]


def day(ctx: DayCtx) -> None:
    rng, fac, scale = ctx.rng, ctx.fac, ctx.world.scale
    usable = [c for c, i in ITEMS.items() if any(d in fac.departments for d in USERS[i[2]])]
    for _ in range(poisson(rng, volumes.per_day(fac, scale, volumes.STOCK_ISSUES))):
        at = ctx.tl.between(rng, ctx.d, 9, 18)
        req_id = ctx.oid(at)
        codes = rng.sample(usable, min(len(usable), rng.randint(1, 4)))
        dept = pick(rng, [d for d in USERS[ITEMS[codes[0]][2]] if d in fac.departments])
        lines = []
        for code in codes:
            pos = position(ctx, code, at)
            qty = min(pos.qty, rng.randint(1, 12))
            lines.append({"item_code": code, "requested": qty + rng.choice((0, 0, 2)), "issued": qty})
            if qty:
                move(ctx, book(ctx.sim, "item"), code, -qty, at + 2 * HOUR_MS, "issue",
                     ("material_requests", req_id), "MAIN")
            reorder(ctx, code, at + 2 * HOUR_MS)
        ctx.emit("material_requests", {
            "_id": req_id, "request_no": f"MR-{digits(rng, 7)}", "facility_id": fac.id,
            "department_id": fac.departments[dept].id, "lines": lines, "requested_by": pick(rng, fac.staff).id,
            "status": "issued" if all(ln["issued"] for ln in lines) else "partially_issued",
            "issued_at": to_datetime(at + 2 * HOUR_MS)}, at, at + 2 * HOUR_MS)
    if fac.siblings and rng.random() < volumes.per_day(fac, scale, volumes.STOCK_TRANSFERS, rare=True):
        at, code = ctx.tl.between(rng, ctx.d, 10, 17), pick(rng, usable)
        other = ctx.world.facilities[pick(rng, fac.siblings)]
        tid, qty = ctx.oid(at), rng.randint(2, 20)
        position(ctx, code, at)
        move(ctx, book(ctx.sim, "item"), code, -qty, at, "transfer_out", ("stock_transfers", tid), "MAIN")
        ctx.emit("stock_transfers", {"_id": tid, "transfer_no": f"ST-{digits(rng, 7)}", "facility_id": fac.id,
                                     "to_facility_id": other.id, "lines": [{"item_code": code, "qty": qty}],
                                     "status": "dispatched", "dispatched_by": _keeper(ctx),
                                     "vehicle_no": f"KA-{rng.randint(1, 60):02d}-{digits(rng, 4)}"}, at)
    if ctx.tl.day(ctx.d).day == 28 and rng.random() < 0.8:
        _adjustments(ctx, usable)
    if rng.random() < volumes.per_day(fac, scale, volumes.ASSET_JOBS, rare=True):
        at = ctx.tl.between(rng, ctx.d, 10, 17)
        ctx.emit("asset_maintenance", {
            "_id": ctx.oid(at), "facility_id": fac.id,
            "asset": {"type": pick(rng, vo.EQUIPMENT), "tag": f"BME-{digits(rng, 5)}",
                      "department_id": pick(rng, list(fac.departments.values())).id},
            "kind": rng.choice(("preventive", "preventive", "breakdown", "calibration")), "vendor_id": "VEN-012",
            "downtime_hours": round(bounded_lognormal(rng, 3, 0.8, 0.5, 72), 1),
            "cost": round(rng.uniform(0, 25000), -2),
            "status": "closed"}, at, at + 3 * HOUR_MS)


def _adjustments(ctx: DayCtx, usable: list[str]) -> None:
    rng = ctx.rng
    at = ctx.tl.between(rng, ctx.d, 17, 19)
    adj_id, lines = ctx.oid(at), []
    for code in rng.sample(usable, min(3, len(usable))):
        pos = position(ctx, code, at)
        qty = -min(pos.qty, rng.randint(1, 5))
        if qty:
            reason = rng.choice(("expired", "damaged", "count variance"))
            lines.append({"item_code": code, "qty": qty, "reason": reason})
            move(ctx, book(ctx.sim, "item"), code, qty, at, "adjustment", ("stock_adjustments", adj_id), "MAIN")
    ctx.emit("stock_adjustments", {"_id": adj_id, "facility_id": ctx.fac.id, "lines": lines,
                                   "approved_by": _keeper(ctx), "value": round(sum(
                                       ln["qty"] * ITEMS[ln["item_code"]][4] for ln in lines), 2)}, at)


def reorder(ctx: DayCtx, code: str, at_ms: int) -> None:
    pos = book(ctx.sim, "item").positions[f"{ctx.fac.id}|{code}"]
    if pos.on_order or pos.qty >= pos.reorder_level:
        return
    pos.on_order = True
    rng, item = ctx.rng, ITEMS[code]
    po_id = ctx.oid(at_ms)
    vendor = VENDOR_FOR.get(item[2], "VEN-001")
    po = {"_id": po_id, "po_no": f"PO/{ctx.fac.id}/{digits(rng, 6)}", "facility_id": ctx.fac.id, "vendor_id": vendor,
          "lines": [{"item_code": code, "qty": pos.order_qty, "rate": item[4],
                     "amount": round(pos.order_qty * item[4], 2), "gst_rate": 12}],
          "total": round(pos.order_qty * item[4] * 1.12, 2), "status": "open",
          "approvals": [{"level": 1, "by": _keeper(ctx), "at": to_datetime(at_ms + 30 * MIN_MS)}]}
    due = at_ms + int(bounded_lognormal(rng, 3, 0.5, 1, 15) * DAY_MS)
    due -= (due - ctx.tl.start_ms(0)) % DAY_MS - 11 * HOUR_MS  # deliveries arrive late morning
    ctx.schedule("grn", max(due, at_ms + HOUR_MS), {"_id": po_id, "code": code, "vendor": vendor},
                 {("purchase_orders", po_id): po})
    ctx.emit("purchase_orders", po, at_ms, at_ms + 30 * MIN_MS)


@resolver("grn", "purchase_orders")
def _receive(ctx: DayCtx, data: dict, due: int) -> list[Change]:
    rng, bk = ctx.rng, book(ctx.sim, "item")
    pos = position(ctx, data["code"], due)
    grn_id = ctx.oid(due)
    short = rng.random() < 0.08
    qty = pos.order_qty if not short else pos.order_qty // 2
    pos.batch_no = f"B{digits(rng, 6)}"
    pos.expiry_ms = due + max(ITEMS[data["code"]][5], 12) * 30 * DAY_MS
    ctx.emit("goods_receipts", {
        "_id": grn_id, "grn_no": f"GRN-{digits(rng, 7)}", "facility_id": ctx.fac.id, "po_id": data["_id"],
        "vendor_id": data["vendor"], "invoice_no": f"INV/{digits(rng, 5)}", "received_by": _keeper(ctx),
        "lines": [{"item_code": data["code"], "qty": qty, "batch_no": pos.batch_no,
                   "expiry_date": to_datetime(pos.expiry_ms - pos.expiry_ms % DAY_MS)
                   if ITEMS[data["code"]][5] else None,
                   "rejected": 0 if rng.random() > 0.05 else 1}],
        "quality_check": {"passed": True, "by": _keeper(ctx)}}, due)
    move(ctx, bk, data["code"], qty, due, "receipt", ("goods_receipts", grn_id), "MAIN")
    pos.on_order = False
    return [Change("purchase_orders", data["_id"], {"status": "partially_received" if short else "closed",
                                                    "received_at": to_datetime(due)}, due)]
