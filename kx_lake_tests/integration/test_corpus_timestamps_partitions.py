"""Bad-input corpus, timestamps and partition values: every encoding of the modified timestamp (the
usable ones land on the right IST date and wall-clock time, the others are rejected with a reason),
and partition values beyond test_hostile_partition_values.py's (which covers `a/b`, `..`, NUL, long,
emoji, empty, null, missing, the literal default, 5 vs "5", F1/f1, NFC/NFD, an array and an object):
here booleans, ObjectIds beside their hex, dates, doubles, arrays of objects, Windows device names,
backslashes, newlines, padding, Decimal128 and invalid UTF-8. Each case beside three ordinary
documents; Decimal128, NaN, MinKey and invalid UTF-8 are injected as raw BSON (FerretDB 1.24 cannot
store them: corpus_run.py).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import bson
import pytest
from bson import Decimal128, Int64, MinKey, ObjectId, Timestamp

from kx_lake.lib.storage.segments import HASH_SEPARATOR
from kx_lake_tests.integration.corpus_run import assert_good_landed, at, run_case

pytestmark = pytest.mark.integration

INSTANT = datetime(2026, 1, 2, 4, 0, tzinfo=UTC)  # 09:30 IST
WALL = datetime(2026, 1, 2, 9, 30)
MS = int(INSTANT.timestamp() * 1000)

# (value, injected as raw BSON?, expected IST wall clock or the reject reason's words)
TIMESTAMPS: dict[str, tuple[object, bool, datetime | str]] = {
    "bson-date": (INSTANT, False, WALL),
    "epoch-ms-int64": (Int64(MS), False, WALL),
    "epoch-ms-double": (float(MS), False, WALL),
    "epoch-seconds-int32": (MS // 1000, False, WALL),
    "epoch-seconds-double": (MS / 1000, False, WALL),
    "iso-utc-z": ("2026-01-02T04:00:00Z", False, WALL),
    "iso-offset": ("2026-01-02T09:30:00+05:30", False, WALL),
    "iso-millis-offset": ("2026-01-02T09:30:00.000+05:30", False, WALL),
    "iso-naive-is-ist": ("2026-01-02T09:30:00", False, WALL),
    "decimal128-ms": (Decimal128(str(MS)), True, WALL),
    "missing": (None, False, "missing"),
    "null": (None, False, "null"),
    "empty-text": ("", False, "not ISO-8601"),
    "garbage-text": ("N/A", False, "not ISO-8601"),
    "boolean": (True, False, "boolean"),
    "array": ([INSTANT], False, "array"),
    "object": ({"$date": "x"}, True, "object"),
    "bson-timestamp": (Timestamp(int(INSTANT.timestamp()), 1), False, "Timestamp"),
    "objectid": (ObjectId("65a1b2c3d4e5f60718293a4b"), False, "ObjectId"),
    "nan": (math.nan, True, "number nan is not a timestamp"),
    "decimal128-nan": (Decimal128("NaN"), True, "NaN"),
    "minkey": (MinKey(), True, "MinKey"),
    "too-old": (datetime(1999, 1, 1, tzinfo=UTC), False, "before the first partition date"),
    "year-2099": (datetime(2099, 1, 1, tzinfo=UTC), False, "in the future"),
    "huge-number": (Int64(2**62), False, ""),
}




@pytest.mark.parametrize("case", list(TIMESTAMPS))
def test_timestamp_encodings_land_or_are_rejected(corpus, case: str) -> None:
    project, client = corpus
    value, inject, expected = TIMESTAMPS[case]
    doc = {"_id": case, "n": 1} if case == "missing" else {"_id": case, "updated_at": value, "n": 1}
    stored, raw = ([], [bson.encode(doc)]) if inject else ([doc], [])
    out = run_case(project, client, "corpus_docs", stored, raw)
    assert_good_landed(out)
    if isinstance(expected, datetime):
        assert case not in out.rejects and out.rows[case]["updated_at"] == expected, (out.rows.get(case), out.rejects)
        assert out.rows[case]["date"].isoformat() == "2026-01-02"
    else:
        assert case not in out.rows and case in out.rejects, (out.rows.get(case), out.rejects)
        assert expected in out.rejects[case]["reason"], out.rejects[case]["reason"]
    assert len(out.rows) + len(out.rejects) == 4  # nothing else landed, nothing else was rejected


LONG_OBJECT = {f"key{i}": "v" * 20 for i in range(400)}
# (value, injected?, the text `<collection>_latest` shows, or None for a reject with that reason)
PARTITIONS: dict[str, tuple[object, bool, str | None]] = {
    "boolean": (True, False, "true"),
    "text-true": ("true", False, "true"),
    "objectid": (ObjectId("65a1b2c3d4e5f60718293a4b"), False, "65a1b2c3d4e5f60718293a4b"),
    "objectid-hex-text": ("65a1b2c3d4e5f60718293a4b", False, "65a1b2c3d4e5f60718293a4b"),
    "date": (INSTANT, False, None),
    "double": (1.5, False, "1.5"),
    "int64": (Int64(2**63 - 1), False, str(2**63 - 1)),
    "array-of-objects": ([{"ward": "W1"}, {"ward": "W2"}], False, '[{"ward":"W1"},{"ward":"W2"}]'),
    "object-unicode-keys": ({"zone": "N", "नाम": "x"}, False, '{"zone":"N","नाम":"x"}'),
    "long-object": (LONG_OBJECT, False, None),
    "windows-device-name": ("CON", False, "CON"),
    "backslash": ("A\\B", False, "A\\B"),
    "newline": ("F1\nF2", False, "F1\nF2"),
    "padded": (" F1 ", False, " F1 "),
    "single-dot": (".", False, "."),
    "decimal128": (Decimal128("12.50"), True, '"12.50"'),  # canonical JSON of the decimal's text
    "invalid-utf8": ("XY", True, None),
}


@pytest.mark.parametrize("case", list(PARTITIONS))
def test_partition_values_get_a_safe_folder_and_keep_their_value(corpus, case: str) -> None:
    project, client = corpus
    value, inject, text = PARTITIONS[case]
    doc = {"_id": case, "updated_at": at(9), "facility_id": value, "n": 1}
    data = bson.encode(doc)
    if case == "invalid-utf8":
        data = data.replace(b"\x00XY\x00", b"\x00X\xff\x00")
    stored, raw = ([], [data]) if inject else ([doc], [])
    out = run_case(project, client, "corpus_parts", stored, raw)
    assert_good_landed(out)
    assert len(out.rows) + len(out.rejects) == 4
    if case == "invalid-utf8":
        assert case in out.rejects and "invalid UTF-8 in 'facility_id'" in out.rejects[case]["reason"]
        return
    row = out.rows[case]
    if case == "date":
        assert row["facility_id"] == "2026-01-02T04:00:00+00:00"
    elif case == "long-object":
        assert bson.json_util.loads(row["facility_id"]) == LONG_OBJECT
    else:
        assert row["facility_id"] == text
    assert out.rows["good-0"]["facility_id"] == "F1"
    folders = {Path(p.path).parent.name for p in out.storage.list_partitions("env1", "hims_admin", "corpus_parts")}
    assert len(folders) == 2 and "facility_id=F1" in folders, folders  # its own folder, never the good ones'
    [mine] = folders - {"facility_id=F1"}
    assert len(mine.encode()) <= 255 and "/" not in mine and "\n" not in mine
    plain = text is not None and text.isascii() and text.isprintable() and text == text.upper()
    non_strings = ("objectid", "double", "int64", "boolean", "decimal128")  # never plain: `5` is not "5"
    assert (HASH_SEPARATOR not in mine) == (plain and case not in non_strings), mine
