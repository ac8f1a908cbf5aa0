"""The extraction primitives: partition windows and their filter, timestamp parsing, and the resumable
(timestamp, _id)-ordered reader.

The reader is tested against a fake collection, because a cursor dropped mid-window (failover,
CursorNotFound, a network blip) cannot be provoked reliably on the local FerretDB server. The fake is
deliberately dumb and honest: it holds real documents, evaluates whatever query it receives (the
small subset of MongoDB matching the reader and the window filter use: $and, $or, $gte/$gt/$lt/$lte
within a BSON type bracket, $type), sorts the matches in BSON order by (timestamp, _id) — numbers <
strings < dates — and serves real BSON batches; on the first call it raises AutoReconnect after
`fail_after` batches. So a wrong resume filter really loses or repeats documents here.
"""

from __future__ import annotations

import operator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import bson
import pytest
from bson import ObjectId
from bson.datetime_ms import DatetimeMS
from bson.decimal128 import Decimal128
from bson.int64 import Int64
from pymongo.errors import AutoReconnect, ProtocolError

from kx_lake.lib.extract.reader import DICT_OPTIONS, ReadStats, iter_window
from kx_lake.lib.extract.timestamps import to_utc_ms
from kx_lake.lib.extract.windows import Bounds, Window, parse_dates, window_filter

IST = ZoneInfo("Asia/Kolkata")
TS = "modifiedAt"
WINDOW = Window(date(2026, 1, 1), date(2026, 1, 2), IST)


def ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


# --- a fake collection that really evaluates its queries -------------------------------------------

_RANK = {"number": 1, "string": 2, "object": 3, "objectId": 7, "date": 9}
_OPS = {"$gte": operator.ge, "$gt": operator.gt, "$lt": operator.lt, "$lte": operator.le}


def _bracket(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float, Decimal128)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "date"
    if isinstance(value, ObjectId):
        return "objectId"
    if isinstance(value, dict):
        return "object"
    raise NotImplementedError(type(value))


def _sort_key(value: object) -> tuple:
    if isinstance(value, dict):
        return _RANK["object"], bson.encode(value)
    return _RANK[_bracket(value)], value.to_decimal() if isinstance(value, Decimal128) else value


def _matches(doc: dict, query: dict) -> bool:
    for key, cond in query.items():
        if key == "$and":
            ok = all(_matches(doc, q) for q in cond)
        elif key == "$or":
            ok = any(_matches(doc, q) for q in cond)
        elif key.startswith("$"):
            raise NotImplementedError(key)
        else:
            value = doc.get(key)
            if cond is None:  # {key: None}: null or missing
                ok = value is None
                if not ok:
                    return False
                continue
            ok = value is not None
            for op, arg in cond.items():
                if op == "$not":  # only {$not: {$type: [...]}} is used: missing or another type
                    ok = value is None and key not in doc or (value is not None and not _matches(doc, {key: arg}))
                elif op == "$type":
                    ok = ok and _bracket(value) in (arg if isinstance(arg, list) else [arg])
                elif op in _OPS:  # MongoDB compares only within a type bracket
                    ok = ok and _bracket(value) == _bracket(arg) and _OPS[op](value, arg)
                else:
                    raise NotImplementedError(op)
        if not ok:
            return False
    return True


class FakeCursor:
    def __init__(self, batches: list[bytes], fail_after: int | None):
        self.batches, self.fail_after, self.closed = batches, fail_after, False

    def __iter__(self):
        for i, batch in enumerate(self.batches):
            if self.fail_after is not None and i == self.fail_after:
                raise AutoReconnect("connection reset by peer (fake)")
            yield batch

    def close(self) -> None:
        self.closed = True


class FakeCollection:
    def __init__(self, docs: list[dict], *, fail_after: int | None = 1, failures: int = 1):
        self.docs, self.fail_after, self.failures = docs, fail_after, failures
        self.queries: list[dict] = []
        self.cursors: list[FakeCursor] = []

    def with_options(self, **_kwargs) -> FakeCollection:
        return self

    def find_raw_batches(self, query: dict, *, sort: list, batch_size: int, **_kwargs) -> FakeCursor:
        assert sort == [(TS, 1), ("_id", 1)]
        self.queries.append(query)
        hits = sorted((d for d in self.docs if _matches(d, query)),
                      key=lambda d: (_sort_key(d[TS]), _sort_key(d["_id"])))
        batches = [b"".join(bson.encode(d) for d in hits[i:i + batch_size]) for i in range(0, len(hits), batch_size)]
        failing = len(self.queries) <= self.failures
        self.cursors.append(FakeCursor(batches, self.fail_after if failing else None))
        return self.cursors[-1]


def _expected(docs: list[dict]) -> list[object]:
    hits = [d for d in docs if _matches(d, window_filter(TS, WINDOW))]
    return [d["_id"] for d in sorted(hits, key=lambda d: (_sort_key(d[TS]), _sort_key(d["_id"])))]


def _read(coll: FakeCollection, batch_size: int, stats: ReadStats | None = None) -> list[object]:
    out = []
    for batch in iter_window(coll, window_filter(TS, WINDOW), TS, batch_size=batch_size, stats=stats):
        for item in batch:
            assert item.problem is None
            assert bson.decode(item.raw, DICT_OPTIONS) == item.doc  # the raw slice and the decoded dict are the same document
            out.append(item.doc["_id"])
    return out


D1 = datetime(2026, 1, 1, 4, 0, tzinfo=UTC)  # 09:30 IST on 2026-01-01
MIXED = [
    # epoch millis (Int64, int and an integral double), three sharing one instant
    {"_id": "n1", TS: Int64(ms(D1))},
    {"_id": ObjectId("650000000000000000000002"), TS: ms(D1) + 1000},
    {"_id": "n3", TS: Int64(ms(D1) + 1000)},
    {"_id": "n4", TS: float(ms(D1) + 1000)},
    {"_id": "n5", TS: Int64(ms(D1) + 5000)},
    # ISO text, 'Z' and '+05:30', two sharing one value
    {"_id": "s1", TS: "2026-01-01T04:00:00.000Z"},
    {"_id": ObjectId("650000000000000000000007"), TS: "2026-01-01T10:00:00.000+05:30"},
    {"_id": "s2", TS: "2026-01-01T10:00:00.000+05:30"},
    {"_id": "s3", TS: "2026-01-02T09:00:00.000+05:30"},
    # BSON dates, two sharing one instant
    {"_id": "d1", TS: D1},
    {"_id": ObjectId("65000000000000000000000b"), TS: D1 + timedelta(hours=1)},
    {"_id": "d2", TS: D1 + timedelta(hours=1)},
    {"_id": "d3", TS: D1 + timedelta(hours=30)},
    # outside the window in each encoding: never read
    {"_id": "out-n", TS: Int64(ms(D1) - 86_400_000)},
    {"_id": "out-s", TS: "2025-12-20T10:00:00+05:30"},
    {"_id": "out-d", TS: D1 + timedelta(days=5)},
]


@pytest.mark.parametrize(
    "fail_after, batch_size, last_ts, later",
    [
        # the types sorting after the last one read, in MongoDB's comparison order
        (1, 3, ms(D1) + 1000, ["string", "object", "array", "binData", "objectId", "bool", "date", "timestamp", "regex"]),
        (1, 7, "2026-01-01T10:00:00.000+05:30", ["object", "array", "binData", "objectId", "bool", "date", "timestamp",
                                                 "regex"]),  # breaks inside the strings, s2 shares the value
        (1, 11, D1 + timedelta(hours=1), ["timestamp", "regex"]),  # inside the dates (after d2), the ObjectId shares it
    ],
    ids=["number", "string", "date"],
)
def test_a_dropped_cursor_resumes_without_losing_or_repeating_documents(fail_after, batch_size, last_ts, later):
    coll = FakeCollection(MIXED, fail_after=fail_after)
    stats = ReadStats()
    got = _read(coll, batch_size, stats)
    expected = _expected(MIXED)
    assert len(expected) == 13 and not any(str(i).startswith("out") for i in expected)
    assert got == expected  # each document exactly once, in (timestamp, _id) order
    assert stats.resumes == 1 and len(coll.queries) == 2 and coll.cursors[0].closed
    resume = [{TS: {"$gte": last_ts}}, {TS: {"$type": later}},
              {TS: {"$not": {"$type": ["null", "number", "string", "object", "array", "binData", "objectId", "bool",
                                       "date", "timestamp", "regex"]}}}]
    assert coll.queries[1] == {"$and": [window_filter(TS, WINDOW), {"$or": resume}]}
    # the break really split documents sharing the last timestamp across it
    tail = got[batch_size * fail_after - 1]
    assert next(d[TS] for d in MIXED if d["_id"] == tail) == last_ts
    assert next(d[TS] for d in MIXED if d["_id"] == got[batch_size * fail_after]) == last_ts


def test_unhashable_ids_are_read_and_resumed_once():
    """MongoDB allows an object (composite keys, $out of a $group) or a Decimal128 as _id; Python
    cannot hash either, which once made any such collection fail on its first batch."""
    same = D1 + timedelta(hours=2)
    docs = [{"_id": {"facility": "F1", "day": i}, TS: same} for i in range(4)]
    docs += [{"_id": {"day": 0, "facility": "F1"}, TS: same},  # other field order: another _id in MongoDB
             {"_id": {"facility": "F2", "tags": ["a", "b"]}, TS: same + timedelta(seconds=1)}]
    docs += [{"_id": Decimal128(f"10{i}.5"), TS: same} for i in range(3)]
    coll = FakeCollection(docs, fail_after=1)
    assert _read(coll, 4) == _expected(docs)
    assert len(_expected(docs)) == 9 and len(coll.queries) == 2


def test_several_drops_in_a_row_still_read_everything_once():
    coll = FakeCollection(MIXED, fail_after=1, failures=4)
    stats = ReadStats()
    assert _read(coll, 2, stats) == _expected(MIXED)
    assert stats.resumes == 4 and stats.documents == 13


def test_a_drop_before_the_first_batch_retries_the_window():
    coll = FakeCollection(MIXED, fail_after=0)
    assert _read(coll, 5) == _expected(MIXED)
    assert coll.queries == [window_filter(TS, WINDOW)] * 2


def test_too_many_drops_raise():
    coll = FakeCollection(MIXED, fail_after=1, failures=10)
    with pytest.raises(AutoReconnect):
        _read(coll, 2, ReadStats())
    assert len(coll.queries) == 6  # the first read and max_resumes=5 resumes


# --- windows ---------------------------------------------------------------------------------------

def test_window_bounds_are_ist_midnights():
    w = Window(date(2026, 1, 1), date(2026, 1, 3), IST)
    assert w.start_utc == datetime(2025, 12, 31, 18, 30, tzinfo=UTC)
    assert w.end_utc == datetime(2026, 1, 3, 18, 30, tzinfo=UTC)
    assert w.start_ms == ms(w.start_utc) and w.end_ms == ms(w.end_utc)
    assert w.dates() == [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]
    one = Window(date(2026, 1, 1), date(2026, 1, 1), IST)
    assert one.end_ms - one.start_ms == 86_400_000 and one.dates() == [date(2026, 1, 1)]


def test_date_of_ms_uses_the_environment_timezone():
    assert WINDOW.date_of_ms(ms(datetime(2026, 1, 1, 20, 0, tzinfo=UTC))) == date(2026, 1, 2)
    assert WINDOW.date_of_ms(ms(datetime(2026, 1, 1, 18, 29, 59, 999000, tzinfo=UTC))) == date(2026, 1, 1)
    assert WINDOW.date_of_ms(ms(datetime(2026, 1, 1, 18, 30, tzinfo=UTC))) == date(2026, 1, 2)


def test_window_filter_matches_each_encoding_by_its_own_range():
    w = Window(date(2026, 1, 1), date(2026, 1, 2), IST)
    assert window_filter("ts", w) == {
        "$or": [
            {"ts": {"$gte": datetime(2025, 12, 31, 18, 30, tzinfo=UTC), "$lt": datetime(2026, 1, 2, 18, 30, tzinfo=UTC)}},
            {"ts": {"$gte": w.start_ms, "$lt": w.end_ms}},
            {"ts": {"$gte": w.start_ms / 1000, "$lt": w.end_ms / 1000}},  # epoch seconds
            {"ts": {"$gte": "2025-12-31", "$lt": "2026-01-04"}},  # one day wider: offsets are within ±14 h
        ]
    }
    f = window_filter("ts", w)
    inside = ["2026-01-01T00:00:00+14:00", "2026-01-02T23:59:59.999-12:00", "2025-12-31T18:30:00Z"]
    assert all(_matches({"ts": t}, f) for t in inside)
    assert not _matches({"ts": "2025-12-30T23:00:00Z"}, f) and not _matches({"ts": "2026-01-04T00:00:00Z"}, f)
    assert _matches({"ts": w.end_ms - 1}, f) and not _matches({"ts": w.end_ms}, f)
    assert _matches({"ts": w.start_utc}, f) and not _matches({"ts": w.start_utc - timedelta(milliseconds=1)}, f)
    assert _matches({"ts": w.start_ms // 1000}, f) and not _matches({"ts": w.end_ms // 1000}, f)


def test_the_sweep_branches_find_every_document_no_window_can_hold():
    start = Window(date(2025, 11, 1), date(2025, 11, 1), IST)
    tomorrow = Window(date(2026, 1, 3), date(2026, 1, 3), IST)
    w = Window(date(2026, 1, 1), date(2026, 1, 2), IST)
    f = window_filter("ts", w, Bounds(start, tomorrow))
    unplaceable = [{}, {"ts": None}, {"ts": True}, {"ts": {"a": 1}}, {"ts": ObjectId()}, {"ts": "N/A"}, {"ts": ""},
                   {"ts": "01/02/2026"}, {"ts": datetime(1999, 1, 1, tzinfo=UTC)}, {"ts": datetime(2099, 1, 1, tzinfo=UTC)},
                   {"ts": 0}, {"ts": -5}, {"ts": 4_102_444_800}, {"ts": 4_102_444_800_000}, {"ts": 946_684_800_000},
                   {"ts": "1999-01-01T00:00:00Z"}, {"ts": "2099-01-01T00:00:00Z"}]
    assert [d for d in unplaceable if not _matches(d, f)] == []
    # a placeable document of another date inside the bounds is not swept: its own window selects it
    assert not _matches({"ts": datetime(2025, 12, 1, tzinfo=UTC)}, f)
    assert not _matches({"ts": int(datetime(2025, 12, 1, tzinfo=UTC).timestamp())}, f)
    assert not _matches({"ts": "2025-12-01T00:00:00Z"}, f)


@pytest.mark.parametrize("text, expected", [
    ("2026-01-05", (date(2026, 1, 5), date(2026, 1, 5))),
    ("2026-01-01..2026-01-31", (date(2026, 1, 1), date(2026, 1, 31))),
    (" 2026-01-01 .. 2026-01-01 ", (date(2026, 1, 1), date(2026, 1, 1))),
])
def test_parse_dates(text, expected):
    assert parse_dates(text) == expected


@pytest.mark.parametrize("text, message", [
    ("2026-01-31..2026-01-01", "the last date is before the first"),
    ("yesterday", "bad date range 'yesterday'"),
    ("2026-02-30", "bad date range '2026-02-30'"),
    ("2026-01-01..2026-01-02..2026-01-03", "expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"),
    ("2026-01-01..", "bad date range '2026-01-01..'"),
])
def test_parse_dates_errors(text, message):
    with pytest.raises(ValueError, match="bad date range") as exc:
        parse_dates(text)
    assert message in str(exc.value)


# --- timestamps ------------------------------------------------------------------------------------

MS = ms(datetime(2026, 1, 1, 20, 0, tzinfo=UTC))


@pytest.mark.parametrize("value, expected", [
    (datetime(2026, 1, 1, 20, 0, tzinfo=UTC), MS),
    (datetime(2026, 1, 2, 1, 30, tzinfo=IST), MS),
    (datetime(2026, 1, 1, 20, 0), MS),  # naive BSON-decoded datetimes are UTC
    (datetime(2026, 1, 1, 20, 0, 0, 999, tzinfo=UTC), MS),  # sub-millisecond truncated
    (datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC), -1),
    (DatetimeMS(MS), MS),
    (MS, MS),
    (Int64(MS), MS),
    (float(MS), MS),
    (MS + 0.75, MS),
    ("2026-01-01T20:00:00Z", MS),
    ("2026-01-01T20:00:00.000z", MS),
    ("2026-01-02T01:30:00+05:30", MS),
    ("2026-01-02T01:30:00.000+05:30", MS),
    (" 2026-01-01T15:00:00-05:00 ", MS),
    ("2026-01-01T20:00:00", None),  # naive text is ambiguous: refused
    ("2026-01-01", None),
    ("garbage", None),
    ("", None),
    (float("nan"), None),
    (float("inf"), None),
    (1e18, None),
    (True, None),
    (None, None),
    ({"$date": MS}, None),
])
def test_to_utc_ms(value, expected):
    assert to_utc_ms(value) == expected


class CappedCursor(FakeCursor):
    """A reply over the driver's message limit raises as pymongo's receive_message does."""

    def __init__(self, batches: list[bytes], cap: int):
        super().__init__(batches, None)
        self.cap = cap

    def __iter__(self):
        for batch in self.batches:
            if len(batch) > self.cap:
                raise ProtocolError(f"Message length ({len(batch)}) is larger than server max message size ({self.cap})")
            yield batch


class CappedCollection(FakeCollection):
    """A server that, like FerretDB 1.x, does not cap a reply by bytes."""

    def __init__(self, docs: list[dict], cap: int):
        super().__init__(docs, fail_after=None, failures=0)
        self.cap, self.batch_sizes = cap, []

    def find_raw_batches(self, query: dict, *, sort: list, batch_size: int, **kwargs) -> FakeCursor:
        self.batch_sizes.append(batch_size)
        cursor = super().find_raw_batches(query, sort=sort, batch_size=batch_size, **kwargs)
        self.cursors[-1] = CappedCursor(cursor.batches, self.cap)
        return self.cursors[-1]


def test_a_reply_too_large_for_the_driver_halves_the_batch_and_resumes_without_loss():
    docs = [{"_id": f"big{i:02d}", TS: D1 + timedelta(minutes=i // 3), "blob": "x" * 1000} for i in range(40)]
    coll = CappedCollection(docs, cap=9_000)  # 8 documents per reply at most
    stats = ReadStats()
    got = _read(coll, 32, stats)
    assert got == [d["_id"] for d in docs]  # each exactly once, in order
    assert coll.batch_sizes[:3] == [32, 16, 8] and stats.resumes == 0


def test_documents_growing_mid_window_halve_the_batch_and_resume_after_the_last_one_read():
    docs = [{"_id": f"d{i:02d}", TS: D1 + timedelta(minutes=i // 4), "blob": "x" * (10 if i < 16 else 1000)}
            for i in range(40)]
    coll = CappedCollection(docs, cap=9_000)
    got = _read(coll, 16, ReadStats())
    assert got == [d["_id"] for d in docs]
    assert coll.batch_sizes == [16, 8] and len(coll.queries[1]["$and"]) == 2  # the second query resumes
