"""`_kx_id_type` beside `_id`: documents whose ids render to the same text stay distinguishable."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from bson import Decimal128, Int64, ObjectId

from kx_lake.lib.harmonize import Converter, SchemaAccumulator
from kx_lake.lib.lake.identity import ID_TYPE_COLUMN, fill_id_type, with_id_type
from kx_lake.lib.lake.rejects import id_type


def test_bson_type_names() -> None:
    assert [id_type(v) for v in (ObjectId(), "x", 1, 2**40, Int64(1), 1.5, Decimal128("1"), True,
                                 datetime(2026, 1, 1, tzinfo=UTC), UUID(int=1), {"a": 1}, None)] == [
        "objectId", "string", "int", "long", "long", "double", "decimal", "bool", "date", "binData", "object", "null"]


def test_an_object_id_and_its_hex_text_are_two_rows_with_the_same_id_text() -> None:
    oid = ObjectId("65a1b2c3d4e5f60718293a4b")
    docs = [{"_id": oid, "t": datetime(2026, 1, 1, tzinfo=UTC)}, {"_id": str(oid), "t": datetime(2026, 1, 2, tzinfo=UTC)}]
    reserved = ("date", ID_TYPE_COLUMN)
    acc = SchemaAccumulator("t", reserved_columns=reserved)
    acc.observe_many(docs)
    schema = with_id_type(acc.schema)
    batch = fill_id_type(Converter(schema, ZoneInfo("Asia/Kolkata"), "t", reserved_columns=reserved).convert(docs), docs)
    assert batch.schema == schema.to_arrow_schema()
    rows = batch.to_pylist()
    assert [(r["_id"], r[ID_TYPE_COLUMN]) for r in rows] == [(str(oid), "objectId"), (str(oid), "string")]


def test_a_document_key_named_like_the_column_is_kept_under_another_name() -> None:
    docs = [{"_id": 1, "t": datetime(2026, 1, 1, tzinfo=UTC), ID_TYPE_COLUMN: "mine"}]
    reserved = ("date", ID_TYPE_COLUMN)
    acc = SchemaAccumulator("t", reserved_columns=reserved)
    acc.observe_many(docs)
    schema = with_id_type(acc.schema)
    row = fill_id_type(Converter(schema, ZoneInfo("UTC"), "t", reserved_columns=reserved).convert(docs), docs).to_pylist()[0]
    assert (row[ID_TYPE_COLUMN], row[ID_TYPE_COLUMN + "_"]) == ("int", "mine")
