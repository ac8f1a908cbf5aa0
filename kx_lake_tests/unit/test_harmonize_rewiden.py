"""Rewriting lake rows to a widened schema from the rows themselves (rewiden.widen_batch).

The property (`check_widening`; on random and synthetic documents in test_harmonize_rewiden_random):
for docs1 and docs2, S1 = schema(docs1) and S2 = schema(docs1 + docs2),
widen_batch(Converter(S1).convert(docs1), S1, S2) is exactly Converter(S2).convert(docs1) - or
raises NotWidenableFromLake for a column `widening_risks` lists. Here: each widening rule, and each
refusal shown to be necessary (two documents the old column stores identically that the new column
renders differently), and the batch handling (tables, partition columns, old files, bad input).
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from bson import Decimal128, Int64, ObjectId, Regex

from kx_lake.lib.harmonize import (
    Converter,
    LakeBatchMismatch,
    NotWidenableFromLake,
    SchemaAccumulator,
    StructType,
    widen_batch,
    widening_risks,
)
from kx_lake.lib.harmonize.roundtrip import same
from kx_lake.lib.harmonize.types import DOUBLE, INT64, JSON, STRING, TIMESTAMP, DecimalType, ListType

IST = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")
S = StructType.of


def schema_of(docs, *, base=None, ts="modifiedAt", encoding="date", reserved=()) -> StructType:
    acc = SchemaAccumulator(ts, encoding, schema=base, reserved_columns=reserved)
    acc.observe_many(docs)
    return acc.schema


def convert(schema, docs, *, tz=IST, ts="modifiedAt", encoding="date", reserved=()) -> pa.RecordBatch:
    return Converter(schema, tz, ts, encoding, reserved_columns=reserved).convert(docs)


def widen(batch, old, new, *, tz=IST, ts="modifiedAt", encoding="date", reserved=()):
    return widen_batch(batch, old, new, tz=tz, timestamp_column=ts, timestamp_encoding=encoding, reserved_columns=reserved)


def _plain(t: pa.DataType) -> pa.DataType:
    """The type with timestamps as int64: to_pylist can't hold the wall clock of year 0 or 10000."""
    if pa.types.is_timestamp(t):
        return pa.int64()
    if pa.types.is_list(t):
        return pa.list_(_plain(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _plain(f.type)) for f in t])
    return t


def assert_same(got, want) -> None:
    """Equal schemas and values; floats compared strictly (NaN equals NaN, -0.0 differs from 0.0)."""
    assert got.schema == want.schema
    assert got.num_rows == want.num_rows
    for name in want.schema.names:
        a, b = got.column(name), want.column(name)
        if not a.equals(b):  # Arrow's equality says NaN != NaN: compare the values strictly instead
            assert same(a.cast(_plain(a.type)).to_pylist(), b.cast(_plain(b.type)).to_pylist()), name


def check_widening(docs1, docs2, *, tz=IST, ts="modifiedAt", encoding="date", reserved=()) -> str:
    """'same' (no widening), 'exact', or 'refused' (a column widening_risks lists); asserts the rest."""
    s1 = schema_of(docs1, ts=ts, encoding=encoding, reserved=reserved)
    s2 = schema_of(docs2, base=s1, ts=ts, encoding=encoding, reserved=reserved)
    old = convert(s1, docs1, tz=tz, ts=ts, encoding=encoding, reserved=reserved)
    try:
        got = widen(old, s1, s2, tz=tz, ts=ts, encoding=encoding, reserved=reserved)
    except NotWidenableFromLake as refused:
        assert refused.column in widening_risks(s1, s2), (refused.column, widening_risks(s1, s2))
        return "refused"
    want = convert(s2, docs1, tz=tz, ts=ts, encoding=encoding, reserved=reserved)
    keep = [n for n in want.schema.names if n not in reserved]
    assert_same(got, want.select(keep))
    return "same" if s1 == s2 else "exact"


# --- one test per widening rule -------------------------------------------------------------------

D = datetime(2026, 1, 1, 20, 0)
RULES = {
    "null -> T": ([{"x": None}], [{"x": [1, {"a": D}]}]),
    "int64 -> double": ([{"x": 1}, {"x": -(2**53)}, {"x": None}], [{"x": 0.5}]),
    "int64 -> int64(wide)": ([{"x": 1}], [{"x": Int64(2**60)}]),
    "int64 -> decimal": ([{"x": 7}, {"x": -(2**63)}], [{"x": Decimal128("1.25")}]),
    "int64 -> string": ([{"x": 12}, {"x": Int64(-(2**63))}], [{"x": "twelve"}]),
    "bool -> string": ([{"x": True}, {"x": False}], [{"x": "maybe"}]),
    "double -> string": ([{"x": 0.1}, {"x": 1e300}, {"x": -0.0}, {"x": float("nan")}, {"x": float("-inf")}], [{"x": "y"}]),
    "timestamp -> string": ([{"x": D}, {"x": datetime(1, 1, 1)}, {"x": datetime(9999, 12, 31, 23, 59, 59, 999000)}], [{"x": "when"}]),
    "scalars -> json": (
        [{"b": True, "i": Int64(2**62), "d": 2.5, "t": D, "o": datetime(1969, 7, 20), "n": float("nan")}],
        [{k: [1] for k in "bidton"}],
    ),
    "plain text -> json": ([{"x": "Ravi Kumar"}, {"x": 'quote " and \\ नमस्ते'}, {"x": "M"}], [{"x": [1]}]),
    "struct gains fields": ([{"x": {"a": 1, "b": {"c": "s"}}}, {"x": None}, {"x": {}}], [{"x": {"b": {"d": 1}, "e": [True]}}]),
    "struct + scalar": ([{"x": {"a": 1}}, {"x": None}], [{"x": 5}]),
    "scalar + struct": ([{"x": 5}, {"x": None}, {"x": 2}], [{"x": {"a": 1}}]),
    "list + struct": ([{"x": [1, 2]}, {"x": []}], [{"x": {"a": 1}}]),
    "{} + struct": ([{"x": {}}, {"x": None}], [{"x": {"a": 1}}]),
    "{} + scalar": ([{"x": {}}], [{"x": 1.5}]),
    "list<string> + list<struct>": ([{"x": ["a", "b"]}, {"x": None}, {"x": []}], [{"x": [{"k": 1}, "c"]}]),
    "list<int> -> list<double>": ([{"x": [1, None, 3]}, {"x": None}], [{"x": [0.5]}]),
    "list -> json": ([{"x": [1, None, [2, [True]], D]}, {"x": []}, {"x": None}], [{"x": "s"}]),
    "list<json> -> json": ([{"x": [Regex("a", "i"), 1]}], [{"x": 3}]),
    "list<{}> -> json": ([{"x": [{}, None]}], [{"x": 3}]),
    "json stays json": ([{"x": Regex("a")}], [{"x": [1], "y": 2}]),
    "keyless struct -> json": ([{"x": [{}, 5, {"_kx_value": 1, "_KX_VALUE": 2}]}], [{"x": 3}]),
    "nested": (
        [{"x": {"l": [{"a": 1, "b": [1, 2]}, {"a": 2}], "v": 3}}],
        [{"x": {"l": [{"a": 0.5, "b": [{"c": 1}]}, "str"], "v": {"w": 1}}}],
    ),
    "new top-level column": ([{"x": 1}], [{"y": 1}]),
}


@pytest.mark.parametrize("rule", list(RULES))
def test_each_widening_rule_is_exact(rule):
    docs1, docs2 = RULES[rule]
    docs1 = [{"_id": i, "modifiedAt": D, **d} for i, d in enumerate(docs1)]
    docs2 = [{"_id": 100 + i, "modifiedAt": D, **d} for i, d in enumerate(docs2)]
    assert check_widening(docs1, docs2) == "exact"


def test_decimal_to_wider_decimal_and_int_to_decimal_of_any_scale():
    # inference only makes decimal(38,9); stored schemas may hold others, and merge widens them
    base = {"_id": STRING, "modifiedat": TIMESTAMP}
    docs = [{"_id": i, "modifiedAt": D, "x": v, "n": [n]} for i, (v, n) in enumerate([(Decimal128("1.5"), 7), (Decimal128("-12345678.25"), -(2**63)), (None, 0)])]
    old = S({**base, "x": DecimalType(10, 2), "n": ListType(INT64)})
    new = S({**base, "x": DecimalType(13, 5), "n": ListType(DecimalType(21, 2))})
    assert_same(widen(convert(old, docs), old, new), convert(new, docs))


@pytest.mark.parametrize(("encoding", "value"), [("epoch_ms", 1767297600000), ("iso_string", "2026-01-02T01:30:00.5+05:30")])
def test_a_nested_timestamp_column_in_any_encoding_stays_as_it_is(encoding, value):
    kw = dict(ts="meta.changedAt", encoding=encoding)
    docs1 = [{"_id": 1, "meta": {"changedAt": value, "n": 1}}, {"_id": 2, "meta": {"changedAt": D}}]
    docs2 = [{"_id": 3, "meta": {"changedAt": D, "n": "one", "new": True}}]
    assert check_widening(docs1, docs2, **kw) == "exact"


def test_the_widened_types_are_the_ones_the_rules_promise():
    def widened(rule):
        docs1, docs2 = RULES[rule]
        return schema_of(docs2, base=schema_of(docs1)).get("x")

    assert widened("int64 -> double") == DOUBLE
    assert widened("int64 -> decimal") == DecimalType(38, 9)
    assert widened("double -> string") == STRING
    assert widened("list -> json") == JSON
    assert widened("list<string> + list<struct>") == ListType(S({"_kx_value": STRING, "k": INT64}))
    assert widened("scalar + struct") == S({"_kx_value": INT64, "a": INT64})


# --- the cases the lake value can't decide --------------------------------------------------------

# (a, b, widening): a and b are stored identically under schema(a + b) but differ under the widened one
LOSSY = {
    "integral double -> text": ({"x": 1}, {"x": 1.0}, {"x": True}),
    "integral double -> json": ({"x": [3]}, {"x": [3.0]}, {"x": "s"}),
    "decimal -> text (exponent)": ({"x": Decimal128("1.5")}, {"x": Decimal128("1.50")}, {"x": "s"}),
    "decimal -> text (int)": ({"x": 2}, {"x": Decimal128("2.0")}, {"x": "s"}),
    "decimal -> json": ({"x": Decimal128("1.5")}, {"x": Decimal128("1.50")}, {"x": [1]}),
    "text -> json (number)": ({"x": "123"}, {"x": 123}, {"x": [1]}),
    "text -> json (bool)": ({"x": "true"}, {"x": True}, {"x": [1]}),
    "text -> json (ObjectId)": ({"x": "65a1b2c3d4e5f60718293a4b"}, {"x": ObjectId("65a1b2c3d4e5f60718293a4b")}, {"x": [1]}),
    "text -> json (UUID)": ({"x": str(uuid.UUID(int=7))}, {"x": uuid.UUID(int=7)}, {"x": [1]}),
    "text -> json (bytes)": ({"x": "Male"}, {"x": base64.b64decode("Male")}, {"x": [1]}),
    "text -> json (date)": ({"x": "2026-01-01T20:00:00.000Z"}, {"x": D}, {"x": [1]}),
    "object -> json (keys)": ({"x": [{"A": 1}]}, {"x": [{"a": 1}]}, {"x": 1}),
    "object -> json (missing vs null)": ({"x": [{"a": 1}]}, {"x": [{"a": 1, "b": None}]}, {"x": 1}),
}


@pytest.mark.parametrize("case", list(LOSSY))
def test_each_refusal_is_necessary_and_raises_the_typed_error(case):
    a, b, widening = (dict(d, _id=1, modifiedAt=D) for d in LOSSY[case])
    s1 = schema_of([a, b])
    s2 = schema_of([widening], base=s1)
    column = "x"
    assert same(convert(s1, [a]).column(column).to_pylist(), convert(s1, [b]).column(column).to_pylist())
    assert convert(s2, [a]).column(column).to_pylist() != convert(s2, [b]).column(column).to_pylist()
    for doc in (a, b):
        with pytest.raises(NotWidenableFromLake) as raised:
            widen(convert(s1, [doc]), s1, s2)
        assert raised.value.column == column and raised.value.old == s1.get(column) and raised.value.new == s2.get(column)
        assert raised.value.reason == widening_risks(s1, s2)[column]


def test_dst_fold_is_refused_and_the_rest_of_the_year_is_exact():
    first, second = datetime(2025, 11, 2, 5, 30), datetime(2025, 11, 2, 6, 30)  # both 01:30 in New York
    docs = [{"_id": i, "modifiedAt": D, "t": t} for i, t in enumerate([first, second])]
    s1 = schema_of(docs)
    s2 = schema_of([{"_id": 9, "modifiedAt": D, "t": "text"}], base=s1)
    old = convert(s1, docs, tz=NEW_YORK)
    assert old.column("t")[0] == old.column("t")[1]
    with pytest.raises(NotWidenableFromLake, match="DST fold"):
        widen(old, s1, s2, tz=NEW_YORK)
    year = [{"_id": h, "modifiedAt": D, "t": datetime(2025, 1, 1) + timedelta(hours=h, milliseconds=h)} for h in range(8760)]
    year = [d for d in year if not datetime(2025, 11, 2, 5) <= d["t"] < datetime(2025, 11, 2, 7)]
    assert check_widening(year, [{"_id": -1, "modifiedAt": D, "t": [1]}], tz=NEW_YORK) == "exact"


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Tokyo"])
def test_dates_at_the_ends_of_the_calendar_far_from_utc(zone):
    # the wall clock of 0001-01-01T00:00Z west of UTC is in year 0, of 9999-12-31T23:59Z east in 10000
    docs = [{"_id": i, "modifiedAt": D, "t": t} for i, t in enumerate([datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999000)])]
    for widening in ("text", [1]):
        assert check_widening(docs, [{"_id": 9, "modifiedAt": D, "t": widening}], tz=ZoneInfo(zone)) == "exact"


def test_ambiguous_values_are_refused_only_when_present():
    docs = [{"_id": 1, "modifiedAt": D, "x": 2.5}, {"_id": 2, "modifiedAt": D, "x": 3}]
    s1 = schema_of(docs)
    s2 = schema_of([{"_id": 3, "modifiedAt": D, "x": "s"}], base=s1)
    assert widen(convert(s1, docs[:1]), s1, s2).column("x").to_pylist() == ["2.5"]
    with pytest.raises(NotWidenableFromLake, match="integral double"):
        widen(convert(s1, docs), s1, s2)


def test_widening_risks_lists_exactly_the_columns_that_may_be_refused():
    old = S({"a": DOUBLE, "b": INT64, "c": ListType(S({"k": STRING})), "d": TIMESTAMP, "e": STRING})
    new = S({"a": STRING, "b": STRING, "c": JSON, "d": STRING, "e": STRING, "f": JSON})
    assert set(widening_risks(old, new)) == {"a", "c", "d"}
    assert widening_risks(old, old) == {}


# --- the batch: tables, partition columns, columns the file lacks, bad input -------------------------


def test_tables_in_chunks_and_reserved_columns():
    reserved = ("date", "facility_id")
    docs = [{"_id": i, "modifiedAt": D, "facility_id": "F1", "Date": i, "x": i} for i in range(5)]
    s1 = schema_of(docs, reserved=reserved)
    s2 = schema_of([{"_id": 9, "modifiedAt": D, "x": "s", "date": 1.5}], base=s1, reserved=reserved)
    # a legacy schema (before the reserved-column rule) still has a `date` column: not in the files
    legacy_old, legacy_new = S({**s1.as_dict(), "date": INT64}), S({**s2.as_dict(), "date": DOUBLE})
    batch = convert(s1, docs, reserved=reserved)
    table = pa.Table.from_batches([batch.slice(0, 2), batch.slice(2)])
    with_partitions = table.append_column("date", pa.array([1] * 5))  # as a dataset reader adds it
    got = widen(with_partitions, legacy_old, legacy_new, reserved=reserved)
    assert isinstance(got, pa.Table)
    want = convert(s2, docs, reserved=reserved)
    assert_same(got, pa.Table.from_batches([want]))
    assert "date" not in got.schema.names and got.column("date_").to_pylist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert got.column("x").to_pylist() == ["0", "1", "2", "3", "4"]


def test_columns_and_struct_fields_missing_from_the_file_are_null():
    # files written before a column or a struct field was added (those widenings rewrite nothing)
    docs = [{"_id": 1, "modifiedAt": D, "s": {"a": 1, "b": 2}, "l": [{"a": 1, "b": 2}], "x": 1}]
    s1 = schema_of(docs)
    s2 = schema_of([{"_id": 2, "modifiedAt": D, "s": {"a": 0.5}, "l": ["e"], "x": "s"}], base=s1)
    full = convert(s1, docs)
    s_without_b = pa.StructArray.from_arrays([full.column("s").field("a")], names=["a"])
    l_without_b = pa.ListArray.from_arrays(pa.array([0, 1], pa.int32()), pa.StructArray.from_arrays([pa.array([1])], names=["a"]))
    old_file = pa.RecordBatch.from_arrays([full.column("_id"), full.column("modifiedat"), s_without_b, l_without_b], names=["_id", "modifiedat", "s", "l"])
    got = widen(old_file, s1, s2)
    assert got.schema == s2.to_arrow_schema()
    assert got.column("s").to_pylist() == [{"a": 1.0, "b": None}]
    assert got.column("l").to_pylist() == [[{"_kx_value": None, "a": 1, "b": None}]]
    assert got.column("x").to_pylist() == [None]


def test_bad_input_is_named():
    docs = [{"_id": 1, "modifiedAt": D, "s": {"a": 1}, "x": 1}]
    s1 = schema_of(docs)
    s2 = schema_of([{"_id": 2, "modifiedAt": D, "x": "s"}], base=s1)
    batch = convert(s1, docs)
    with pytest.raises(LakeBatchMismatch, match="'x'.*int64"):
        widen(batch.set_column(3, "x", pa.array(["1"])), s1, s2)
    with pytest.raises(LakeBatchMismatch, match="'extra'"):
        widen(batch.append_column("extra", pa.array([1])), s1, s2)
    with pytest.raises(LakeBatchMismatch, match="'s.z'"):
        widen(batch.set_column(2, "s", pa.StructArray.from_arrays([pa.array([1])], names=["z"])), s1, s2)
    with pytest.raises(ValueError, match="not a widening"):
        widen(batch, s2, s1)
    with pytest.raises(ValueError, match="timestamp column"):
        widen(batch, s1, s2, ts="x")


def test_unchanged_columns_are_passed_through_untouched():
    docs = [{"_id": i, "modifiedAt": D, "keep": {"a": [i, i + 1]}, "x": i} for i in range(3)]
    s1 = schema_of(docs)
    s2 = schema_of([{"_id": 5, "modifiedAt": D, "x": 0.5}], base=s1)
    batch = convert(s1, docs)
    got = widen(batch, s1, s2)
    def addresses(arr):
        return [b.address for b in arr.buffers() if b is not None]

    assert addresses(got.column("keep")) == addresses(batch.column("keep"))  # zero-copy
    assert addresses(got.column("x")) != addresses(batch.column("x"))
