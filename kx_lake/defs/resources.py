"""Resources every definition module shares, bound once (lazy: nothing resolves until a run starts)."""

import dagster as dg

from kx_lake.components.catalog_resource import CatalogResource
from kx_lake.components.collection_assets import LAKE_IO_MANAGER
from kx_lake.components.lake_io_manager import LakeParquetIOManager
from kx_lake.components.resources import MongoSourceResource, ProjectResource


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "kx_project": ProjectResource(),
            "mongo": MongoSourceResource(),
            "kx_catalog": CatalogResource(),
            LAKE_IO_MANAGER: LakeParquetIOManager(),
        }
    )
