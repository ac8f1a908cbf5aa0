"""A date's rows per leaf (leaves.spill_date): one `take` per spool chunk, then slices — the same rows, in the same order,
as converting each leaf's documents alone (the reference), for ids of every kind and several chunks."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import bson
import pyarrow as pa
from bson import Decimal128, ObjectId

from kx_lake.lib.harmonize import Converter, SchemaAccumulator
from kx_lake.lib.lake.identity import fill_id_type, with_id_type
from kx_lake.lib.lake.partition_values import split_leaf
from kx_lake.lib.lake.leaves import spill_date
from kx_lake.lib.lake.spool import DateSpool

DAY = date(2026, 3, 9)
IST = ZoneInfo("Asia/Kolkata")


def documents(n: int) -> list[dict]:
    rng = random.Random(5)
    facilities = ["CHK-01", "chk-01", 7, None, "", ObjectId(b"0123456789ab"), "F/2", True]
    docs = []
    for i in range(n):
        doc = {"_id": ObjectId() if i % 3 else f"id-{i}", "updated_at": datetime(2026, 3, 9, 1, tzinfo=UTC) + timedelta(seconds=i),
               "amount": Decimal128(f"{i}.25") if i % 4 else None, "items": [{"code": f"c{j}"} for j in range(i % 3)]}
        choice = rng.choice(facilities)
        if choice is not None or i % 2:
            doc["facility_id"] = choice
        doc["ward"] = rng.choice(["W1", "w1", None])
        docs.append(doc)
    return docs


def test_leaves_equal_the_per_leaf_reference(tmp_path):
    docs = documents(2500)
    columns = ("facility_id", "ward")
    acc = SchemaAccumulator("updated_at", "date", reserved_columns=("date", *columns))
    spool = DateSpool(tmp_path / "spool")
    observed = []
    for doc in docs:
        spool.append(DAY, bson.encode(doc))
        copy = dict(doc)
        split_leaf(copy, columns)
        observed.append(copy)
    acc.observe_many(observed)
    schema = with_id_type(acc.schema)
    conv = Converter(schema, IST, "updated_at", "date", reserved_columns=("date", *columns))
    rejected: list = []
    pairs = spool.read_pairs(DAY, chunk_docs=700)  # 4 chunks, many leaves each
    spilled = spill_date(pairs, conv, columns, tmp_path / "leaves", lambda *r: rejected.append(r))
    got = {k: pa.Table.from_batches(list(v), schema=conv.arrow_schema) for k, v in spilled.items()}
    assert rejected == []

    decoded = [d for chunk in spool.read(DAY) for d in chunk]
    by_leaf: dict = {}
    for doc in decoded:
        by_leaf.setdefault(split_leaf(doc, columns), []).append(doc)
    reference = {k: pa.Table.from_batches([fill_id_type(conv.convert(v), v)], schema=conv.arrow_schema)
                 for k, v in by_leaf.items()}
    assert len(reference) > 10
    assert got.keys() == reference.keys()
    for key, table in reference.items():
        assert got[key].equals(table), key
