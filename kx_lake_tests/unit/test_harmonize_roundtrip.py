"""The lossless proof: every leaf of nasty and of random documents is found in the converted rows,
and the checker does report a value that was dropped or altered."""

from __future__ import annotations

import random
import re
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from bson import Binary, Code, DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.datetime_ms import DatetimeMS

from kx_lake.lib.config.collections import TimestampEncoding
from kx_lake.lib.harmonize import Converter, HarmonizeError, SchemaAccumulator, check_round_trip, leaf_values
from kx_lake.lib.harmonize.names import OVERFLOW_FIELD

IST = ZoneInfo("Asia/Kolkata")
T0 = datetime(2026, 1, 1, 20, 0)


def nasty_documents() -> list[dict]:
    oid = ObjectId("65a1b2c3d4e5f60718293a4b")
    return [
        {
            "_id": oid,
            "modifiedAt": T0,
            "Patient Name": "Ravi Kumar",
            "a.b": 1,
            "$x": True,
            "Name": "upper",
            "name": "lower",
            "NAME": None,
            "age": 2**31,
            "big": 2**53 + 1,
            "ratio": 0.1,
            "amount": Decimal128("1234.50"),
            "tiny": Decimal128("1.0000000001"),
            "weird": [1, "two", 3.5, None, {"k": 1}, [1, [2, [3]]]],
            "tags": ["a", "b"],
            "deep": {"l2": {"l3": {"l4": {"l5": {"l6": [{"l7": "bottom"}]}}}}},
            "empty_obj": {},
            "empty_list": [],
            "nothing": None,
            "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "bytes": b"\x00\xffbinary",
            "regex": Regex("^a.*", "i"),
            "pattern": re.compile("b+", re.I),
            "ts": Timestamp(1700000000, 7),
            "keys": [MinKey(), MaxKey()],
            "code": Code("function(){}", {"x": 1}),
            "ref": DBRef("patients", oid, "his"),
            "nan": float("nan"),
            "negzero": -0.0,
            "inf": float("inf"),
            "later": datetime(2026, 6, 1, 12, 0, 0, 123000),
            "micro": datetime(2026, 6, 1, 12, 0, 0, 123456),
            "old": datetime(1, 1, 1),
            "dtms": DatetimeMS(2**60),
            "ünïcode": "नमस्ते",
            "2024": {"visits": 3},
            "_kx_value": "reserved name in the source",
        },
        {
            "_id": "string-id",
            "modifiedAt": datetime(2026, 1, 1, 18, 30, tzinfo=timezone.utc),
            "name": 42,
            "age": "unknown",
            "big": 2.5,
            "amount": 7,
            "tags": [{"label": "x", "Label": "y"}, "plain"],
            "deep": "flattened",
            "empty_obj": {"now": "filled"},
            "empty_list": [[], {}],
            "weird": "scalar",
            "ratio": Int64(3),
            "nan": None,
            "bytes": Binary(b"\x01\x02", 0),
            "uuid": Binary(uuid.UUID(int=5).bytes, 4),
            "later": "not a date",
        },
        {"_id": 17, "modifiedAt": None, "amount": Decimal128("-0.000000001"), "deep": [1, 2], "tags": []},
        {"_id": {"compound": 1, "key": oid}, "x": Decimal("3.14"), "n": -(2**63)},
        {"_id": uuid.UUID(int=9), "modifiedAt": datetime(2026, 3, 31, 23, 59, 59, 999000)},
    ]


def harmonize(docs, *, ts="modifiedAt", encoding=TimestampEncoding.DATE, tz=IST, batches=1):
    acc = SchemaAccumulator(ts, encoding)
    size = max(1, -(-len(docs) // batches))
    for start in range(0, len(docs), size):
        acc.observe_many(docs[start : start + size])
    conv = Converter(acc.schema, tz, ts, encoding)
    return acc.schema, pa.Table.from_batches([conv.convert(docs[i : i + size]) for i in range(0, len(docs), size)], acc.schema.to_arrow_schema())


def check(docs, schema, table, *, ts="modifiedAt", encoding=TimestampEncoding.DATE, tz=IST):
    return check_round_trip(docs, table, schema, tz=tz, timestamp_column=ts, timestamp_encoding=encoding)


def test_leaf_values_lists_every_leaf():
    doc = {"a": 1, "b": {"c": [1, {"d": None}], "e": {}}, "f": [], "g": Int64(5), "h": T0}
    assert leaf_values(doc) == [
        (("a",), 1),
        (("b", "c", 0), 1),
        (("b", "c", 1, "d"), None),
        (("b", "e"), {}),
        (("f",), []),
        (("g",), 5),
        (("h",), T0.replace(tzinfo=timezone.utc)),
    ]


def test_every_leaf_of_nasty_documents_survives():
    docs = nasty_documents()
    schema, table = harmonize(docs)
    assert check(docs, schema, table) == []
    assert sum(len(leaf_values(d)) for d in docs) > 70


def test_every_leaf_survives_in_any_batching():
    docs = nasty_documents() * 3
    schema, table = harmonize(docs, batches=4)
    assert table.num_rows == len(docs)
    assert check(docs, schema, table) == []


@pytest.mark.parametrize("encoding", list(TimestampEncoding))
def test_timestamp_column_leaves(encoding):
    value = {
        TimestampEncoding.DATE: T0,
        TimestampEncoding.EPOCH_MS: 1767297600000,
        TimestampEncoding.ISO_STRING: "2026-01-02T01:30:00+05:30",
    }[encoding]
    # any key mapping to the column is the timestamp; in a collision the configured key wins
    docs = [
        {"_id": 1, "meta": {"Changed": value}},
        {"_id": 2, "meta": {"changed": T0}},
        {"_id": 3, "meta": {"changed": "loses to the configured key", "Changed": value}},
    ]
    schema, table = harmonize(docs, ts="meta.Changed", encoding=encoding)
    assert [m["changed"] for m in table.column("meta").to_pylist()] == [datetime(2026, 1, 2, 1, 30)] * 3
    assert check(docs, schema, table, ts="meta.Changed", encoding=encoding) == []
    with pytest.raises(HarmonizeError, match="meta.Changed"):
        harmonize([{"_id": 4, "meta": {"Changed": "garbage", "changed": T0}}], ts="meta.Changed", encoding=encoding)


def _tamper(table: pa.Table, column: str, row: int, value) -> pa.Table:
    rows = table.to_pylist()
    rows[row][column] = value
    return pa.Table.from_pylist(rows, schema=table.schema)


@pytest.mark.parametrize(
    ("column", "row", "value", "complaint"),
    [
        ("age", 0, None, "age"),  # a dropped int (stored as text "2147483648")
        ("amount", 0, Decimal("1234.5000001"), "amount"),
        ("ratio", 0, 0.1000000001, "ratio"),
        ("name", 0, "other", "name"),
        (OVERFLOW_FIELD, 0, '{"NAME":null}', "Name"),  # a collision loser lost
        ("modifiedat", 0, datetime(2026, 1, 1, 20, 0), "modifiedAt"),  # UTC instead of local time
        ("later", 0, "2026-06-01T12:00:00.000Z", "later"),
        ("tags", 1, [{"label": "x", "_kx_overflow": None, "_kx_value": None}, {"label": None, "_kx_overflow": None, "_kx_value": "plain"}], "Label"),
        ("weird", 0, None, "weird"),
        ("deep", 0, None, "l7"),
        ("empty_list", 0, None, "empty_list"),
        ("_id", 3, '{"compound":1}', "key"),
    ],
)
def test_checker_reports_dropped_or_altered_values(column, row, value, complaint):
    docs = nasty_documents()
    schema, table = harmonize(docs)
    assert check(docs, schema, table) == []
    problems = check(docs, schema, _tamper(table, column, row, value))
    assert problems, f"tampering with {column} went unnoticed"
    assert any(complaint in p for p in problems), problems


def test_checker_reports_missing_rows_and_schema_drift():
    docs = nasty_documents()
    schema, table = harmonize(docs)
    assert check(docs, schema, table.slice(0, 2))
    assert check(docs, schema, table.drop_columns(["age"]))


# --- random documents ---------------------------------------------------------------------------

_KEYS = ["a", "A", "b", "code", "Code", "value", "x.y", "$z", "list", "n"]


def _random_value(rng: random.Random, depth: int):
    roll = rng.random()
    if depth < 4 and roll < 0.15:
        return {rng.choice(_KEYS): _random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))}
    if depth < 4 and roll < 0.27:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return rng.choice(
        [
            lambda: None,
            lambda: rng.random() < 0.5,
            lambda: rng.randrange(-1000, 1000),
            lambda: rng.choice([2**31, -(2**53) - 7, 2**62, Int64(-(2**63))]),
            lambda: rng.uniform(-1e6, 1e6),
            lambda: rng.choice([float("nan"), float("inf"), -0.0, 1e-300]),
            lambda: rng.choice(["", "text", "नमस्ते", "1.5", "true"]),
            lambda: T0 + timedelta(milliseconds=rng.randrange(-10**12, 10**12)),
            lambda: ObjectId(),
            lambda: Decimal128(f"{rng.randrange(-10**6, 10**6)}.{rng.randrange(10**4):04d}"),
            lambda: Decimal128(rng.choice(["NaN", "1E+40", "0.0000000000001"])),
            lambda: uuid.UUID(int=rng.randrange(2**128)),
            lambda: bytes(rng.randrange(256) for _ in range(rng.randrange(0, 5))),
            lambda: Regex("x", rng.choice(["", "i", "ms"])),
        ]
    )()


@pytest.mark.parametrize("seed", range(6))
def test_random_documents_round_trip(seed):
    rng = random.Random(seed)
    docs = []
    for i in range(120):
        doc = {"_id": rng.choice([ObjectId(), f"id{i}", i]), "modifiedAt": T0 + timedelta(hours=rng.randrange(-5000, 5000))}
        for _ in range(rng.randrange(0, 6)):
            doc[rng.choice(_KEYS)] = _random_value(rng, 0)
        docs.append(doc)
    tz = ZoneInfo(rng.choice(["Asia/Kolkata", "America/New_York", "UTC"]))
    schema, table = harmonize(docs, tz=tz, batches=rng.randrange(1, 5))
    assert check(docs, schema, table, tz=tz) == []


def test_batches_larger_than_one_slice():
    from kx_lake.lib.harmonize.convert import CHUNK

    docs = nasty_documents() * (CHUNK // 4 + 3)  # > CHUNK documents: converted in slices, concatenated
    schema, table = harmonize(docs)
    assert table.num_rows == len(docs) > CHUNK
    assert check(docs, schema, table) == []
