"""Which partition dates a sync covers, per collection.

  --dates A..B      exactly those dates, for every selected collection;
  --all-dates       every date from partitions_start to today: a full reload;
  (default)         incremental: from the day the previous sync reached (`synced_until`) minus the
                    look-back for late commits, to today — documents new or modified since then
                    carry later timestamps. A collection never fully loaded (no `synced_until`,
                    even if some dates were published by explicit ranges) gets a full load.
Collections sharing a range run together (one Dagster run per range × environment); after a sync
of everything they all share one range, so an incremental cycle is one run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.lib.lake.pipeline import storage_for
from kx_lake.lib.lake.state import CollectionState


@dataclass(frozen=True)
class SyncGroup:
    env: str
    first: date
    last: date
    collections: tuple[CollectionSpec, ...]
    full_load: bool


def today_in(project: ProjectConfig, env: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(project.environment(env).tz).date()


def plan_sync(
    project: ProjectConfig,
    env: str,
    collections: list[CollectionSpec],
    *,
    dates: tuple[date, date] | None = None,
    all_dates: bool = False,
    lookback_days: int = 1,
    now: datetime | None = None,
) -> list[SyncGroup]:
    env_spec = project.environment(env)
    today = today_in(project, env, now)
    start = project.partitions_start
    if dates is not None:
        first, last = dates
        if first < start:
            raise ValueError(f"{env}: {first} is before partitions_start {start} ({project.settings.environments_file})")
        return [SyncGroup(env, first, last, tuple(collections), False)]
    if all_dates:
        return [SyncGroup(env, start, today, tuple(collections), True)]
    storage = storage_for(project, env_spec)
    groups: dict[date, list[CollectionSpec]] = defaultdict(list)
    for spec in collections:
        state = CollectionState.read(storage, env, spec.database, spec.collection)
        reached = state.synced_until_ms  # None: never fully loaded (lib/lake/coverage.py), whatever was written
        if reached is None:
            groups[start].append(spec)
            continue
        reached_day = datetime.fromtimestamp(reached / 1000, UTC).astimezone(env_spec.tz).date()
        groups[max(start, min(reached_day, today) - timedelta(days=lookback_days))].append(spec)
    return [
        SyncGroup(env, first, today, tuple(specs), first == start)
        for first, specs in sorted(groups.items())
    ]
