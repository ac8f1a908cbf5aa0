"""The reconcile job (deletions → tombstones, missing or stale documents re-synced through the sync
job) and its weekly schedule, STOPPED by default."""

import dagster as dg

from kx_lake.builders.reconcile_job import build_reconcile_job, build_reconcile_schedules
from kx_lake.builders.resources import load_project
from kx_lake.defs.lake import SYNC_JOB


def _code_location() -> dg.Definitions:
    """The whole code location, for the repair's sync runs (imported when a repair runs, never at load)."""
    from kx_lake.definitions import defs

    return defs()


@dg.definitions
def reconcile() -> dg.Definitions:
    cfg = load_project()
    return dg.Definitions(
        jobs=[build_reconcile_job(SYNC_JOB, _code_location)],
        schedules=build_reconcile_schedules(cfg),
    )
