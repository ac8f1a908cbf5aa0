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
from bson import Int64
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


def timestamp_column_ms(value: Any, encoding: TimestampEncoding | str) -> int:
    """UTC epoch ms of a configured-timestamp-column value; ValueError saying why it isn't one.

    BSON dates are always accepted (they are unambiguous); int64/integral-double epoch milliseconds
    only under `epoch_ms`; ISO-8601 text with an offset or `Z` only under `iso_string`. Sub-millisecond
    digits are truncated: the column is Athena's millisecond timestamp by contract.
    """
    kind = type(value)
    encoding = TimestampEncoding(encoding)
    if kind is datetime:
        ms = utc_ms(value)
    elif kind is DatetimeMS:
        ms = int(value)
    elif encoding is TimestampEncoding.EPOCH_MS and kind in (int, Int64):
        ms = int(value)
    elif encoding is TimestampEncoding.EPOCH_MS and kind is float and value.is_integer():
        ms = int(value)
    elif encoding is TimestampEncoding.ISO_STRING and kind is str:
        ms = _iso_ms(value)
    else:
        raise ValueError(f"{kind.__name__} value {value!r} is not a {encoding.value} timestamp")
    if not MIN_MS <= ms <= MAX_MS:
        raise ValueError(f"value {value!r} is outside years 1-9999")
    return ms


def _iso_ms(text: str) -> int:
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not ISO-8601 text") from None
    if dt.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset or 'Z'")
    return utc_ms(dt)


class LocalClock:
    """UTC epoch milliseconds -> naive local wall-clock timestamp[ms] in one timezone."""

    def __init__(self, tz: ZoneInfo):
        self.tz = tz
        self._hour_offsets: dict[int, int | None] = {}  # shifted hour -> offset ms (None: transition)

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
            offsets = {self._hour_offset(h) for h in range(first, last + 1)}
            if len(offsets) == 1 and None not in offsets:
                return pc.add(utc, pa.scalar(offsets.pop(), pa.int64())).cast(TIMESTAMP_MS)
        hours = pc.divide(pc.add(utc, _SHIFT), HOUR_MS)
        distinct = pc.unique(hours).drop_null()
        per_hour = [self._hour_offset(h) for h in distinct.to_pylist()]
        if None in per_hour:  # a DST transition inside one of the hours: row by row
            return pa.array([None if v is None else self.local_ms(v) for v in utc.to_pylist()], TIMESTAMP_MS)
        per_row = pa.array(per_hour, pa.int64()).take(pc.index_in(hours, value_set=distinct))
        return pc.add(utc, per_row).cast(TIMESTAMP_MS)

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
