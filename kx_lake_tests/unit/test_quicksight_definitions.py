"""The QuickSight Dagster definitions: own group, no automation, lineage from the dataset views."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from kx_lake.builders.resources import ProjectResource
from kx_lake.builders.quicksight_assets import (
    DASHBOARDS_KEY,
    QUICKSIGHT_GROUP,
    QuickSightResource,
    RLS_KEY,
    build_quicksight_assets,
    data_set_key,
    view_key,
)
from kx_lake.defs.quicksight import QUICKSIGHT_JOB, quicksight
from kx_lake_tests.fixtures.quicksight_samples import write_samples


def test_assets_are_downstream_of_views_grouped_and_only_data_sets_automatic(tmp_path: Path) -> None:
    sql_dir, _ = write_samples(tmp_path)
    defs = dg.Definitions(assets=build_quicksight_assets(sql_dir), resources={"quicksight": QuickSightResource(kx_project=ProjectResource())})
    graph = defs.resolve_asset_graph()
    names = ["fin_revenue_daily", "ops_bed_occupancy"]
    keys = {RLS_KEY, DASHBOARDS_KEY, *(data_set_key(n) for n in names)}
    assert {k for k in graph.get_all_asset_keys() if k.path[0] == "quicksight"} == keys
    for key in keys:
        node = graph.get(key)
        assert node.group_name == QUICKSIGHT_GROUP
        assert (node.automation_condition is None) == (key in (RLS_KEY, DASHBOARDS_KEY))
    for n in names:
        assert graph.get(data_set_key(n)).parent_keys == {view_key(n), RLS_KEY}
    assert graph.get(DASHBOARDS_KEY).parent_keys == {RLS_KEY, *(data_set_key(n) for n in names)}


def test_defs_module_declares_job_and_lazy_resource() -> None:
    defs = quicksight()
    selected = set(defs.resolve_job_def(QUICKSIGHT_JOB).asset_layer.selected_asset_keys)
    assert selected == {k for a in defs.assets for k in a.keys} and all(k.path[0] == "quicksight" for k in selected)
    assert "quicksight" in (defs.resources or {})
