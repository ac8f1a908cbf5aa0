"""Inference: types of BSON values, the fixed `_id` and timestamp columns, names, order independence."""

from __future__ import annotations

import random
import re
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from bson import SON, Binary, Code, DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.datetime_ms import DatetimeMS

from kx_lake.lib.config.collections import TimestampEncoding
from kx_lake.lib.harmonize import HarmonizeError, SchemaAccumulator
from kx_lake.lib.harmonize.infer import seed_schema
from kx_lake.lib.harmonize.names import OVERFLOW_FIELD, VALUE_FIELD
from kx_lake.lib.harmonize.types import (
    BOOL,
    DECIMAL,
    DOUBLE,
    EMPTY_STRUCT,
    INT64,
    INT64_WIDE,
    JSON,
    NULL,
    STRING,
    TIMESTAMP,
    ListType,
    StructType,
)

S = StructType.of
T0 = datetime(2026, 1, 1, 20, 0)


def infer(*docs, ts="modifiedAt", encoding=TimestampEncoding.DATE, schema=None) -> StructType:
    acc = SchemaAccumulator(ts, encoding, schema=schema)
    acc.observe_many(list(docs))
    return acc.schema


def column(*values) -> object:
    """The type inferred for field `x` holding `values` across documents."""
    return infer(*({"_id": i, "x": v} for i, v in enumerate(values))).get("x")


def test_seed_columns_always_exist():
    assert infer() == S({"_id": STRING, "modifiedat": TIMESTAMP})
    assert seed_schema("meta.updatedAt") == S({"_id": STRING, "meta": S({"updatedat": TIMESTAMP})})


@pytest.mark.parametrize(
    ("values", "want"),
    [
        ((None,), NULL),
        ((True, False), BOOL),
        ((1, Int64(2), -3), INT64),
        ((2**31, -(2**31) - 1), INT64),  # beyond int32: still int64
        ((2**53,), INT64),  # exactly a double
        ((2**53 + 1,), INT64_WIDE),
        ((Int64(-(2**63)),), INT64_WIDE),
        ((2**63,), STRING),  # only a Python int can be this big
        ((1.5, float("nan")), DOUBLE),
        ((1, 2.5), DOUBLE),
        ((2**53 + 1, 2.5), STRING),
        (("a", 1, 2.5), STRING),
        ((True, 1), STRING),
        ((Decimal128("1.50"), Decimal128("-9999999999999999999999999.999999999"), Decimal128("99999999999999999999999999999")), DECIMAL),
        ((Decimal128("1.50"), 3), DECIMAL),
        ((Decimal128("1.0000000001"),), STRING),  # 10 fractional digits don't fit decimal(38,9)
        ((Decimal128("1.5000000000000"),), DECIMAL),  # trailing zeros do
        ((Decimal128("1E+29"),), STRING),
        ((Decimal128("NaN"),), STRING),
        ((Decimal128("0E-30"),), DECIMAL),
        ((Decimal("2.25"),), DECIMAL),
        ((Decimal128("1.5"), 2.5), STRING),
        ((T0, datetime(2026, 1, 1, tzinfo=timezone.utc)), TIMESTAMP),
        ((T0.replace(microsecond=1500),), STRING),  # finer than BSON's milliseconds: kept as text
        ((T0, "x"), STRING),
        ((DatetimeMS(0),), TIMESTAMP),
        ((DatetimeMS(2**62),), JSON),  # beyond year 9999
        ((ObjectId(), "x"), STRING),
        ((uuid.uuid4(), Binary(b"\x00" * 16, 4)), STRING),
        ((b"\x00\x01", Binary(b"x", 0)), STRING),
        ((Binary(b"x", 5),), JSON),
        ((Regex("^a", "i"),), JSON),
        ((re.compile("a"),), JSON),
        ((Timestamp(1, 2), MinKey(), MaxKey(), Code("f()"), DBRef("c", 1)), JSON),
        ((Regex("a"), "x"), JSON),
        (([1, 2], [3.5], []), ListType(DOUBLE)),
        (([],), ListType(NULL)),
        (([None],), ListType(NULL)),
        (({},), EMPTY_STRUCT),
        (({}, {"a": 1}), S({"a": INT64})),
        (({"a": 1}, 5), S({"a": INT64, VALUE_FIELD: INT64})),
        (({"a": 1}, [1]), S({"a": INT64, VALUE_FIELD: ListType(INT64)})),
        (([1], "x"), JSON),
        ((["a"], [{"k": 1}]), ListType(S({"k": INT64, VALUE_FIELD: STRING}))),
        (([[1], [2.5]],), ListType(ListType(DOUBLE))),
    ],
)
def test_value_types(values, want):
    assert column(*values) == want


def test_string_vs_long_vs_double_across_batches():
    acc = SchemaAccumulator("modifiedAt")
    acc.observe_many([{"_id": 1, "v": 1}])
    assert acc.schema.get("v") == INT64
    acc.observe_many([{"_id": 2, "v": 2.5}])
    assert acc.schema.get("v") == DOUBLE
    acc.observe_many([{"_id": 3, "v": "n/a"}])
    assert acc.schema.get("v") == STRING
    acc.observe_many([{"_id": 4, "v": 7}])  # never narrows again
    assert acc.schema.get("v") == STRING
    assert acc.documents == 4


def test_types_come_from_every_document_not_the_first_batch():
    docs = [{"_id": i, "n": i} for i in range(1000)] + [{"_id": 1000, "n": 2**40}, {"_id": 1001, "n": 2**60}]
    assert infer(*docs).get("n") == INT64_WIDE
    acc = SchemaAccumulator("modifiedAt")
    for i in range(0, len(docs), 100):
        acc.observe_many(docs[i : i + 100])
    assert acc.schema == infer(*docs)


def test_missing_and_extra_fields_and_nulls():
    schema = infer({"_id": 1, "a": 1, "n": None}, {"_id": 2, "b": "x"}, {"_id": 3, "a": None, "c": {"d": None}})
    assert schema == S({"_id": STRING, "modifiedat": TIMESTAMP, "a": INT64, "b": STRING, "n": NULL, "c": S({"d": NULL})})


def test_deep_nesting():
    doc = {"_id": 1, "l1": {"l2": [{"l3": {"l4": [{"l5": {"l6": [1, 2.5]}}]}}]}}
    want = S({"l1": S({"l2": ListType(S({"l3": S({"l4": ListType(S({"l5": S({"l6": ListType(DOUBLE)})}))})}))})})
    assert infer(doc).get("l1") == want.get("l1")


def test_names_are_mapped_and_case_variants_share_a_column():
    schema = infer({"_id": 1, "modifiedAt": T0, "Patient Name": "a", "a.b": 1, "$x": True}, {"_id": 2, "MODIFIEDAT": T0})
    assert set(schema.names) == {"_id", "modifiedat", "patient_name", "a_b", "_x"}
    schema = infer({"_id": 1, "Name": "a"}, {"_id": 2, "name": 5})
    assert schema.get("name") == STRING and OVERFLOW_FIELD not in schema.names


def test_colliding_keys_in_one_document_go_to_overflow():
    schema = infer({"_id": 1, "Name": "a", "name": 5, "sub": {"A": 1, "a": 2}})
    assert schema.get("name") == INT64  # the exact-case key wins
    assert schema.get(OVERFLOW_FIELD) == JSON
    assert schema.get("sub") == S({"a": INT64, OVERFLOW_FIELD: JSON})
    assert infer({"_id": 1, VALUE_FIELD: 1}).get(OVERFLOW_FIELD) == JSON  # reserved names too


def test_id_is_always_text():
    assert infer({"_id": ObjectId()}, {"_id": "s"}, {"_id": 5}, {"_id": {"a": 1}}).get("_id") == STRING
    with pytest.raises(HarmonizeError, match="_id"):
        infer({"_id": 1}, {"_id": object()})


@pytest.mark.parametrize(
    ("encoding", "values"),
    [
        (TimestampEncoding.DATE, [T0, datetime(2026, 1, 1, tzinfo=timezone.utc), DatetimeMS(5)]),
        (TimestampEncoding.EPOCH_MS, [1767297600000, Int64(1767297600000), 1767297600000.0, T0]),
        (TimestampEncoding.ISO_STRING, ["2026-01-01T20:00:00Z", "2026-01-02T01:30:00.123+05:30", T0]),
    ],
)
def test_timestamp_column_is_timestamp_whatever_the_encoding(encoding, values):
    docs = [{"_id": i, "modifiedAt": v} for i, v in enumerate(values)] + [{"_id": 99, "modifiedAt": None}]
    assert infer(*docs, encoding=encoding).get("modifiedat") == TIMESTAMP


@pytest.mark.parametrize(
    ("encoding", "bad"),
    [  # the configured encoding documents the application; any encoding of a timestamp is accepted
        (TimestampEncoding.EPOCH_MS, "1767297600000"),  # digits as text are not ISO-8601
        (TimestampEncoding.EPOCH_MS, 2**62),  # past year 9999 as milliseconds
        (TimestampEncoding.EPOCH_MS, float("nan")),
        (TimestampEncoding.ISO_STRING, "yesterday"),
        (TimestampEncoding.ISO_STRING, {"$date": 1}),
        (TimestampEncoding.DATE, True),
        (TimestampEncoding.DATE, [T0]),
    ],
)
def test_unparseable_timestamp_names_field_and_id(encoding, bad):
    docs = [{"_id": ObjectId("65a1b2c3d4e5f60718293a4b"), "meta": {"modifiedAt": T0}}, {"_id": "doc-7", "meta": {"modifiedAt": bad}}]
    with pytest.raises(HarmonizeError) as info:
        infer(*docs, ts="meta.modifiedAt", encoding=encoding)
    assert info.value.field == "meta.modifiedAt" and info.value.doc_id == "doc-7"
    assert "meta.modifiedAt" in str(info.value) and "doc-7" in str(info.value)


@pytest.mark.parametrize("good", [
    "2026-01-01T20:00:00Z", "2026-01-01T20:00:00", 1767297600000, 1767297600, 1767297600.5, Int64(1767297600000),
    Decimal128("1767297600000"), T0])
@pytest.mark.parametrize("encoding", list(TimestampEncoding))
def test_a_timestamp_in_any_encoding_is_accepted_whatever_is_configured(encoding, good):
    docs = [{"_id": 1, "modifiedAt": T0}, {"_id": 2, "modifiedAt": good}]
    assert infer(*docs, encoding=encoding).get("modifiedat") == TIMESTAMP


def test_stored_schema_only_widens():
    stored = infer({"_id": 1, "a": 1, "b": {"c": "x"}})
    acc = SchemaAccumulator("modifiedAt", schema=stored)
    acc.observe_many([{"_id": 2, "a": 2.5}])
    assert acc.schema == S({"_id": STRING, "modifiedat": TIMESTAMP, "a": DOUBLE, "b": S({"c": STRING})})
    with pytest.raises(HarmonizeError, match="modifiedat"):
        SchemaAccumulator("modifiedAt", schema=S({"modifiedat": STRING}))


def test_unsupported_values_and_documents_are_errors():
    with pytest.raises(HarmonizeError) as info:
        infer({"_id": 1, "a": {"b": [1, {1, 2}]}})
    assert info.value.field == "a.b[]" and info.value.doc_id == "1"
    with pytest.raises(HarmonizeError):
        SchemaAccumulator("modifiedAt").observe_many([["not", "a", "dict"]])


@pytest.mark.parametrize("seed", range(3))
def test_schema_is_independent_of_document_order_and_batching(seed):
    rng = random.Random(seed)
    pool = [1, 2**60, 2.5, "s", True, None, T0, Decimal128("1.5"), [1], ["a", {"k": 1}], {"a": 1}, {"A": "x", "a": 2}, {}]
    docs = [{"_id": i, **{rng.choice("abcdE"): rng.choice(pool) for _ in range(3)}} for i in range(60)]
    want = infer(*docs)
    for _ in range(5):
        rng.shuffle(docs)
        acc = SchemaAccumulator("modifiedAt")
        cut = rng.randrange(1, len(docs))
        acc.observe_many(docs[:cut])
        for doc in docs[cut:]:
            acc.observe(doc)
        assert acc.schema == want


# --- the transposition's fast paths agree with the one-object-at-a-time reference ---------------


def _objects(rng: random.Random, layout: str) -> list[dict]:
    keys = ["a", "A", "b", "c", "Name", "name", "_kx_value", "x.y", "x_y"]
    if layout == "uniform":
        fixed = rng.sample(keys, 4)
        return [{k: rng.randrange(5) for k in fixed} for _ in range(50)]
    if layout == "reordered":
        fixed = rng.sample(keys, 4)
        return [{k: rng.randrange(5) for k in rng.sample(fixed, 4)} for _ in range(50)]
    if layout == "wide":  # more keys than the per-key lookup path takes: flattened and sliced
        return [{k: rng.randrange(5) for k in keys} for _ in range(50)]
    if layout == "wide_reordered":
        return [{k: rng.randrange(5) for k in rng.sample(keys, len(keys))} for _ in range(50)]
    if layout == "sparse":
        return [{f"id{rng.randrange(10**6)}": i} for i in range(600)]
    return [{k: rng.choice([None, 1, "s"]) for k in rng.sample(keys, rng.randrange(0, 5))} for _ in range(50)]


@pytest.mark.parametrize("layout", ["uniform", "reordered", "wide", "wide_reordered", "mixed", "sparse"])
@pytest.mark.parametrize("seed", range(5))
def test_split_objects_matches_reference(layout, seed):
    from kx_lake.lib.harmonize.columns import _split_one_by_one, split_objects

    rng = random.Random(seed)
    objects = _objects(rng, layout)
    for prefer in (None, "A", "Name"):
        want = _split_one_by_one(objects, prefer)
        assert split_objects(objects, prefer) == want
        assert split_objects([SON(o) for o in objects], prefer) == want


def test_a_failed_observe_leaves_the_schema_unchanged():
    from kx_lake.lib.harmonize.infer import CHUNK

    acc = SchemaAccumulator("modifiedAt")
    acc.observe_many([{"_id": 0, "a": 1}])
    before = acc.schema
    docs = [{"_id": i, "b": "x"} for i in range(1, CHUNK + 5)] + [{"_id": "bad", "c": object()}]
    with pytest.raises(HarmonizeError) as info:
        acc.observe_many(docs)
    assert info.value.doc_id == "bad"
    assert acc.schema == before and acc.documents == 1
