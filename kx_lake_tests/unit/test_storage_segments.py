"""Partition values from documents become safe, distinct, reversible folder names (storage.segments).

The corpus is hostile on purpose; "distinct" is checked the way a case-insensitive, normalising
filesystem (APFS, NTFS) compares names: NFC-normalised and case-folded.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bson import ObjectId
from bson.int64 import Int64

from kx_lake.lib.lake.partition_values import split_leaf
from kx_lake.lib.storage import LakeStorage, unescape_partition_value
from kx_lake.lib.storage.paths import MAX_SEGMENT_BYTES, id_segments
from kx_lake.lib.storage.segments import (
    DEFAULT_PARTITION,
    HASH_SEPARATOR,
    LeafValue,
    is_plain,
    original_column,
)

CAFE_NFC = unicodedata.normalize("NFC", "café")
CAFE_NFD = unicodedata.normalize("NFD", "café")
MISSING = object()  # the field is absent from the document
CORPUS: list[object] = [
    "a/b", "..", ".", "../../etc", "a\x00b", "a\tb", "a=b", "100%", "%2F", "x" * 300, "\U0001F600" * 70,
    "", None, MISSING, DEFAULT_PARTITION, 5, "5", Int64(5), 5.0, True, "true", "F1", "f1", CAFE_NFC, CAFE_NFD,
    ["F1", "F2"], {"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}, ObjectId("650000000000000000000001"),
    dt.datetime(2026, 1, 2, 3, 4, 5), "CHK-TRV-01", "A B", "a~b", "ಕನ್ನಡ", "Z" * 121, "Z" * 120,
]


def lv(value: object) -> LeafValue:
    (key,) = split_leaf({} if value is MISSING else {"c": value}, ["c"])
    return key


def fold(segment: str) -> str:
    return unicodedata.normalize("NFC", segment).casefold()


def test_every_value_becomes_one_safe_directory_name() -> None:
    for value in CORPUS:
        (name,) = id_segments([("facility_id", lv(value))])
        segment = name.split("=", 1)[1]
        assert len(name.encode()) <= MAX_SEGMENT_BYTES, value
        assert segment and "/" not in segment and "\\" not in segment, value  # `..` is safe: the name is `c=..`
        assert segment.isascii() and segment.isprintable(), value  # no NUL, tab, emoji or accents on disk


def test_different_values_never_share_a_folder_even_case_and_normalisation_insensitively() -> None:
    distinct = {}
    for value in CORPUS:
        key = lv(value)
        distinct.setdefault(fold(key.segment), set()).add((type(value).__name__, key.text))
    collided = {seg: vals for seg, vals in distinct.items() if len(vals) > 1}
    # the only values sharing a folder are those with no value at all (null, missing) and the BSON int32/
    # int64 pair, which MongoDB itself compares equal
    assert collided == {fold(DEFAULT_PARTITION): {("NoneType", None), ("object", None)},
                        fold(lv(5).segment): {("int", "5"), ("Int64", "5")}}


@pytest.mark.parametrize(
    ("a", "b"),
    [("F1", "f1"), (CAFE_NFC, CAFE_NFD), (5, "5"), ("", None), (DEFAULT_PARTITION, None), (True, "true"),
     ("x" * 300, "x" * 299 + "y"), ({"a": 1}, '{"a":1}')],
)
def test_pairs_that_must_stay_apart(a: object, b: object) -> None:
    assert fold(lv(a).segment) != fold(lv(b).segment)


def test_object_values_are_canonical_whatever_the_key_order() -> None:
    assert lv({"a": 1, "b": [1, 2]}) == lv({"b": [1, 2], "a": 1})
    assert lv({"a": 1, "b": [1, 2]}).text == '{"a":1,"b":[1,2]}'
    assert lv(["F1", "F2"]).text == '["F1","F2"]'


def test_the_plain_rule() -> None:
    plain = {"..": "..", ".": ".", "100%": "100%25", "%2F": "%252F", "F1": "F1", "CHK-TRV-01": "CHK-TRV-01",
             "A B": "A B", "A=B/C": "A%3DB%2FC", "Z" * 120: "Z" * 120}
    assert [v for v in CORPUS if isinstance(v, str) and is_plain(v)] == [
        "..", ".", "100%", "%2F", "5", "F1", "CHK-TRV-01", "A B", "Z" * 120]
    for text, segment in plain.items():
        assert lv(text) == LeafValue(text, segment)
    for text in ("a/b", "a=b", "f1", "", DEFAULT_PARTITION, "a~b", "Z" * 121, "a\tb", CAFE_NFC, "ಕನ್ನಡ"):
        key = lv(text)
        assert key.disambiguated and key.text == text, text
    # disambiguated: a readable hint, then 20 lowercase hex digits of the typed value's hash
    hint, _, digest = lv("f1").segment.partition(HASH_SEPARATOR)
    assert hint == "f1" and len(digest) == 20 and digest == digest.lower()
    assert lv("a/b").segment.startswith("ab~") and lv("x" * 300).segment.startswith("x" * 48 + "~")


def test_plain_segments_unescape_exactly_as_hive_does() -> None:
    for value in CORPUS:
        key = lv(value)
        if isinstance(value, str) and not key.disambiguated:
            assert unescape_partition_value(key.segment) == value


def test_null_and_missing_are_the_default_partition_and_read_as_null() -> None:
    assert lv(None) == lv(MISSING) == LeafValue(None, DEFAULT_PARTITION)
    assert unescape_partition_value(lv(None).segment) is None
    assert lv("") == LeafValue("", lv("").segment) and lv("").segment != DEFAULT_PARTITION
    assert lv(DEFAULT_PARTITION).segment.startswith(DEFAULT_PARTITION + HASH_SEPARATOR)


def test_same_value_same_folder_across_runs() -> None:
    assert lv("f1").segment == lv("f1").segment == "f1~" + lv("f1").segment.split("~")[1]
    assert lv(ObjectId("650000000000000000000001")).text == "650000000000000000000001"


def test_written_leaves_round_trip_through_duckdb_hive_partitioning(tmp_path: Path) -> None:
    """Every corpus value written as a leaf comes back, from DuckDB's Hive reading plus the original
    column, as exactly its text; every document exactly once."""
    storage = LakeStorage.from_root(str(tmp_path / "lake"))
    values = [v for v in CORPUS if v is not MISSING]
    leaves: dict[tuple[LeafValue], list[str]] = {}
    for i, value in enumerate(values):
        leaves.setdefault((lv(value),), []).append(f"d{i}")
    schema = pa.schema([("_id", pa.string())])
    batches = {key: pa.table({"_id": ids}, schema=schema) for key, ids in leaves.items()}
    storage.write_partition("env1", "db", "coll", dt.date(2026, 1, 1), batches, schema, id_columns=["facility_id"])
    table_dir = storage.table_dir("env1", "db", "coll")
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT _id, coalesce({original_column('facility_id')}, facility_id) FROM read_parquet("
        f"'{table_dir}/**/*.parquet', hive_partitioning = true, union_by_name = true, "
        "hive_types = {'facility_id': 'VARCHAR'}, hive_types_autocast = false)"
    ).fetchall()
    got = dict(rows)
    assert len(rows) == len(values) == len(got)
    for i, value in enumerate(values):
        assert got[f"d{i}"] == (None if value is None else lv(value).text), value
    # LakeStorage's own reader restores the same values
    back = {r["_id"]: r["facility_id"] for r in storage.read_table("env1", "db", "coll").to_pylist()}
    assert back == got
    # a plain leaf's file holds no extra column; a disambiguated one holds exactly its value
    for info in storage.list_partitions("env1", "db", "coll"):
        names = pq.read_schema(info.path).names
        assert (original_column("facility_id") in names) == (HASH_SEPARATOR in (info.ids[0][1] or ""))
