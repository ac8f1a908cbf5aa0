"""synced_until advances only over a contiguous, fully extracted range starting at or before it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from kx_lake.lib.extract.windows import Window
from kx_lake.lib.lake.coverage import advance, contiguous_prefix

IST = ZoneInfo("Asia/Kolkata")
START = date(2025, 11, 1)
NOW_MS = int(datetime(2026, 3, 10, 12, 0, tzinfo=UTC).timestamp() * 1000)  # 17:30 IST on the 10th


def window(first: date, last: date) -> Window:
    return Window(first, last, IST)


def midnight_ms(day: date) -> int:
    return window(day, day).start_ms


def test_contiguous_prefix() -> None:
    assert contiguous_prefix({date(2026, 1, 3), date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 5)}) == [
        date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]
    assert contiguous_prefix([]) == []


def test_a_run_starting_at_or_before_synced_until_advances_it_capped_at_extraction_time() -> None:
    prev = midnight_ms(date(2026, 3, 9)) + 3_600_000
    got = advance(prev, {date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10)}, window(date(2026, 3, 8), date(2026, 3, 10)),
                  NOW_MS, START)
    assert got.synced_until_ms == NOW_MS and got.gap is None
    # a finished past range advances to its end (midnight after its last date)
    got = advance(prev, {date(2026, 3, 9)}, window(date(2026, 3, 9), date(2026, 3, 9)), NOW_MS, START)
    assert got.synced_until_ms == midnight_ms(date(2026, 3, 10)) and got.gap is None


def test_an_outage_gap_is_never_marked_as_synced() -> None:
    prev = midnight_ms(date(2026, 3, 7))  # the scheduler stopped here; three days later it syncs only today
    got = advance(prev, {date(2026, 3, 10)}, window(date(2026, 3, 10), date(2026, 3, 10)), NOW_MS, START)
    assert got.synced_until_ms == prev
    assert "gap" in got.gap and "2026-03-10" in got.gap


def test_a_run_never_moves_synced_until_backwards() -> None:
    prev = NOW_MS - 1000
    got = advance(prev, {date(2026, 1, 5)}, window(date(2026, 1, 5), date(2026, 1, 5)), NOW_MS, START)
    assert got.synced_until_ms == prev


def test_a_hole_in_the_requested_dates_stops_the_advance_at_the_hole() -> None:
    prev = midnight_ms(date(2026, 3, 1))
    dates = {date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 5)}
    got = advance(prev, dates, window(date(2026, 3, 1), date(2026, 3, 5)), NOW_MS, START)
    assert got.synced_until_ms == midnight_ms(date(2026, 3, 3))
    assert "not contiguous" in got.gap


def test_never_loaded_needs_a_run_from_the_first_partition() -> None:
    full = advance(None, {START, date(2025, 11, 2)}, window(START, date(2025, 11, 2)), NOW_MS, START)
    assert full.synced_until_ms == midnight_ms(date(2025, 11, 3)) and full.gap is None
    partial = advance(None, {date(2026, 3, 10)}, window(date(2026, 3, 10), date(2026, 3, 10)), NOW_MS, START)
    assert partial.synced_until_ms is None and "full load" in partial.gap
