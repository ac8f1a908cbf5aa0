"""Date partitions as time windows, and the MongoDB filter that selects a window.

A partition date D of an environment holds the documents whose modified timestamp falls on calendar
day D in that environment's timezone. The filter matches the timestamp whichever way it is stored —
BSON date, epoch milliseconds (any numeric type) or ISO-8601 text — because real collections drift
between encodings and a filter for only the configured one would silently skip documents. MongoDB
compares within a type bracket, so the three `$or` branches never match each other's values; text is
selected by a one-day-wider prefix range (offsets are within ±14 h) and trimmed exactly on the
client. The filter uses no operator beyond `$or`, `$gte`, `$lt`, so any MongoDB 5+/Atlas/FerretDB
serves it, and an index on the timestamp column serves each branch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Window:
    """A half-open range of partition dates [first, last] in a timezone, with its UTC instants."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.first, time(), self.tz).astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), self.tz).astimezone(UTC)

    @property
    def start_ms(self) -> int:
        return int(self.start_utc.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end_utc.timestamp() * 1000)

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def date_of_ms(self, utc_ms: int) -> date:
        """The partition date (in this window's timezone) of a UTC epoch-millisecond instant."""
        return datetime.fromtimestamp(utc_ms / 1000, UTC).astimezone(self.tz).date()


EPOCH_SECONDS_BELOW = 100_000_000_000  # numbers below this are epoch seconds (harmonize/clock.py)


@dataclass(frozen=True)
class Bounds:
    """Where a placeable timestamp must fall: from the first partition date's midnight up to the end of
    tomorrow (both in the environment's timezone). Documents outside, or without a timestamp at all,
    belong to no partition: the sweep branches find them so they reach the rejects table."""

    start: Window  # the first partition date
    end: Window  # tomorrow

    @property
    def start_ms(self) -> int:
        return self.start.start_ms

    @property
    def end_ms(self) -> int:
        return self.end.end_ms


def window_filter(timestamp_column: str, window: Window, bounds: Bounds | None = None) -> dict:
    """The server-side filter for a window, matching dates, epoch millis or seconds and ISO text alike.

    With `bounds`, also every document no window will ever select — no timestamp, null, a value of
    another BSON type, or a timestamp before the first partition or after tomorrow — so a sync sees
    (and rejects, loudly) what it cannot place. Those branches are index-friendly ranges and type
    tests; on FerretDB they cost nothing extra (it scans for the window anyway).
    """
    col = timestamp_column
    text_from = (window.first - timedelta(days=1)).isoformat()
    text_to = (window.last + timedelta(days=2)).isoformat()
    branches: list[dict] = [
        {col: {"$gte": window.start_utc, "$lt": window.end_utc}},
        {col: {"$gte": window.start_ms, "$lt": window.end_ms}},
        {col: {"$gte": window.start_ms / 1000, "$lt": window.end_ms / 1000}},
        {col: {"$gte": text_from, "$lt": text_to}},
    ]
    if bounds is not None:
        lo, hi = bounds.start_ms, bounds.end_ms
        branches += [
            {col: None},  # null or missing
            {col: {"$not": {"$type": ["date", "number", "string", "null"]}}},  # any other type, or missing
            {col: {"$lt": bounds.start.start_utc}},
            {col: {"$gte": bounds.end.end_utc}},
            {col: {"$lt": lo / 1000}},  # seconds before the start, and any small or negative number
            {col: {"$gte": hi / 1000, "$lt": EPOCH_SECONDS_BELOW}},
            {col: {"$gte": EPOCH_SECONDS_BELOW, "$lt": lo}},
            {col: {"$gte": hi}},
            {col: {"$lt": (bounds.start.first - timedelta(days=1)).isoformat()}},  # also "", "01/02/2026"
            {col: {"$gte": (bounds.end.last + timedelta(days=2)).isoformat()}},  # also "N/A", "2026/01/02"
        ]
    return {"$or": branches}


def parse_dates(text: str) -> tuple[date, date]:
    """'2026-01-01..2026-01-31' or '2026-01-05' → (first, last), with a clear error otherwise."""
    parts = text.split("..")
    try:
        if len(parts) == 1:
            d = date.fromisoformat(parts[0].strip())
            return d, d
        if len(parts) == 2:
            first, last = (date.fromisoformat(p.strip()) for p in parts)
            if last < first:
                raise ValueError("the last date is before the first")
            return first, last
    except ValueError as exc:
        raise ValueError(f"bad date range {text!r}: {exc} (expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)") from exc
    raise ValueError(f"bad date range {text!r} (expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)")
