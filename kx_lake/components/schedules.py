"""The sync schedule: every active environment, today and the configured look-back (default
yesterday), all collections — one run per environment over the date range (the partition-range
tags a single-run backfill uses), so the hourly cycle costs one run per environment.

Cron and look-back come from operations.yaml; the schedule starts STOPPED so `dagster dev` on a
laptop never syncs until someone turns it on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from kx_lake.components.partitions import range_tags
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.ops.config import OperationsConfig

SYNC_SCHEDULE = "sync_recent_partitions"


def scheduled_requests(cfg: ProjectConfig, ops: OperationsConfig, when: datetime) -> list[dg.RunRequest]:
    requests = []
    for env in cfg.active_environments:
        today = when.astimezone(env.tz).date()
        first = max(today - timedelta(days=ops.schedule.lookback_days), cfg.partitions_start)
        requests.append(dg.RunRequest(
            run_key=f"{env.name}:{first}..{today}:{when.isoformat()}",
            tags={**range_tags(env.name, first, today), "kx_lake/source": "schedule"},
        ))
    return requests


def build_sync_schedule(cfg: ProjectConfig, ops: OperationsConfig, job_name: str) -> dg.ScheduleDefinition:
    tz = cfg.active_environments[0].timezone  # partitions.py already refuses mixed timezones

    @dg.schedule(
        name=SYNC_SCHEDULE, cron_schedule=ops.schedule.cron, job_name=job_name, execution_timezone=tz,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Sync today and {ops.schedule.lookback_days} day(s) back, every active environment, "
                    f"all collections ({ops.schedule.cron}, {tz}).",
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        when = context.scheduled_execution_time or datetime.now(UTC)
        return scheduled_requests(cfg, ops, when)

    return _schedule
