"""Resources every definition module shares, bound once (lazy: nothing resolves until a run starts)."""

import dagster as dg

from kx_lake.components.catalog_resource import CatalogResource
from kx_lake.components.collection_assets import LAKE_IO_MANAGER
from kx_lake.components.lake_io_manager import LakeParquetIOManager
from kx_lake.components.resources import MongoSourceResource, ProjectResource


# The one place that says where the configuration lives; every other resource nests this instance
# (defs/operations.py and defs/quicksight.py too), so one run-config value moves them all.
PROJECT = ProjectResource()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "kx_project": PROJECT,
            "mongo": MongoSourceResource(kx_project=PROJECT),
            "kx_catalog": CatalogResource(kx_project=PROJECT),
            LAKE_IO_MANAGER: LakeParquetIOManager(kx_project=PROJECT),
        }
    )
