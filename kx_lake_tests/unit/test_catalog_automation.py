"""A sync refreshes the views it feeds: the catalog assets' automation condition, evaluated by Dagster.

On a fixed clock (06 Jan 2026, 10:00 IST) the collection's date partitions run to 06 Jan, the one
end_offset=1 adds before the day is over ("tomorrow's" from Dagster's view, which only counts
finished days), never materialized here; stock eager() would wait for it (and for every other missing
date × env) forever. These ticks prove the condition used fires anyway, once per update.
"""

from datetime import UTC, datetime

import dagster as dg
import pytest

from kx_lake.builders.catalog_assets import VIEW_AUTOMATION
from kx_lake.defs.catalog import CATALOG_AUTOMATION_SENSOR

NOW = datetime(2026, 1, 6, 4, 30, tzinfo=UTC)  # 10:00 IST
BILLS = dg.AssetKey(["hims_billing", "bills"])
BILLS_LATEST = dg.AssetKey(["hims_billing", "bills_latest"])
DIM_FACILITY = dg.AssetKey(["hims_masters", "dim_facility"])


@pytest.fixture(scope="module")
def defs(repo_defs: dg.Definitions) -> dg.Definitions:
    return repo_defs


def _tick(defs, instance, cursor=None):
    catalog = dg.AssetSelection.groups("catalog")
    return dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=catalog,
                                             evaluation_time=NOW, cursor=cursor)


def _requested(result) -> set[dg.AssetKey]:
    return {r.key for r in result.results if r.true_subset.size}


def test_a_synced_partition_refreshes_its_view_though_tomorrows_partition_is_missing(defs) -> None:
    partitions = defs.resolve_assets_def(BILLS).partitions_def
    dates = next(d.partitions_def for d in partitions.partitions_defs if d.name == "date")
    assert dates.get_partition_keys(current_time=NOW)[-2:] == ["2026-01-05", "2026-01-06"]  # 06: end_offset=1

    with dg.instance_for_test() as instance:
        first = _tick(defs, instance)
        assert first.total_requested == 0  # nothing happened yet
        instance.report_runless_asset_event(
            dg.AssetMaterialization(BILLS, partition=dg.MultiPartitionKey({"date": "2026-01-05", "env": "env1"})))
        second = _tick(defs, instance, first.cursor)
        requested = _requested(second)
        assert BILLS_LATEST in requested and DIM_FACILITY in requested  # and what reads it, in the same tick
        assert dg.AssetKey(["hims_patient", "encounters_latest"]) not in requested  # not synced: untouched
        third = _tick(defs, instance, second.cursor)
        assert third.total_requested == 0  # once per update, not every tick


def test_stock_eager_would_be_held_back_by_the_missing_partitions(defs) -> None:
    assert defs.resolve_assets_def(BILLS_LATEST).specs_by_key[BILLS_LATEST].automation_condition == VIEW_AUTOMATION
    stock = dg.AutomationCondition.eager()
    assert "any_deps_missing" in repr(stock) and "any_deps_missing" not in repr(VIEW_AUTOMATION)


def test_the_catalog_automation_sensor_runs_by_default_and_targets_the_catalog(defs) -> None:
    sensor = defs.resolve_sensor_def(CATALOG_AUTOMATION_SENSOR)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    graph = defs.resolve_asset_graph()
    catalog = {k for k in graph.get_all_asset_keys() if graph.get(k).group_name == "catalog"}
    assert sensor.asset_selection.resolve(graph) == catalog
