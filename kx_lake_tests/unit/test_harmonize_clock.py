"""LocalClock.to_utc: the inverse of the wall-clock conversion, refusing DST folds and gaps."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from kx_lake.lib.harmonize.clock import LocalClock, WallClockError


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York", "Australia/Lord_Howe", "Europe/London", "UTC"])
def test_to_utc_inverts_to_local_except_in_folds(zone):
    tz, rng = ZoneInfo(zone), random.Random(zone)
    clock = LocalClock(tz)
    utc = [rng.randrange(-62135596800000, 253402300799999) for _ in range(3000)]
    utc += [rng.randrange(0, 2 * 10**12) for _ in range(3000)]  # 1970-2033: every DST change

    def in_fold(ms: int) -> bool:
        wall = datetime(1970, 1, 1) + timedelta(milliseconds=clock.local_ms(ms))
        return wall.replace(tzinfo=tz, fold=0).utcoffset() != wall.replace(tzinfo=tz, fold=1).utcoffset()

    unique = pa.array([None] + [ms for ms in utc if not in_fold(ms)], pa.int64())
    assert clock.to_utc(clock.to_local(unique)).equals(unique)


def test_to_utc_refuses_folds_and_gaps():
    clock = LocalClock(ZoneInfo("America/New_York"))
    with pytest.raises(WallClockError, match="fold"):
        clock.to_utc(pa.array([datetime(2025, 11, 2, 1, 30)], pa.timestamp("ms")))
    with pytest.raises(WallClockError, match="gap"):
        clock.to_utc(pa.array([datetime(2025, 3, 9, 2, 30)], pa.timestamp("ms")))
    near = pa.array([datetime(2025, 11, 2, 0, 59, 59, 999000), datetime(2025, 11, 2, 2), datetime(2025, 3, 9, 3)], pa.timestamp("ms"))
    assert clock.to_local(clock.to_utc(near)).equals(near)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Kolkata", "America/Santiago"])
def test_to_local_matches_the_per_value_offset_batch_after_batch(zone):
    """The remembered run of one offset (LocalClock._flat) never leaks over a transition: random
    batches of a few days, some crossing a DST change, in random order on one clock."""
    clock, rng = LocalClock(ZoneInfo(zone)), random.Random(12)
    base = int(datetime(2023, 1, 1).timestamp() * 1000)
    for _ in range(300):
        start = base + rng.randrange(0, 2 * 365 * 86_400_000)
        values = [start + rng.randrange(0, 5 * 86_400_000) for _ in range(20)]
        got = clock.to_local(pa.array(values, pa.int64())).cast(pa.int64()).to_pylist()
        assert got == [clock.local_ms(v) for v in values]
