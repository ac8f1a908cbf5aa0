"""Splitting a collection's dates into the ranges Spark tasks read.

On FerretDB (and on MongoDB without an index on the timestamp column) every range query is a full
scan, so a few ranges per collection beat many: the default is 2 (`spark.ranges_per_collection`).
Ranges are contiguous runs of the requested dates, of near-equal length, in date order.
"""

from __future__ import annotations

from datetime import date


def split_dates(dates: list[date], ranges: int) -> list[list[date]]:
    """`dates` (sorted, unique) in at most `ranges` contiguous, non-empty parts of near-equal length."""
    if ranges < 1:
        raise ValueError(f"ranges must be at least 1, got {ranges}")
    days = sorted(set(dates))
    n = min(ranges, len(days))
    if n == 0:
        return []
    size, extra = divmod(len(days), n)
    parts, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        parts.append(days[start:end])
        start = end
    return parts
