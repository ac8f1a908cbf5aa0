"""One function turning a stored modified timestamp into UTC epoch milliseconds — the single comparable
form used for routing documents to dates and for the watermark. It is the harmonizer's own rule for
the timestamp column (harmonize/clock.py: BSON dates, epoch millis or seconds, ISO text with or without
an offset), so a document is routed exactly where its converted row says it belongs. Values that are
not timestamps return None (with `why_not` saying why) so callers decide how loudly to fail.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from kx_lake.lib.harmonize.clock import timestamp_column_ms

MISSING = object()


def to_utc_ms(value: object, tz: ZoneInfo | None = None) -> int | None:
    """UTC epoch ms, or None; ISO text without an offset is wall-clock time in `tz` (None: refused)."""
    if value is None or value is MISSING:
        return None
    try:
        return timestamp_column_ms(value, tz=tz)
    except (ValueError, ArithmeticError):
        return None


def why_not(value: object, tz: ZoneInfo | None = None) -> str:
    """Why `value` is not a usable timestamp (for the rejects table); '' if it is one."""
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    try:
        timestamp_column_ms(value, tz=tz)
    except (ValueError, ArithmeticError) as exc:
        return str(exc)
    return ""
