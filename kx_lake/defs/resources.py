"""Resources every definition module shares, bound once (lazy: nothing resolves until a run starts)."""

import dagster as dg

from kx_lake.builders.catalog_resource import CatalogResource
from kx_lake.builders.collection_assets import LAKE_IO_MANAGER
from kx_lake.builders.lake_io_manager import LakeParquetIOManager
from kx_lake.builders.resources import MongoSourceResource, project_resource
from kx_lake.builders.spark_resource import SparkEngineResource


@dg.definitions
def resources() -> dg.Definitions:
    # The one place that says where the configuration lives; every other resource nests this very
    # instance (defs/operations.py and defs/quicksight.py too), so one value moves them all.
    project = project_resource()
    return dg.Definitions(
        resources={
            "kx_project": project,
            "mongo": MongoSourceResource(kx_project=project),
            "kx_catalog": CatalogResource(kx_project=project),
            "kx_spark": SparkEngineResource(kx_project=project),
            LAKE_IO_MANAGER: LakeParquetIOManager(kx_project=project),
        }
    )
