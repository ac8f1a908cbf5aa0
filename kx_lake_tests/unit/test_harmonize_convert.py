"""Conversion: exact Arrow schema for every batch, value renderings, local time, Parquet + DuckDB."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bson import Binary, Decimal128, Int64, ObjectId, Regex

from kx_lake.lib.config.collections import TimestampEncoding
from kx_lake.lib.harmonize import Converter, HarmonizeError, SchemaAccumulator
from kx_lake.lib.harmonize.clock import LocalClock
from kx_lake.lib.harmonize.names import OVERFLOW_FIELD, VALUE_FIELD
from kx_lake.lib.harmonize.types import INT64, STRING, TIMESTAMP, StructType

IST = ZoneInfo("Asia/Kolkata")
UTC = timezone.utc


def harmonize(docs, ts="modifiedAt", encoding=TimestampEncoding.DATE, tz=IST):
    acc = SchemaAccumulator(ts, encoding)
    acc.observe_many(docs)
    conv = Converter(acc.schema, tz, ts, encoding)
    batch = conv.convert(docs)
    assert batch.schema == acc.schema.to_arrow_schema()
    return acc.schema, conv, batch.to_pylist()


def test_ist_day_boundary():
    docs = [
        {"_id": 1, "modifiedAt": datetime(2026, 1, 1, 20, 0)},  # naive = UTC, as pymongo decodes
        {"_id": 2, "modifiedAt": datetime(2026, 1, 1, 18, 29, 59, 999000, tzinfo=UTC)},
        {"_id": 3, "modifiedAt": datetime(2026, 1, 1, 18, 30, tzinfo=UTC)},
        {"_id": 4, "modifiedAt": None},
    ]
    _, _, rows = harmonize(docs)
    assert [r["modifiedat"] for r in rows] == [
        datetime(2026, 1, 2, 1, 30),
        datetime(2026, 1, 1, 23, 59, 59, 999000),
        datetime(2026, 1, 2, 0, 0),
        None,
    ]


@pytest.mark.parametrize(
    ("encoding", "value"),
    [
        (TimestampEncoding.DATE, datetime(2026, 1, 1, 20, 0)),
        (TimestampEncoding.EPOCH_MS, 1767297600000),
        (TimestampEncoding.EPOCH_MS, Int64(1767297600000)),
        (TimestampEncoding.EPOCH_MS, 1767297600000.0),
        (TimestampEncoding.ISO_STRING, "2026-01-01T20:00:00Z"),
        (TimestampEncoding.ISO_STRING, "2026-01-02T01:30:00.000+05:30"),
        (TimestampEncoding.ISO_STRING, "2026-01-01T15:00:00-05:00"),
        (TimestampEncoding.ISO_STRING, "2026-01-01T20:00:00.000999Z"),  # sub-ms digits are truncated
    ],
)
def test_timestamp_column_encodings(encoding, value):
    _, _, rows = harmonize([{"_id": 1, "modifiedAt": value}], encoding=encoding)
    assert rows[0]["modifiedat"] == datetime(2026, 1, 2, 1, 30)


def test_nested_timestamp_column_and_other_dates():
    docs = [{"_id": 1, "meta": {"updatedAt": "2026-01-01T20:00:00Z", "by": "x"}, "seen": [datetime(2026, 6, 1, 0, 0)]}]
    schema, _, rows = harmonize(docs, ts="meta.updatedAt", encoding=TimestampEncoding.ISO_STRING)
    assert schema.get("meta") == StructType.of({"by": STRING, "updatedat": TIMESTAMP})
    assert rows[0]["meta"]["updatedat"] == datetime(2026, 1, 2, 1, 30)
    assert rows[0]["seen"] == [datetime(2026, 6, 1, 5, 30)]


def test_bad_timestamp_in_convert_names_field_and_id():
    schema = SchemaAccumulator("modifiedAt", "epoch_ms").schema
    conv = Converter(schema, IST, "modifiedAt", "epoch_ms")
    with pytest.raises(HarmonizeError) as info:
        conv.convert([{"_id": 1, "modifiedAt": 5}, {"_id": ObjectId("65a1b2c3d4e5f60718293a4b"), "modifiedAt": "5"}])
    assert info.value.field == "modifiedAt" and info.value.doc_id == "65a1b2c3d4e5f60718293a4b"


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"])
def test_local_time_matches_zoneinfo_across_dst_transitions(zone):
    tz = ZoneInfo(zone)
    start = datetime(2025, 3, 8, tzinfo=UTC)
    instants = [start + timedelta(minutes=7 * i) for i in range(0, 2 * 24 * 60 // 7)]  # 2 days, 7-min steps
    instants += [datetime(2025, 11, 2, 5, 59, 59, 999000, tzinfo=UTC), datetime(2025, 11, 2, 6, 0, tzinfo=UTC)]
    instants += [datetime(1900, 1, 1, tzinfo=UTC), datetime(2030, 7, 1, tzinfo=UTC)]  # a long range: per-hour path
    utc = pa.array([int(i.timestamp() * 1000) for i in instants] + [None], pa.int64())
    got = LocalClock(tz).to_local(utc).to_pylist()
    assert got == [i.astimezone(tz).replace(tzinfo=None) for i in instants] + [None]
    got_short = LocalClock(tz).to_local(utc.slice(0, len(instants) - 2)).to_pylist()  # the scanned-range path
    assert got_short == got[: len(instants) - 2]


def test_every_batch_has_exactly_the_schema_whatever_fields_it_has():
    docs = [
        {"_id": ObjectId(), "a": 1, "b": {"c": [1, 2], "d": "x"}, "e": [{"f": 1.5}]},
        {"_id": "plain", "g": Decimal128("2.50"), "b": 5, "h": None, "Name": 1, "name": 2},
        {"_id": 7, "e": ["s", {"f": 2}], "i": {}, "j": []},
    ]
    acc = SchemaAccumulator("modifiedAt")
    acc.observe_many(docs)
    conv = Converter(acc.schema, IST, "modifiedAt")
    want = acc.schema.to_arrow_schema()
    for subset in ([docs[0]], [docs[1]], [docs[2]], docs, [{"_id": 9}], []):
        batch = conv.convert(subset)
        assert batch.schema == want and batch.num_rows == len(subset)


def test_id_rendering():
    oid = ObjectId("65a1b2c3d4e5f60718293a4b")
    docs = [{"_id": oid}, {"_id": "abc"}, {"_id": 12}, {"_id": {"b": 1, "a": oid}}, {"_id": uuid.UUID(int=1)}]
    _, _, rows = harmonize(docs)
    assert [r["_id"] for r in rows] == [
        "65a1b2c3d4e5f60718293a4b",
        "abc",
        "12",
        '{"a":{"$oid":"65a1b2c3d4e5f60718293a4b"},"b":1}',
        "00000000-0000-0000-0000-000000000001",
    ]


def test_numbers_and_others_rendered_into_a_string_column():
    values = ["x", 123, -(2**63), 0.1, 1e300, float("nan"), float("-inf"), -0.0, True, datetime(2026, 1, 1, 20, 0, 0, 5000)]
    values += [ObjectId("65a1b2c3d4e5f60718293a4b"), Decimal128("1.50"), Decimal128("NaN"), b"\x00\xff", uuid.UUID(int=255)]
    _, _, rows = harmonize([{"_id": i, "v": v} for i, v in enumerate(values)])
    assert [r["v"] for r in rows] == [
        "x",
        "123",
        "-9223372036854775808",
        "0.1",
        "1e+300",
        "NaN",
        "-Infinity",
        "-0.0",
        "true",
        "2026-01-01T20:00:00.005Z",
        "65a1b2c3d4e5f60718293a4b",
        "1.50",
        "NaN",
        "AP8=",
        "00000000-0000-0000-0000-0000000000ff",
    ]


def test_json_column_is_canonical_extended_json():
    oid = ObjectId("65a1b2c3d4e5f60718293a4b")
    docs = [
        {"_id": 1, "v": {"z": [1, "a"], "a": {"$weird": oid}}},
        {"_id": 2, "v": [datetime(2026, 1, 1, 20, 0), Decimal128("1.50"), float("nan"), Regex("^a", "im")]},
        {"_id": 3, "v": "text"},
        {"_id": 4, "v": Binary(b"\x01", 5)},
        {"_id": 5, "v": {"ü": 2**62}},
    ]
    schema, _, rows = harmonize(docs)
    assert schema.get("v") is not None and str(schema.get("v")).startswith("struct")  # struct + list + scalar
    value = schema.get("v").get(VALUE_FIELD)
    assert str(value) == "json"
    got = [r["v"][VALUE_FIELD] for r in rows]
    assert got == [
        None,
        '[{"$date":"2026-01-01T20:00:00.000Z"},{"$numberDecimal":"1.50"},{"$numberDouble":"NaN"},'
        '{"$regularExpression":{"options":"im","pattern":"^a"}}]',
        '"text"',
        '{"$binary":{"base64":"AQ==","subType":"05"}}',
        None,
    ]
    assert rows[4]["v"]["_"] == 2**62  # 'ü' maps to column '_'


def test_collision_losers_are_kept_in_overflow():
    _, _, rows = harmonize([{"_id": 1, "Name": "a", "name": "b", "NAME": "c", "sub": {"X": 1, "x": 2}}])
    assert rows[0]["name"] == "b"
    assert json.loads(rows[0][OVERFLOW_FIELD]) == {"NAME": "c", "Name": "a"}
    assert rows[0]["sub"] == {"x": 2, OVERFLOW_FIELD: '{"X":1}'}


def test_decimals():
    docs = [{"_id": 1, "d": Decimal128("1.50")}, {"_id": 2, "d": 7}, {"_id": 3, "d": Decimal128("-9999999999999999999999999.999999999")}]
    docs += [{"_id": 4, "d": None}, {"_id": 5, "d": Decimal("0.000000001")}]
    _, _, rows = harmonize(docs)
    assert [r["d"] for r in rows] == [Decimal("1.5"), Decimal(7), Decimal("-9999999999999999999999999.999999999"), None, Decimal("1E-9")]


def test_large_ints_stay_exact():
    docs = [{"_id": 1, "n": 2**53 + 1, "m": 2**31, "x": 2**53 + 1}, {"_id": 2, "n": Int64(-(2**63)), "m": 1.5, "x": 0.5}]
    schema, _, rows = harmonize(docs)
    assert schema.get("n") == INT64.__class__(wide=True)
    assert [r["n"] for r in rows] == [2**53 + 1, -(2**63)]
    assert [r["m"] for r in rows] == [float(2**31), 1.5]
    assert [r["x"] for r in rows] == ["9007199254740993", "0.5"]


def test_stale_schema_raises_instead_of_writing_null():
    acc = SchemaAccumulator("modifiedAt")
    acc.observe_many([{"_id": 1, "a": 1, "s": {"b": 1}}])
    conv = Converter(acc.schema, IST, "modifiedAt")
    for doc, field in [
        ({"_id": "d2", "a": "x"}, "a"),
        ({"_id": "d2", "a": True}, "a"),
        ({"_id": "d2", "a": 1.0}, "a"),
        ({"_id": "d2", "new": 1}, "new"),
        ({"_id": "d2", "s": {"c": 1}}, "s.c"),
        ({"_id": "d2", "s": 5}, "s"),
        ({"_id": "d2", "a": 2**63}, "a"),
    ]:
        with pytest.raises(HarmonizeError) as info:
            conv.convert([{"_id": 1, "a": 2}, doc])
        assert (info.value.field, info.value.doc_id) == (field, "d2")


def test_parquet_written_by_pyarrow_is_readable_by_duckdb(tmp_path):
    docs = [
        {
            "_id": ObjectId(),
            "modifiedAt": datetime(2026, 1, 1, 20, 0),
            "amount": Decimal128("12.34"),
            "n": 2**60,
            "x": 1.5,
            "ok": True,
            "tags": ["a", {"k": 1}],
            "sub": {"deep": {"deeper": [{"v": "x"}]}},
            "mixed": [1, "a"],
            "nothing": None,
            "empty": {},
            "Name": 1,
            "name": 2,
        },
        {"_id": "s", "x": 2, "mixed": "str", "sub": 5},
    ]
    _, conv, _ = harmonize(docs)
    path = tmp_path / "part.parquet"
    pq.write_table(pa.Table.from_batches([conv.convert(docs)]), path, compression="zstd", coerce_timestamps="ms")
    con = duckdb.connect()
    described = {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}
    assert described["modifiedat"] == "TIMESTAMP"
    assert described["amount"] == "DECIMAL(38,9)"
    assert described["n"] == "BIGINT" and described["x"] == "DOUBLE" and described["ok"] == "BOOLEAN"
    assert described["tags"].startswith("STRUCT(") and described["tags"].endswith("[]")
    rows = con.execute(
        f"SELECT modifiedat, amount, n, tags[2].k, sub.deep.deeper[1].v, sub._kx_value, _kx_overflow, mixed, empty "
        f"FROM read_parquet('{path}') ORDER BY x"
    ).fetchall()
    assert rows[0][:7] == (datetime(2026, 1, 2, 1, 30), Decimal("12.340000000"), 2**60, 1, "x", None, '{"Name":1}')
    assert json.loads(rows[0][7]) == [1, "a"] and rows[0][8] == "{}"
    assert rows[1][5] == 5 and json.loads(rows[1][7]) == "str"
