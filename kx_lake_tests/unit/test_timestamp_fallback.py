"""`timestamp_fallback` in collections.csv: parsed and refused like the other optional columns, and the
placement it gives (a missing or null timestamp → the ObjectId's time; anything else still rejected);
the reconcile keys read such a document's null lake timestamp as the same ObjectId time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from bson import ObjectId

from kx_lake.lib.config import ConfigErrors
from kx_lake.lib.config.collections import load_collections
from kx_lake.lib.extract.windows import Bounds, Window
from kx_lake.lib.harmonize.clock import LocalClock
from kx_lake.lib.lake.placement import placement
from kx_lake.lib.lake.reconcile_keys import _with_fallback

IST = ZoneInfo("Asia/Kolkata")
HEADER = "collection,database,timestamp_column,partition_columns,enabled,timestamp_fallback\n"
BOUNDS = Bounds(Window(date(2026, 1, 1), date(2026, 1, 1), IST), Window(date(2026, 1, 13), date(2026, 1, 13), IST))
OID = ObjectId.from_datetime(datetime(2026, 1, 5, 20, 0, tzinfo=UTC))  # 2026-01-06 01:30 in IST
OID_MS = int(datetime(2026, 1, 5, 20, 0, tzinfo=UTC).timestamp() * 1000)


def specs(tmp_path: Path, *cells: str):
    path = tmp_path / "collections.csv"
    path.write_text(HEADER + "".join(f"c{i},db,updated_at,,true,{c}\n" for i, c in enumerate(cells)))
    return load_collections(path)


def test_timestamp_fallback_is_empty_by_default_or_objectid(tmp_path: Path) -> None:
    assert [s.timestamp_fallback for s in specs(tmp_path, "", "objectid")] == ["", "objectid"]
    path = tmp_path / "old.csv"
    path.write_text("collection,database,timestamp_column,partition_columns,enabled\nc,db,updated_at,,true\n")
    assert load_collections(path)[0].timestamp_fallback == ""


@pytest.mark.parametrize("bad", ["ObjectId", "insert_time", "yes"])
def test_a_bad_timestamp_fallback_is_refused_naming_row_field_and_value(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigErrors) as exc:
        specs(tmp_path, "objectid", bad)
    text = str(exc.value)
    assert "row 3" in text and "timestamp_fallback" in text and repr(bad) in text and "'objectid'" in text
    assert "row 2" not in text


def test_a_misspelled_column_is_refused_with_the_close_name(tmp_path: Path) -> None:
    path = tmp_path / "collections.csv"
    path.write_text("collection,database,timestamp_column,partition_columns,enabled,timestamp_fallbak\n"
                    "c,db,updated_at,,true,objectid\n")
    with pytest.raises(Exception, match="did you mean 'timestamp_fallback'"):
        load_collections(path)


@pytest.mark.parametrize("doc", [{"_id": OID}, {"_id": OID, "updated_at": None}], ids=["missing", "null"])
def test_missing_or_null_timestamp_is_placed_on_the_objectid_time_when_opted_in(tmp_path: Path, doc: dict) -> None:
    none, objectid = specs(tmp_path, "", "objectid")
    assert placement(doc, objectid, IST, BOUNDS) == (OID_MS, "", True)
    assert BOUNDS.start.date_of_ms(OID_MS) == date(2026, 1, 6)  # the environment's day, not UTC's
    ts, why, fallback = placement(doc, none, IST, BOUNDS)  # not opted in: rejected as before
    assert ts is None and not fallback and "is not a usable timestamp" in why


def test_a_usable_timestamp_wins_over_the_fallback(tmp_path: Path) -> None:
    (objectid,) = specs(tmp_path, "objectid")
    at = datetime(2026, 1, 9, 3, 0, tzinfo=UTC)
    assert placement({"_id": OID, "updated_at": at}, objectid, IST, BOUNDS) == (int(at.timestamp() * 1000), "", False)


@pytest.mark.parametrize("doc, words", [
    ({"_id": OID, "updated_at": "N/A"}, "not ISO-8601"),  # a value the timestamp column cannot store
    ({"_id": OID, "updated_at": True}, "boolean"),
    ({"_id": "text-id"}, "missing"),  # no ObjectId to take the time from
    ({"_id": ObjectId.from_datetime(datetime(2025, 6, 1, tzinfo=UTC))}, "before the first partition date"),
    ({"_id": ObjectId.from_datetime(datetime(2026, 2, 1, tzinfo=UTC))}, "in the future"),
], ids=["text", "boolean", "string-id", "oid-too-old", "oid-future"])
def test_what_the_fallback_cannot_place_is_still_rejected_saying_why(tmp_path: Path, doc: dict, words: str) -> None:
    (objectid,) = specs(tmp_path, "objectid")
    ts, why, fallback = placement(doc, objectid, IST, BOUNDS)
    assert ts is None and not fallback
    assert words in why and "'updated_at'" in why


def test_lake_keys_read_a_null_timestamp_of_an_objectid_document_as_its_objectid_time() -> None:
    ids = pa.chunked_array([[str(OID), str(OID), "plain"]])
    types = pa.chunked_array([["objectId", "objectId", "string"]])
    ts = pa.chunked_array([[None, 5, None]], pa.int64())
    out = _with_fallback(ids, types, ts, LocalClock(IST)).to_pylist()
    assert out == [LocalClock(IST).local_ms(OID_MS), 5, None]
