"""Lake types: Arrow / Hive renderings, persistence round trip, fingerprints; the naming rule."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from kx_lake.lib.harmonize.names import OVERFLOW_FIELD, VALUE_FIELD, column_name, mapped_path, plan_keys
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
    DecimalType,
    ListType,
    StructType,
    from_json,
)

NESTED = StructType.of(
    {
        "_id": STRING,
        "a": INT64,
        "b": ListType(STRING),
        "c": StructType.of({"x": DECIMAL, "y": ListType(StructType.of({"z": TIMESTAMP, VALUE_FIELD: DOUBLE}))}),
        "d": JSON,
        "e": NULL,
        "f": EMPTY_STRUCT,
        "g": BOOL,
        "h": INT64_WIDE,
    }
)


def test_hive_strings_are_glue_types():
    assert NESTED.to_hive() == (
        "struct<_id:string,a:bigint,b:array<string>,c:struct<x:decimal(38,9),"
        "y:array<struct<_kx_value:double,z:timestamp>>>,d:string,e:string,f:string,g:boolean,h:bigint>"
    )
    assert NESTED.hive_columns()[:3] == [("_id", "string"), ("a", "bigint"), ("b", "array<string>")]
    assert DecimalType(10, 2).to_hive() == "decimal(10,2)"


def test_arrow_types():
    schema = NESTED.to_arrow_schema()
    assert schema.names == list(NESTED.names)
    assert schema.field("c").type == pa.struct(
        [pa.field("x", pa.decimal128(38, 9)), pa.field("y", pa.list_(pa.struct([pa.field(VALUE_FIELD, pa.float64()), pa.field("z", pa.timestamp("ms"))])))]
    )
    # null and field-less structs have no Parquet/Athena type of their own: stored as strings
    assert schema.field("e").type == pa.string() and schema.field("f").type == pa.string()
    assert INT64_WIDE.to_arrow() == INT64.to_arrow() == pa.int64()
    assert NESTED.to_arrow() == pa.struct(list(schema))


def test_struct_fields_are_canonical_sorted_and_valid():
    assert StructType.of({"b": INT64, "a": STRING}).names == ("a", "b")
    with pytest.raises(ValueError):
        StructType((("b", INT64), ("a", STRING)))
    with pytest.raises(ValueError):
        StructType((("Bad", INT64),))
    with pytest.raises(ValueError):
        DecimalType(39, 2)


def test_persisted_schema_round_trips_and_is_versioned():
    text = NESTED.to_json()
    doc = json.loads(text)
    assert doc["format"] == "kx-lake/harmonize-type" and doc["version"] == 1
    assert text == json.dumps(doc, sort_keys=True, separators=(",", ":"))  # stable bytes
    again = from_json(text)
    assert again == NESTED and hash(again) == hash(NESTED)
    assert again.fingerprint == NESTED.fingerprint
    assert from_json(INT64_WIDE.to_json()) == INT64_WIDE != INT64
    with pytest.raises(ValueError):
        from_json(text.replace('"version":1', '"version":2'))
    with pytest.raises(ValueError):
        from_json('{"format":"other","version":1,"type":{"kind":"null"}}')


def test_fingerprint_is_a_pinned_constant():
    # Changing it silently would make every stored schema look changed: bump FORMAT_VERSION instead.
    schema = StructType.of({"_id": STRING, "a": INT64})
    assert schema.to_json() == (
        '{"format":"kx-lake/harmonize-type","type":{"fields":[{"name":"_id","type":{"kind":"string"}},'
        '{"name":"a","type":{"kind":"int64"}}],"kind":"struct"},"version":1}'
    )
    assert schema.fingerprint == "c5d550a794fcc3a47781a20736c0b4e21105e0dde855361a172d418434f742b4"
    assert DOUBLE.fingerprint != STRING.fingerprint


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("modifiedAt", "modifiedat"),
        ("Patient Name", "patient_name"),
        ("a.b", "a_b"),
        ("$x", "_x"),
        ("_id", "_id"),
        ("__v", "__v"),
        ("2024", "_2024"),
        ("", "_"),
        ("रोगी", "____"),
        ("naïve", "na_ve"),
        ("K", "k"),  # Kelvin sign: not ASCII, so '_' rather than Unicode-lowercased 'k'
        ("x" * 300, None),
    ],
)
def test_column_names(key, name):
    got = column_name(key)
    assert got == column_name(key)
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789_" for c in got) and 1 <= len(got) <= 255
    if name is not None:
        assert got == name
    else:
        assert got.startswith("x" * 238 + "_") and len(got) == 255


def test_collision_plan_picks_one_winner_and_keeps_the_others():
    plan = plan_keys(("Name", "name", "NAME", "other"))
    assert plan.names == (None, "name", None, "other")
    assert plan.losers == ("Name", "NAME")
    plan = plan_keys(("Name", "NAME"))  # no exact match: smallest code point wins
    assert plan.names == (None, "name") and plan.losers == ("Name",)
    plan = plan_keys(("modifiedat", "modifiedAt"), prefer="modifiedAt")  # the timestamp key wins
    assert plan.names == (None, "modifiedat")
    plan = plan_keys((VALUE_FIELD, "_KX_overflow", "a"))  # reserved names are never columns
    assert plan.names == (None, None, "a") and plan.losers == (VALUE_FIELD, "_KX_overflow")
    assert OVERFLOW_FIELD == column_name("_KX_overflow")


def test_mapped_path():
    assert mapped_path("meta.modifiedAt") == ("meta", "modifiedat")
