"""Timestamps: the configured timestamp column's encodings, and UTC -> local wall-clock conversion.

The lake stores every timestamp as a naive millisecond timestamp holding wall-clock time in the
environment's timezone - what the original Glue job's from_utc_timestamp produced and what Athena
shows (2026-01-01T20:00Z -> 2026-01-02 01:30 in Asia/Kolkata).

Conversion is vectorized: Arrow turns datetimes into UTC epoch milliseconds in C++, then the UTC
offset is looked up once per hour of the batch's range, or per distinct hour when the range is
long (with the given ZoneInfo, cached, so results agree with Python's zoneinfo exactly) and added
in C++ - as one scalar when the whole batch has one offset, as always in Asia/Kolkata. An hour whose start and end have different
offsets contains a DST transition; rows in such hours are converted one by one.

Note for DST zones: in the repeated hour when clocks go back, two instants share a wall-clock time;
that ambiguity is inherent to storing wall-clock time (it does not arise in Asia/Kolkata).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
from decimal import Decimal
from types import NoneType

from bson import Decimal128, Int64
from bson.datetime_ms import DatetimeMS

from kx_lake.lib.config.collections import TimestampEncoding

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1)
EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)
HOUR_MS = 3_600_000
MIN_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_SHIFT = -MIN_MS  # a whole number of hours: shifted values are >= 0, so integer division floors
TIMESTAMP_MS = pa.timestamp("ms")
_SCAN_HOURS = 24 * 120  # batches spanning less than this check every hour of their range


def utc_ms(dt: datetime) -> int:
    """Epoch milliseconds (floored) of a datetime; naive datetimes are UTC, as pymongo decodes them."""
    if dt.tzinfo is None:
        return (dt - EPOCH) // MS
    return (dt - EPOCH_UTC) // MS


EPOCH_SECONDS_BELOW = 100_000_000_000  # |n| below 1e11: epoch seconds (1e11 ms is 1973-03-03; 1e11 s is year 5138)


def timestamp_column_ms(value: Any, encoding: TimestampEncoding | str | None = None, tz: ZoneInfo | None = None) -> int:
    """UTC epoch ms of a configured-timestamp-column value in any encoding; ValueError saying why not.

    Accepted whatever the configured `encoding` says (it documents what the application writes; real
    collections drift): BSON dates; numbers (int, Int64, finite double, Decimal128) as epoch
    milliseconds, or epoch seconds when |n| < 1e11 (no HIMS timestamp is before 1973 or after 5138,
    so the two never overlap); ISO-8601 text with an offset or `Z`, or without one, read as wall-clock
    time in `tz` (the environment's timezone; without `tz` such text is refused). Sub-millisecond digits
    are truncated: the column is Athena's millisecond timestamp by contract. Booleans, objects, arrays
    and every other BSON type are not timestamps.
    """
    kind = type(value)
    if kind is datetime:
        ms = utc_ms(value)
    elif kind is DatetimeMS:
        ms = int(value)
    elif kind in (int, Int64, float, Decimal128):
        ms = _number_ms(value)
    elif kind is str:
        ms = _iso_ms(value, tz)
    else:
        raise ValueError(f"a {_bson_kind(value)} is not a timestamp")
    if not MIN_MS <= ms <= MAX_MS:
        raise ValueError(f"value {value!r} is outside years 1-9999")
    return ms


def _bson_kind(value: Any) -> str:
    return {bool: "boolean", dict: "object", list: "array", NoneType: "null"}.get(type(value), type(value).__name__)


def _number_ms(value: int | Int64 | float | Decimal128) -> int:
    number = value.to_decimal() if isinstance(value, Decimal128) else Decimal(value) if isinstance(value, float) else int(value)
    if isinstance(number, Decimal) and not number.is_finite():
        raise ValueError(f"number {value} is not a timestamp")
    if abs(number) < EPOCH_SECONDS_BELOW:
        number = number * 1000
    return int(number // 1)


def _iso_ms(text: str, tz: ZoneInfo | None) -> int:
    stripped = text.strip()
    if stripped[-1:] in ("Z", "z"):
        stripped = stripped[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(f"text {_short(text)} is not ISO-8601") from None
    if dt.tzinfo is None:
        if tz is None:
            raise ValueError(f"text {_short(text)} has no UTC offset or 'Z'")
        dt = dt.replace(tzinfo=tz)
    return utc_ms(dt)


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


class LocalClock:
    """UTC epoch milliseconds -> naive local wall-clock timestamp[ms] in one timezone."""

    def __init__(self, tz: ZoneInfo):
        self.tz = tz
        self._hour_offsets: dict[int, int | None] = {}  # shifted hour -> offset ms (None: transition)
        self._flat: tuple[int, int, int] | None = None  # (first, last hour, offset): every hour checked

    def offset_ms(self, ms: int) -> int:
        """UTC offset in milliseconds at UTC instant `ms`."""
        try:
            local = (EPOCH_UTC + timedelta(milliseconds=ms)).astimezone(self.tz)
        except OverflowError:  # wall clocks beyond years 1/9999: the offset two days inward (no DST there)
            inward = 172_800_000 if ms < 0 else -172_800_000
            local = (EPOCH_UTC + timedelta(milliseconds=ms + inward)).astimezone(self.tz)
        offset = local.utcoffset()
        assert offset is not None
        return offset // MS

    def _hour_offset(self, hour: int) -> int | None:
        if hour not in self._hour_offsets:
            start = hour * HOUR_MS - _SHIFT
            first, last = self.offset_ms(start), self.offset_ms(start + HOUR_MS - 1)
            self._hour_offsets[hour] = first if first == last else None
        return self._hour_offsets[hour]

    def local_ms(self, ms: int) -> int:
        return ms + self.offset_ms(ms)

    def to_local(self, utc: pa.Array) -> pa.Array:
        """int64 (or timestamp) array of UTC epoch ms -> timestamp[ms] array of local wall-clock."""
        utc = utc.cast(pa.int64())
        if len(utc) == utc.null_count:
            return utc.cast(TIMESTAMP_MS)
        bounds = pc.min_max(utc)
        first, last = (bounds["min"].as_py() + _SHIFT) // HOUR_MS, (bounds["max"].as_py() + _SHIFT) // HOUR_MS
        if last - first <= _SCAN_HOURS:  # the usual batch: a few days; one offset for all of them?
            offset = self._flat_offset(first, last)
            if offset is not None:
                return pc.add(utc, pa.scalar(offset, pa.int64())).cast(TIMESTAMP_MS)
        hours = pc.divide(pc.add(utc, _SHIFT), HOUR_MS)
        distinct = pc.unique(hours).drop_null()
        per_hour = [self._hour_offset(h) for h in distinct.to_pylist()]
        if None in per_hour:  # a DST transition inside one of the hours: row by row
            return pa.array([None if v is None else self.local_ms(v) for v in utc.to_pylist()], TIMESTAMP_MS)
        per_row = pa.array(per_hour, pa.int64()).take(pc.index_in(hours, value_set=distinct))
        return pc.add(utc, per_row).cast(TIMESTAMP_MS)

    def _flat_offset(self, first: int, last: int) -> int | None:
        """The one offset of every hour in [first, last], or None. Each hour is checked once
        (_hour_offset); the longest checked run of one offset is remembered, so the next batch over
        the same days costs a comparison instead of a pass over its hours."""
        flat = self._flat
        if flat is not None and flat[0] <= first and last <= flat[1]:
            return flat[2]
        offsets = {self._hour_offset(h) for h in range(first, last + 1)}
        if len(offsets) != 1 or None in offsets:
            return None
        offset = offsets.pop()
        if flat is not None and flat[2] == offset and first <= flat[1] + 1 and flat[0] - 1 <= last:
            first, last = min(first, flat[0]), max(last, flat[1])  # overlapping or adjacent: one run
        if flat is None or last - first >= flat[1] - flat[0]:
            self._flat = (first, last, offset)
        return offset

    def to_utc(self, local: pa.Array) -> pa.Array:
        """The inverse of `to_local`: timestamp[ms] wall-clock array -> int64 UTC epoch ms.

        Raises WallClockError if a wall-clock time is two instants (a DST fold) or none (a gap):
        the lake value then doesn't determine the instant. Vectorized per local hour, like to_local.
        """
        wall = local.cast(pa.int64())
        if len(wall) == wall.null_count:
            return wall
        hours = pc.divide(pc.add(wall, _SHIFT), HOUR_MS)
        distinct = pc.unique(hours).drop_null()
        per_hour = [self._local_hour_offset(h) for h in distinct.to_pylist()]
        if None in per_hour:  # a transition in one of the hours: row by row
            utc = pa.array([None if w is None else self._utc_ms(w) for w in wall.to_pylist()], pa.int64())
        else:
            utc = pc.subtract(wall, pa.array(per_hour, pa.int64()).take(pc.index_in(hours, value_set=distinct)))
        if not pc.all(pc.equal(self.to_local(utc).cast(pa.int64()), wall)).as_py():
            raise WallClockError("a wall-clock time that no instant has (a DST gap)")
        return utc

    def _local_hour_offset(self, hour: int) -> int | None:
        """The one UTC offset of every wall-clock time in a local hour; None if the hour has a transition."""
        start = hour * HOUR_MS - _SHIFT
        try:
            first, last = (EPOCH + timedelta(milliseconds=ms) for ms in (start, start + HOUR_MS - 1))
        except OverflowError:  # a wall clock before year 1 or after 9999: far from any transition
            return self.offset_ms(start - self.offset_ms(start))
        offsets = {_offset_ms(dt.replace(tzinfo=self.tz, fold=fold)) for dt in (first, last) for fold in (0, 1)}
        return offsets.pop() if len(offsets) == 1 else None

    def _utc_ms(self, wall: int) -> int:
        local = EPOCH + timedelta(milliseconds=wall)
        candidates = {wall - _offset_ms(local.replace(tzinfo=self.tz, fold=fold)) for fold in (0, 1)}
        found = [utc for utc in candidates if self.local_ms(utc) == wall]
        if len(found) > 1:
            raise WallClockError("a wall-clock time in a DST fold is two instants")
        if not found:
            raise WallClockError("a wall-clock time that no instant has (a DST gap)")
        return found[0]


class WallClockError(ValueError):
    """A wall-clock time that doesn't determine one instant in the timezone (why: `args[0]`)."""


def _offset_ms(dt: datetime) -> int:
    offset = dt.utcoffset()
    assert offset is not None
    return offset // MS
