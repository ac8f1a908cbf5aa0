"""Operations: the sync schedules, the new-data and e-mail sensors, the data-quality and quarantine
checks (with the job and daily schedules that run the quality checks over all dates) and the notifier
resource. Cron, lags and e-mail settings come from assets_config/operations.yaml (read at definitions
load, like collections.csv); schedules and sensors start STOPPED."""

import dagster as dg

from kx_lake.builders.checks import build_collection_checks, build_quality_job, build_quality_schedules
from kx_lake.builders.notify_resources import NotifierResource, load_operations
from kx_lake.builders.rejects_check import build_rejects_check
from kx_lake.builders.resources import load_project, project_resource
from kx_lake.builders.schedules import build_sync_schedules
from kx_lake.builders.sensors import build_email_sensors, build_new_data_sensor
from kx_lake.defs.lake import SYNC_JOB, sync_job


@dg.definitions
def operations() -> dg.Definitions:
    cfg = load_project()
    ops = load_operations()
    checks = build_collection_checks(cfg, ops)
    return dg.Definitions(
        asset_checks=[*checks, *build_rejects_check(cfg, ops)],
        jobs=[build_quality_job()] if checks else [],
        schedules=[*build_sync_schedules(cfg, ops, SYNC_JOB), *(build_quality_schedules(cfg) if checks else [])],
        sensors=[build_new_data_sensor(ops, SYNC_JOB), *build_email_sensors(sync_job(cfg))],
        resources={"notifier": NotifierResource(kx_project=project_resource())},
    )
