"""The reconcile job and its weekly schedule (lib/lake/reconcile.py does the work).

One op per run, configured with an environment and optionally a subset of collections. It holds the
environment's lease for the whole pass — the one every sync takes (builders/run_lease.py) — so a
reconcile and a sync never overlap: each waits for the other, then fails naming the holder. Its repairs
(missing or stale documents' dates) go through the sync job itself — `run_sync` on the same
instance, one run per contiguous run of dates, joining the reconcile's lease — so they are ordinary,
recorded sync runs with the same assets, IO manager and merge semantics. The op's output is the
per-collection summary, which `kx-lake reconcile` prints. The schedule (weekly, every active environment) starts STOPPED.
"""

import shutil
import uuid
from collections.abc import Callable
from typing import Any

import dagster as dg

from kx_lake.builders.partitions import ZoneGroup, env_tags, zone_groups
from kx_lake.builders.resources import MongoSourceResource, ProjectResource, load_project
from kx_lake.builders.run_lease import hold_leases, lease_holder
from kx_lake.builders.sync_runner import run_sync, step_error
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.lake.reconcile import ReconcileResult, reconcile_env
from kx_lake.lib.scrub import Scrubber, scrub

RECONCILE_JOB = "reconcile_lake"
RECONCILE_OP = "reconcile_collections"
RECONCILE_SCHEDULE = "reconcile_weekly"
WEEKLY_CRON = "0 3 * * 0"  # Sundays 03:00 in each environment's timezone


class ReconcileConfig(dg.Config):
    env: str
    collections: list[str] = []  # empty: every enabled collection


def build_reconcile_job(sync_job: str, definitions: Callable[[], dg.Definitions]) -> dg.JobDefinition:
    """`definitions`: the code location, loaded when a repair is needed (not at definitions load)."""

    @dg.op(name=RECONCILE_OP, description="Compare source and lake; tombstone deletions; repair missing/stale dates.")
    def _reconcile(context: dg.OpExecutionContext, config: ReconcileConfig, kx_project: ProjectResource,
                   mongo: MongoSourceResource) -> list[dict]:
        project = kx_project.project
        project.environment(config.env)
        specs = [project.collection(c) for c in config.collections] or list(project.enabled_collections)
        workdir = kx_project.staging_dir(context.run.run_id) / "reconcile"

        def repair(groups: list[SyncGroup]) -> dict[tuple[str, str], str]:
            context.log.info(f"{config.env}: repairing {len(groups)} date range(s) through {sync_job}")
            summary = run_sync(definitions(), sync_job, groups, instance=context.instance, lease_holder=holder)
            return {(r.database, r.collection): r.error or r.status for r in summary.failed}

        holder = lease_holder(context.run)
        try:
            with hold_leases(project, [config.env], holder, context.log, context.instance):
                results = reconcile_env(client=mongo.client(config.env), project=project, env=config.env,
                                        specs=specs, workdir=workdir, repair=repair, log=context.log)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        scrubber = Scrubber.for_project(project)
        for r in results:
            if r.error:
                r.error = scrubber(r.error)
        context.add_output_metadata(summary_metadata(results))
        failed = [r for r in results if r.status != "ok"]
        if failed:
            context.log.error("; ".join(f"{r.database}.{r.collection}: {r.error}" for r in failed))
        return [r.to_dict() for r in results]

    @dg.job(name=RECONCILE_JOB, description="Reconcile the lake with the source: deletions become tombstones, "
                                             "missing or stale documents are re-synced.")
    def _job() -> None:
        _reconcile()

    return _job


def summary_metadata(results: list[ReconcileResult]) -> dict:
    keys = ("source_documents", "latest_ids", "missing", "stale", "deleted", "tombstoned", "repaired", "rejected",
            "rejects_cleared")
    return {
        **{k: sum(getattr(r, k) for r in results) for k in keys},
        "failed": sum(r.status != "ok" for r in results),
        "collections": dg.MetadataValue.md("\n".join(
            f"- {r.database}.{r.collection} ({r.policy}): " + ", ".join(f"{k} {getattr(r, k)}" for k in keys)
            + (f" — {r.status}: {r.error}" if r.error else "") for r in results)),
    }


def run_config(env: str, collections: list[str] | None = None) -> dict:
    return {"ops": {RECONCILE_OP: {"config": {"env": env, "collections": list(collections or [])}}}}


def build_reconcile_schedules(cfg: ProjectConfig, cron: str = WEEKLY_CRON) -> list[dg.ScheduleDefinition]:
    """One weekly schedule per timezone of the active environments, so 03:00 is 03:00 local everywhere."""
    return [_reconcile_schedule(group, cron) for group in zone_groups(cfg)]


def _reconcile_schedule(group: ZoneGroup, cron: str) -> dg.ScheduleDefinition:
    tz = group.timezone
    which = "every active environment" if not group.suffix else ", ".join(e.name for e in group.envs)

    @dg.schedule(name=group.name(RECONCILE_SCHEDULE), cron_schedule=cron, job_name=RECONCILE_JOB,
                 execution_timezone=tz, default_status=dg.DefaultScheduleStatus.STOPPED,
                 description=f"Reconcile {which} with its source ({cron}, {tz}).")
    def _schedule(context: dg.ScheduleEvaluationContext):
        key = (context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else None)
        return [dg.RunRequest(run_key=f"{env.name}:{key}" if key else None, run_config=run_config(env.name),
                              tags=env_tags(env.name, "schedule"))
                for env in group.envs]

    return _schedule


def run_reconcile(defs: dg.Definitions, env: str, collections: list[str] | None, *,
                  instance: dg.DagsterInstance, lease_log: Any = None) -> tuple[list[dict], str]:
    """Execute the reconcile job in process (the CLI's path); (per-collection summaries, run id).
    The environment's lease is taken before the run is recorded (as sync_runner does): LeaseHeldError
    if a sync keeps it past the configured wait; the op then joins it under the same run id."""
    run_id = str(uuid.uuid4())
    with hold_leases(load_project(), [env], run_id, lease_log, instance):
        result = defs.resolve_job_def(RECONCILE_JOB).execute_in_process(
            run_config=run_config(env, collections), instance=instance, run_id=run_id,
            tags=env_tags(env, "cli"), raise_on_error=False,
        )
    if not result.success:
        errors = [step_error(e.event_specific_data.error) for e in result.all_events
                  if e.event_type_value == "STEP_FAILURE" and e.event_specific_data.error]
        raise RuntimeError(f"{env}: reconcile failed: {scrub(errors[0] if errors else 'no output')}"[:1000])
    return result.output_for_node(RECONCILE_OP), result.run_id
