"""The one partitioning every collection asset shares: environment × date.

Dates are daily in the environments' timezone (one timezone for the date dimension: Dagster's
daily partitions have one; environments that disagree are refused at load). The range starts at
`partitions_start` and ends tomorrow (end_offset=1) so late writes stamped just after midnight IST
have a partition. `partition_scope` turns a run's partition keys back into {env: [dates]} — a
single-run backfill over env1 × a date range arrives here as one run.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import dagster as dg

from kx_lake.lib.config import ProjectConfig

DATE_DIM = "date"
ENV_DIM = "env"
ENV_TAG = "kx_lake/env"  # dagster_home.py limits queued runs to one per value


def env_date_partitions(cfg: ProjectConfig) -> dg.MultiPartitionsDefinition:
    envs = cfg.active_environments
    zones = {e.timezone for e in envs}
    if len(zones) != 1:
        raise ValueError(
            f"active environments in {cfg.settings.environments_file} use several timezones {sorted(zones)}; "
            "the shared date dimension needs one"
        )
    return dg.MultiPartitionsDefinition(
        {
            DATE_DIM: dg.DailyPartitionsDefinition(
                start_date=cfg.partitions_start.isoformat(), timezone=zones.pop(), end_offset=1
            ),
            ENV_DIM: dg.StaticPartitionsDefinition([e.name for e in envs]),
        }
    )


def partition_key(env: str, day: date | str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({DATE_DIM: str(day), ENV_DIM: env})


def partition_scope(keys: list[str] | list[dg.MultiPartitionKey]) -> dict[str, list[date]]:
    """{env: sorted dates} for a run's partition keys ('2026-01-02|env1' strings or MultiPartitionKeys)."""
    scope: dict[str, set[date]] = defaultdict(set)
    for key in keys:
        dims = key.keys_by_dimension if isinstance(key, dg.MultiPartitionKey) else dict(
            zip((DATE_DIM, ENV_DIM), str(key).split("|"), strict=True)
        )
        scope[dims[ENV_DIM]].add(date.fromisoformat(dims[DATE_DIM]))
    return {env: sorted(days) for env, days in sorted(scope.items())}


def range_tags(env: str, first: date, last: date) -> dict[str, str]:
    """Run tags selecting env × [first, last] as one partition range (one run, like a single-run backfill),
    plus the environment alone (ENV_TAG), which the run queue limits to one sync per environment."""
    return {
        "dagster/asset_partition_range_start": f"{first.isoformat()}|{env}",
        "dagster/asset_partition_range_end": f"{last.isoformat()}|{env}",
        ENV_TAG: env,
    }
