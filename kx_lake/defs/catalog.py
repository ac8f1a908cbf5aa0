"""The catalog: tables and dedup views per collection, and the SQL views, downstream of the lake."""

import dagster as dg

from kx_lake.builders.catalog_assets import build_latest_view_assets, build_sql_view_assets
from kx_lake.builders.resources import load_project

CATALOG_JOB = "refresh_catalog"
CATALOG_AUTOMATION_SENSOR = "catalog_automation"


@dg.definitions
def catalog() -> dg.Definitions:
    cfg = load_project()
    assets = [*build_latest_view_assets(cfg), *build_sql_view_assets(cfg)]
    return dg.Definitions(
        assets=assets,
        # in-process: catalog steps are short and the embedded DuckDB file takes one writer at a time
        jobs=[dg.define_asset_job(CATALOG_JOB, selection=dg.AssetSelection.assets(*assets),
                                  executor_def=dg.in_process_executor,
                                  description="Refresh catalog tables, dedup views and SQL views.")],
        # RUNNING: with the daemon on (`make dev`), a sync's new partitions refresh the views they feed
        sensors=[dg.AutomationConditionSensorDefinition(
            CATALOG_AUTOMATION_SENSOR, target=dg.AssetSelection.assets(*assets),
            default_status=dg.DefaultSensorStatus.RUNNING,
            description="Refresh the tables and views downstream of newly synced partitions (VIEW_AUTOMATION).",
        )],
    )
