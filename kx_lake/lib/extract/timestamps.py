"""One function turning a stored modified timestamp (BSON date, epoch millis, ISO text) into UTC
epoch milliseconds — the single comparable form used for routing documents to dates and for the
watermark. Unparseable values return None so callers decide how loudly to fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bson.datetime_ms import DatetimeMS
from bson.int64 import Int64

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def to_utc_ms(value: object) -> int | None:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return (aware - _EPOCH) // _ONE_MS
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Int64)):
        return int(value)
    if isinstance(value, float):
        return int(value) if value == value and abs(value) < 1e17 else None
    if isinstance(value, DatetimeMS):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            return None  # a wall-clock time with no offset is ambiguous; refuse rather than guess
        return (parsed - _EPOCH) // _ONE_MS
    return None

