"""QuickSight: data sets and dashboards downstream of the dataset views, and their resource.

Own group; these assets need AWS and run when asked (job `deploy_quicksight`, the UI) or, once the
`quicksight_automation` sensor is started (STOPPED by default), when their dataset views are rebuilt. The resource is declared here, not in
defs/resources.py, so the QuickSight wiring stays in one module.
"""

import dagster as dg

from kx_lake.builders.catalog_resource import CatalogResource
from kx_lake.builders.quicksight_assets import QUICKSIGHT_GROUP, QuickSightResource, build_quicksight_assets
from kx_lake.builders.resources import project_resource

QUICKSIGHT_JOB = "deploy_quicksight"
QUICKSIGHT_AUTOMATION_SENSOR = "quicksight_automation"


@dg.definitions
def quicksight() -> dg.Definitions:
    assets = build_quicksight_assets()
    return dg.Definitions(
        assets=assets,
        jobs=[dg.define_asset_job(QUICKSIGHT_JOB, selection=dg.AssetSelection.groups(QUICKSIGHT_GROUP),
                                  description="Deploy QuickSight (data source, RLS, data sets, dashboards) and "
                                              "refresh SPICE. Needs AWS credentials.")],
        resources={"quicksight": QuickSightResource(kx_project=project_resource(),
                                                    kx_catalog=CatalogResource(kx_project=project_resource()))},
        # STOPPED: it calls AWS; start it where QuickSight is deployed
        sensors=[dg.AutomationConditionSensorDefinition(
            QUICKSIGHT_AUTOMATION_SENSOR, target=dg.AssetSelection.groups(QUICKSIGHT_GROUP),
            default_status=dg.DefaultSensorStatus.STOPPED,
            description="Refresh the QuickSight data sets (SPICE) whose dataset views were rebuilt.",
        )],
    )
