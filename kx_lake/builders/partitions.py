"""The one partitioning every collection asset shares — environment × date — and the one place that
reads or writes its keys and the run tags naming them.

A key `2026-01-02|env3` means the calendar day 2026-01-02 *in env3's own timezone*: the pipeline
routes a document to its date, the sync plans "today" and the look-back, and the sensor finds new
data, each in the environment's timezone (lib/lake/plan.py, lib/extract/windows.py). Dagster's
daily dimension has one timezone, which only decides which date keys exist at a given instant: its
last key is the last complete day plus `end_offset`, and it must reach every environment's today
(the day in progress, which every sync re-materializes):

* one timezone among the active environments (env1 and env2 in IST): that timezone, end_offset=1 —
  the keys end exactly at today there;
* several (env3 in Asia/Dubai beside IST): the date dimension counts UTC calendar days with
  end_offset=2, so its last key is UTC's date + 1. Every real zone's local date is within one day of
  UTC's (offsets −12 h … +14 h), so that is never before any environment's today. East of UTC (IST,
  Dubai) it is today or tomorrow there: at most one extra, never-synced key shows in the UI; it holds
  nothing, and the catalog's automation ignores unmaterialized partitions (VIEW_AUTOMATION).

Rather than per-environment date dimensions (Dagster allows one daily dimension per definition) or a
dynamic date set (every new day would have to be added by a sensor), the keys stay plain dates and
each environment interprets its own. Schedules fire per timezone (`zone_groups`), so a cron hour
means the same local hour in every country.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import dagster as dg

from kx_lake.lib.config import EnvironmentSpec, ProjectConfig

DATE_DIM = "date"
ENV_DIM = "env"
_DIMS = tuple(sorted((DATE_DIM, ENV_DIM)))  # Dagster joins a multi-partition key's dimensions by name order
_SEP = "|"

# Run tags. Dagster's own (a single-run backfill's range; a one-partition run; its env dimension) and ours.
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"
ENV_PARTITION_TAG = f"dagster/partition/{ENV_DIM}"
ENV_TAG = "kx_lake/env"  # dagster_home.py limits queued runs to one per value
SOURCE_TAG = "kx_lake/source"  # cli | schedule | sensor
FULL_LOAD_TAG = "kx_lake/full_load"

MIXED_ZONES_DIMENSION_TZ = "UTC"
MIXED_ZONES_END_OFFSET = 2


@dataclass(frozen=True, order=True)
class EnvDate:
    """One partition: a calendar date in an environment's own timezone."""

    env: str
    day: date

    @property
    def key(self) -> str:
        return str(partition_key(self.env, self.day))


def env_date_partitions(cfg: ProjectConfig) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {
            DATE_DIM: date_dimension(cfg.active_environments, cfg.partitions_start),
            ENV_DIM: dg.StaticPartitionsDefinition([e.name for e in cfg.active_environments]),
        }
    )


def date_dimension(envs: Iterable[EnvironmentSpec], start: date) -> dg.DailyPartitionsDefinition:
    """Daily keys from `start` up to (at least) every environment's today (module docstring)."""
    zones = {e.timezone for e in envs}
    if len(zones) == 1:
        return dg.DailyPartitionsDefinition(start_date=start.isoformat(), timezone=zones.pop(), end_offset=1)
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), timezone=MIXED_ZONES_DIMENSION_TZ,
                                        end_offset=MIXED_ZONES_END_OFFSET)


def partition_key(env: str, day: date | str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({DATE_DIM: str(day), ENV_DIM: env})


def parse_key(key: str | dg.MultiPartitionKey) -> EnvDate:
    """EnvDate of '2026-01-02|env1' or a MultiPartitionKey; ValueError naming the key otherwise."""
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
    else:
        parts = str(key).split(_SEP)
        if len(parts) != len(_DIMS):
            raise ValueError(f"{key!r} is not an env × date partition key (like '2026-01-02{_SEP}env1')")
        dims = dict(zip(_DIMS, parts, strict=True))
    try:
        return EnvDate(dims[ENV_DIM], date.fromisoformat(dims[DATE_DIM]))
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{key!r} is not an env × date partition key (like '2026-01-02{_SEP}env1')") from exc


def partition_scope(keys: Iterable[str | dg.MultiPartitionKey]) -> dict[str, list[date]]:
    """{env: sorted dates} for a run's partition keys — a single-run backfill over env1 × a range is one run."""
    scope: dict[str, set[date]] = defaultdict(set)
    for key in keys:
        part = parse_key(key)
        scope[part.env].add(part.day)
    return {env: sorted(days) for env, days in sorted(scope.items())}


def range_tags(env: str, first: date, last: date) -> dict[str, str]:
    """Run tags selecting env × [first, last] as one partition range (one run, like a single-run backfill),
    plus the environment alone (ENV_TAG), which the run queue limits to one sync per environment."""
    return {
        RANGE_START_TAG: EnvDate(env, first).key,
        RANGE_END_TAG: EnvDate(env, last).key,
        ENV_TAG: env,
    }


def env_tags(env: str, source: str) -> dict[str, str]:
    """Tags of a run for one environment that selects no partitions (catalog, reconcile, QuickSight)."""
    return {ENV_TAG: env, SOURCE_TAG: source}


def run_env(tags: Mapping[str, str]) -> str | None:
    """The one environment a run's tags name (its partition range or key, its env dimension, ENV_TAG), if any."""
    for tag in (RANGE_START_TAG, PARTITION_TAG):
        if _SEP in tags.get(tag, ""):
            return parse_key(tags[tag]).env
    for tag in (ENV_PARTITION_TAG, ENV_TAG):
        if tags.get(tag):
            return tags[tag]
    return None


@dataclass(frozen=True)
class ZoneGroup:
    """Active environments sharing a timezone: one schedule fires for them, on their local clock."""

    suffix: str  # "" when every active environment shares one timezone (names stay as they always were)
    timezone: str
    envs: tuple[EnvironmentSpec, ...]

    def name(self, base: str) -> str:
        return f"{base}{self.suffix}"


def zone_groups(cfg: ProjectConfig) -> list[ZoneGroup]:
    by_zone: dict[str, list[EnvironmentSpec]] = defaultdict(list)
    for env in cfg.active_environments:
        by_zone[env.timezone].append(env)
    if len(by_zone) == 1:
        [(zone, envs)] = by_zone.items()
        return [ZoneGroup("", zone, tuple(envs))]
    return [ZoneGroup("_" + re.sub(r"[^a-z0-9]+", "_", zone.lower()).strip("_"), zone, tuple(envs))
            for zone, envs in sorted(by_zone.items())]
