"""Running stock positions (pharmacy drugs and store items) and the stock ledger they write.

Positions live in memory while days are simulated and are saved with the run metadata, so `mutate`
continues from the real balances. At the end of a run each touched position is written once as a
snapshot document (pharmacy_stock / stock_levels): inserted if new, updated by _id otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kx_lake.lib.synth.clock import DAY_MS, to_datetime
from kx_lake.lib.synth.sim import DayCtx, Sim


@dataclass
class Position:
    qty: int
    reorder_level: int
    order_qty: int
    unit_cost: float
    batch_no: str
    expiry_ms: int
    last_ms: int
    on_order: bool = False
    existed: bool = False  # its snapshot document is already in MongoDB (restored by mutate)

    def to_doc(self) -> list[Any]:
        return [self.qty, self.reorder_level, self.order_qty, self.unit_cost, self.batch_no, self.expiry_ms,
                self.last_ms, self.on_order]


@dataclass
class StockBook:
    name: str  # "drug" or "item"
    positions: dict[str, Position] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)

    @staticmethod
    def key(fac_id: str, code: str) -> str:
        return f"{fac_id}|{code}"

    def dump(self) -> dict[str, list[Any]]:
        return {k: p.to_doc() for k, p in self.positions.items()}

    @classmethod
    def load(cls, name: str, raw: dict[str, list[Any]]) -> StockBook:
        book = cls(name)
        for k, v in raw.items():
            book.positions[k] = Position(*v, existed=True)
        return book


def book(sim: Sim, name: str) -> StockBook:
    books = sim.state.setdefault("stock", {})
    if name not in books:
        books[name] = StockBook(name)
    return books[name]


def move(ctx: DayCtx, bk: StockBook, code: str, qty: int, at_ms: int, txn: str, ref: tuple[str, Any],
         store: str) -> Position:
    """Apply a signed movement to a position and write its ledger entry."""
    key = bk.key(ctx.fac.id, code)
    pos = bk.positions[key]
    pos.qty = max(0, pos.qty + qty)
    pos.last_ms = max(pos.last_ms, at_ms)
    bk.touched.add(key)
    ctx.emit("stock_ledger", {
        "_id": ctx.oid(at_ms), "facility_id": ctx.fac.id, "store": store, "item_type": bk.name, "item_code": code,
        "txn_type": txn, "qty": qty, "unit_cost": pos.unit_cost, "value": round(qty * pos.unit_cost, 2),
        "batch_no": pos.batch_no, "ref": {"collection": ref[0], "id": ref[1]}, "txn_at": to_datetime(at_ms)}, at_ms)
    return pos


def snapshots(sim: Sim, bk: StockBook, coll: str, describe: dict[str, tuple[str, str]]) -> None:
    """Write the current position of every touched key (insert new ones, update the rest by _id)."""
    for key in sorted(bk.touched):
        pos = bk.positions[key]
        fac_id, code = key.split("|")
        fields = {"qty_on_hand": pos.qty, "reorder_level": pos.reorder_level,
                  "stock_value": round(pos.qty * pos.unit_cost, 2),
                  "below_reorder": pos.qty < pos.reorder_level, "current_batch": {
                      "batch_no": pos.batch_no, "expiry_date": to_datetime(pos.expiry_ms - pos.expiry_ms % DAY_MS)},
                  "last_movement_at": to_datetime(pos.last_ms)}
        if pos.existed:
            sim.sink.update(coll, f"{fac_id}-{code}", fields, pos.last_ms)
        else:
            name, store = describe.get(code, (code, "MAIN"))
            doc = {"_id": f"{fac_id}-{code}", "facility_id": fac_id, "store": store, "code": code, "name": name,
                   **fields}
            sim.sink.emit(coll, doc, pos.last_ms)
            pos.existed = True
    bk.touched.clear()
