"""How far a collection's `synced_until` may advance after a window was fully extracted.

`synced_until` promises: every document whose modified timestamp is before it has been extracted
(give or take late commits, which the look-back covers). So it may only advance over a contiguous
range that starts at or before the point already reached. A run over a later range — a scheduler
that was down for three days and then synced only today, `--dates` picked by hand, a sensor
request for one date — publishes its dates but leaves `synced_until` where it was and says why,
so the next incremental sync starts before the gap instead of jumping over it.

A collection with no `synced_until` yet is covered only by a run that starts at the first
partition date (a full load); anything else leaves it "never loaded", so the next plain sync is a
full load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from kx_lake.lib.extract.windows import Window
from kx_lake.lib.lake.state import iso_ms


@dataclass(frozen=True)
class Coverage:
    synced_until_ms: int | None
    gap: str | None = None  # why synced_until did not advance over this run's dates


def contiguous_prefix(dates: set[date] | list[date]) -> list[date]:
    """The run of consecutive dates that starts at the earliest one."""
    ordered = sorted(set(dates))
    out = ordered[:1]
    for day in ordered[1:]:
        if day != out[-1] + timedelta(days=1):
            break
        out.append(day)
    return out


def advance(
    previous_ms: int | None, dates: set[date] | list[date], window: Window, extracted_at_ms: int,
    first_partition: date,
) -> Coverage:
    """The new `synced_until` after extracting `dates` (window: their span, in the env's timezone)."""
    covered = contiguous_prefix(dates)
    if not covered:
        return Coverage(previous_ms)
    span = Window(covered[0], covered[-1], window.tz)
    end_ms = min(span.end_ms, extracted_at_ms)
    if previous_ms is None:
        if covered[0] > first_partition:
            return Coverage(None, f"never fully loaded and this run starts at {covered[0]}, after the first "
                                  f"partition {first_partition}: not marked as synced (the next sync is a full load)")
        return Coverage(end_ms)
    if span.start_ms > previous_ms:
        gap_first, gap_last = window.date_of_ms(previous_ms), covered[0] - timedelta(days=1)
        return Coverage(previous_ms, f"gap {gap_first}..{gap_last}: synced only until {iso_ms(previous_ms)} but this run "
                                     f"starts at {covered[0]}, so synced_until is not advanced across the gap "
                                     "(the next incremental sync covers it)")
    gap = None
    if len(covered) != len(set(dates)):
        gap = (f"dates after {covered[-1]} are not contiguous with it: synced_until advances only to "
               f"{iso_ms(max(previous_ms, end_ms))}")
    return Coverage(max(previous_ms, end_ms), gap)
