"""After new data, the data sets over rebuilt views (and only those) are refreshed — once the
`quicksight_automation` sensor is started; it is STOPPED by default, since it calls AWS.

Evaluated by Dagster (`evaluate_automation_conditions`) on a fixed clock; no AWS call is made.
"""

from datetime import UTC, datetime

import dagster as dg

from kx_lake.builders.quicksight_assets import DASHBOARDS_KEY, RLS_KEY, data_set_key, view_key
from kx_lake.defs.quicksight import QUICKSIGHT_AUTOMATION_SENSOR

NOW = datetime(2026, 1, 6, 4, 30, tzinfo=UTC)


def _tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor=None):  # noqa: ANN001, ANN202
    return dg.evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=NOW, cursor=cursor,
                                             asset_selection=dg.AssetSelection.groups("quicksight"))


def _requested(result) -> set[dg.AssetKey]:  # noqa: ANN001
    return {r.key for r in result.results if r.true_subset.size}


def test_a_rebuilt_view_refreshes_only_its_data_set(repo_defs: dg.Definitions) -> None:
    with dg.instance_for_test() as instance:
        first = _tick(repo_defs, instance)
        assert first.total_requested == 0
        instance.report_runless_asset_event(dg.AssetMaterialization(view_key("fin_revenue_daily")))
        held = _tick(repo_defs, instance, first.cursor)
        assert _requested(held) == set()  # QuickSight never deployed here (no RLS data set): nothing to refresh

        for key in (RLS_KEY, DASHBOARDS_KEY):  # a deploy happened
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        after_deploy = _tick(repo_defs, instance, held.cursor)
        assert _requested(after_deploy) == {data_set_key("fin_revenue_daily")}  # the one view that exists
        instance.report_runless_asset_event(dg.AssetMaterialization(data_set_key("fin_revenue_daily")))  # its run
        quiet = _tick(repo_defs, instance, after_deploy.cursor)
        assert quiet.total_requested == 0

        instance.report_runless_asset_event(dg.AssetMaterialization(view_key("fin_revenue_daily")))  # new data
        new_data = _tick(repo_defs, instance, quiet.cursor)
        assert _requested(new_data) == {data_set_key("fin_revenue_daily")}  # not the other 23, not dashboards
        assert _tick(repo_defs, instance, new_data.cursor).total_requested == 0  # once per rebuild


def test_the_quicksight_sensor_is_stopped_by_default(repo_defs: dg.Definitions) -> None:
    sensor = repo_defs.resolve_sensor_def(QUICKSIGHT_AUTOMATION_SENSOR)
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    graph = repo_defs.resolve_asset_graph()
    assert {k for k in sensor.asset_selection.resolve(graph)} == {
        k for k in graph.get_all_asset_keys() if k.path[0] == "quicksight"}
