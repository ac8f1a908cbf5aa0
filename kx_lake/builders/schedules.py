"""The sync schedule: every active environment, all collections, planned from each collection's
state like `kx-lake sync` — from where the last sync reached minus the look-back (default one day)
to today, a full load for collections never loaded. One run per environment over the date range
(the partition-range tags a single-run backfill uses) while the collections share a range, so the
hourly cycle costs one run per environment, and the first tick after an outage covers the outage.

Each environment plans on its own calendar ("today" and the look-back in its timezone). The cron is
read on local clocks: environments in several timezones get one schedule per timezone
(`sync_recent_partitions_asia_dubai`, ...; partitions.zone_groups); a single timezone keeps the one
`sync_recent_partitions`. Cron and look-back come from operations.yaml; the schedules start STOPPED
so `dagster dev` on a laptop never syncs until someone turns one on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import dagster as dg

from kx_lake.builders.partitions import ZoneGroup, zone_groups
from kx_lake.builders.sync_requests import group_request
from kx_lake.lib.config import EnvironmentSpec, ProjectConfig
from kx_lake.lib.lake.plan import plan_sync
from kx_lake.lib.ops.config import OperationsConfig

SYNC_SCHEDULE = "sync_recent_partitions"


def scheduled_requests(cfg: ProjectConfig, ops: OperationsConfig, when: datetime,
                       envs: Iterable[EnvironmentSpec] | None = None) -> list[dg.RunRequest]:
    """Each environment planned on its own calendar: "today" and the look-back in its timezone."""
    requests = []
    for env in cfg.active_environments if envs is None else envs:
        for group in plan_sync(cfg, env.name, cfg.enabled_collections, lookback_days=ops.schedule.lookback_days,
                               now=when):
            requests.append(group_request(cfg, group, source="schedule", run_key=when.isoformat()))
    return requests


def build_sync_schedules(cfg: ProjectConfig, ops: OperationsConfig, job_name: str) -> list[dg.ScheduleDefinition]:
    """One schedule per timezone of the active environments (one, SYNC_SCHEDULE, when they share one)."""
    return [_sync_schedule(cfg, ops, job_name, group) for group in zone_groups(cfg)]


def _sync_schedule(cfg: ProjectConfig, ops: OperationsConfig, job_name: str, group: ZoneGroup) -> dg.ScheduleDefinition:
    tz = group.timezone
    which = "every active environment's" if not group.suffix else f"{', '.join(e.name for e in group.envs)}'s"

    @dg.schedule(
        name=group.name(SYNC_SCHEDULE), cron_schedule=ops.schedule.cron, job_name=job_name, execution_timezone=tz,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Sync {which} collections from where each last sync reached "
                    f"({ops.schedule.lookback_days} day(s) look-back) to today ({ops.schedule.cron}, {tz}).",
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        when = context.scheduled_execution_time or datetime.now(UTC)
        return scheduled_requests(cfg, ops, when, group.envs)

    return _schedule
