"""A finished run → RunReport, read from the instance's event log (the facts the run recorded).

Shared by the success and failure e-mail sensors. The environment comes from the
run's partition tags (a range run or a single partition); collection results from the same events the
CLI summary uses (results_from_events); check outcomes from ASSET_CHECK_EVALUATION events.
"""

from __future__ import annotations

import dagster as dg

from kx_lake.builders.partitions import run_env
from kx_lake.builders.run_summary import results_from_events
from kx_lake.lib.notify import CheckOutcome, RunReport
from kx_lake.lib.ops.config import OperationsConfig

_RESULT_EVENTS = {dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_OBSERVATION}


def env_of_run(run: dg.DagsterRun) -> str:
    return run_env(run.tags) or "all environments"


def check_outcomes(instance: dg.DagsterInstance, run_id: str) -> list[CheckOutcome]:
    out = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        ev = entry.dagster_event.event_specific_data
        out.append(CheckOutcome(
            asset=".".join(ev.asset_key.path), check=ev.check_name, passed=bool(ev.passed),
            severity=ev.severity.value if ev.severity else "ERROR", description=ev.description or "",
        ))
    return out


def report_for_run(instance: dg.DagsterInstance, run: dg.DagsterRun, ops: OperationsConfig,
                   run_error: str | None = None) -> RunReport:
    env = env_of_run(run)
    stats = instance.get_run_stats(run.run_id)
    duration = (stats.end_time - stats.start_time) if stats.start_time and stats.end_time else None
    return RunReport(
        job=run.job_name, run_id=run.run_id, status=run.status.value, env=env, run_url=ops.run_url(run.run_id),
        duration_s=duration, results=results_from_events(env, instance.all_logs(run.run_id, of_type=_RESULT_EVENTS)),
        checks=check_outcomes(instance, run.run_id), run_error=run_error,
    )
