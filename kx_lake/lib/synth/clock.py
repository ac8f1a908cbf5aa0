"""Simulated time: which days exist, how busy each is, at which hours things happen, and how a
collection encodes its timestamps (BSON date, epoch-millis long or ISO-8601 text, per collections.csv).

Days are integer offsets from the first simulated day, so a later `mutate` simply continues the same
numbering. All arithmetic is in epoch milliseconds; datetimes are made only when a value is written.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bson.int64 import Int64

from kx_lake.lib.config import TimestampEncoding
from kx_lake.lib.synth.tables import cum

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MIN_MS = 60_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

WEEKDAY_OPD = (1.18, 1.06, 1.0, 1.0, 0.97, 0.82, 0.32)  # Monday .. Sunday
WEEKDAY_ER = (1.0, 0.97, 0.96, 0.97, 1.02, 1.08, 1.12)
# OPD arrivals per hour 08:00-20:59: a late-morning peak and an evening peak after office hours
OPD_HOURS = tuple(range(8, 21))
OPD_HOUR_CUM = cum((0.5, 1.0, 1.45, 1.5, 1.2, 0.55, 0.45, 0.7, 0.95, 1.15, 1.2, 0.8, 0.3))
ER_HOURS = tuple(range(24))
ER_HOUR_CUM = cum((0.6, 0.5, 0.4, 0.35, 0.3, 0.35, 0.5, 0.7, 0.9, 1.0, 1.05, 1.1,
                   1.1, 1.05, 1.0, 1.0, 1.05, 1.15, 1.3, 1.4, 1.4, 1.25, 1.0, 0.8))


def season_of(day: date) -> str:
    m = day.month
    if m in (6, 7, 8, 9):
        return "monsoon"
    if m in (11, 12, 1, 2):
        return "winter"
    if m in (3, 4, 5):
        return "summer"
    return "all"


def to_datetime(ms: int) -> datetime:
    """An aware UTC datetime with millisecond precision (what BSON stores)."""
    return _EPOCH + timedelta(milliseconds=ms)


def encode_ts(encoding: TimestampEncoding, ms: int, tz: ZoneInfo, *, utc: bool = False) -> object:
    """A timestamp in a collection's configured encoding (ISO text in local time, or 'Z' if utc)."""
    if encoding is TimestampEncoding.EPOCH_MS:
        return Int64(ms)
    if encoding is TimestampEncoding.ISO_STRING:
        if utc:
            return to_datetime(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return to_datetime(ms).astimezone(tz).isoformat(timespec="milliseconds")
    return to_datetime(ms)


@dataclass(frozen=True)
class Timeline:
    """Day d (0-based) is the local calendar day `first_day + d`; [0, horizon) has been simulated."""

    tz: ZoneInfo
    first_day: date
    horizon: int

    @classmethod
    def ending(cls, as_of: date, tz: ZoneInfo, days: int = 365, not_before: date | None = None) -> Timeline:
        first = as_of - timedelta(days=days)
        if not_before is not None and first < not_before:
            first = min(not_before, as_of - timedelta(days=1))
        return cls(tz, first, (as_of - first).days)

    def day(self, d: int) -> date:
        return self.first_day + timedelta(days=d)

    def start_ms(self, d: int) -> int:
        """Epoch ms of local midnight starting day d."""
        local = datetime.combine(self.day(d), time(0), tzinfo=self.tz)
        return int(local.timestamp()) * 1000

    @property
    def horizon_ms(self) -> int:
        """The end of the simulated past: nothing may be stamped later than this."""
        return self.start_ms(self.horizon)

    def opd_factor(self, d: int) -> float:
        day = self.day(d)
        return WEEKDAY_OPD[day.weekday()] * _MONTH_LOAD[day.month - 1]

    def er_factor(self, d: int) -> float:
        day = self.day(d)
        return WEEKDAY_ER[day.weekday()] * (1.12 if season_of(day) == "monsoon" else 1.0)

    def at_hour(self, rng: random.Random, d: int, hours: tuple[int, ...], hour_cum: list[float]) -> int:
        """A random instant on day d, the hour drawn from an hour-of-day profile."""
        hour = rng.choices(hours, cum_weights=hour_cum)[0]
        return self.start_ms(d) + hour * HOUR_MS + rng.randrange(HOUR_MS // 1000) * 1000

    def between(self, rng: random.Random, d: int, first_hour: int, last_hour: int) -> int:
        return self.start_ms(d) + first_hour * HOUR_MS + rng.randrange((last_hour - first_hour) * 3600) * 1000


# Monsoon infections and winter respiratory illness load the OPD; May heat and festival weeks dip it.
_MONTH_LOAD = (1.08, 1.02, 0.97, 0.95, 0.9, 1.0, 1.12, 1.15, 1.12, 0.98, 0.94, 1.04)
