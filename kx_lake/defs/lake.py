"""The lake: one asset per configured collection (env × date partitions) and the job the CLI and
schedules run. Its resources and IO manager are bound in defs/resources.py."""

import dagster as dg

from kx_lake.components.collection_assets import build_collection_assets
from kx_lake.components.partitions import env_date_partitions
from kx_lake.components.resources import load_project

SYNC_JOB = "sync_collections"


@dg.definitions
def lake() -> dg.Definitions:
    cfg = load_project()
    partitions = env_date_partitions(cfg)
    assets = build_collection_assets(cfg, partitions)
    return dg.Definitions(
        assets=assets,
        jobs=[
            dg.define_asset_job(
                SYNC_JOB,
                selection=dg.AssetSelection.assets(*assets),
                partitions_def=partitions,
                description="Extract collections from MongoDB into the lake (env × date partitions).",
            )
        ],
    )
