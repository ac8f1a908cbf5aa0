"""The lake: one asset per configured collection (env × date partitions) and the job the CLI and
schedules run. Its resources and IO manager are bound in defs/resources.py."""

import dagster as dg

from kx_lake.builders.collection_assets import build_collection_assets, collection_key
from kx_lake.builders.partitions import env_date_partitions
from kx_lake.builders.resources import load_project
from kx_lake.lib.config import ProjectConfig

SYNC_JOB = "sync_collections"


def sync_job(cfg: ProjectConfig):  # noqa: ANN201 - define_asset_job's type is not public
    """The job the CLI, the schedule and the new-data sensor run (the e-mail sensor monitors it)."""
    return dg.define_asset_job(
        SYNC_JOB,
        selection=dg.AssetSelection.assets(*(collection_key(s) for s in cfg.enabled_collections)),
        description="Extract collections from MongoDB into the lake (env × date partitions).",
    )


@dg.definitions
def lake() -> dg.Definitions:
    cfg = load_project()
    return dg.Definitions(assets=build_collection_assets(cfg, env_date_partitions(cfg)), jobs=[sync_job(cfg)])
