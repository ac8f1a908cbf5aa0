"""The code location loads from config alone (no network), with one asset per collection."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from kx_lake.builders.partitions import partition_key, partition_scope, range_tags
from kx_lake.lib.config import ProjectConfig


@pytest.fixture(scope="module")
def defs(repo_defs: dg.Definitions) -> dg.Definitions:
    return repo_defs


def test_one_asset_per_collection_keyed_by_database(defs: dg.Definitions, repo_project: ProjectConfig) -> None:
    cfg = repo_project
    graph = defs.resolve_asset_graph()
    keys = {k for k in graph.get_all_asset_keys() if graph.get(k).group_name not in ("catalog", "quicksight")}
    assert keys == {dg.AssetKey([c.database, c.collection]) for c in cfg.enabled_collections}
    assert len(keys) == 102
    node = graph.get(dg.AssetKey(["hims_billing", "bills"]))
    assert node.group_name == "hims_billing"
    assert node.backfill_policy == dg.BackfillPolicy.single_run()
    pdef = node.partitions_def
    assert isinstance(pdef, dg.MultiPartitionsDefinition)
    assert {d.name for d in pdef.partitions_defs} == {"date", "env"}
    env_dim = next(d for d in pdef.partitions_defs if d.name == "env").partitions_def
    assert env_dim.get_partition_keys() == ["env1", "env2"]  # env3 is inactive
    assert set(defs.resolve_job_def("sync_collections").asset_layer.selected_asset_keys) == keys


def test_catalog_assets_sit_downstream_of_the_collections(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    latest = graph.get(dg.AssetKey(["hims_billing", "bills_latest"]))
    assert latest.group_name == "catalog" and latest.parent_keys == {dg.AssetKey(["hims_billing", "bills"])}
    assert latest.partitions_def is None  # a view spans every partition
    dim = graph.get(dg.AssetKey(["hims_masters", "dim_facility"]))
    assert dim.parent_keys == {
        dg.AssetKey(["hims_masters", "facilities_latest"]),
        dg.AssetKey(["hims_patient", "encounters_latest"]),
        dg.AssetKey(["hims_billing", "bills_latest"]),
    }
    catalog = {k for k in graph.get_all_asset_keys() if graph.get(k).group_name == "catalog"}
    assert set(defs.resolve_job_def("refresh_catalog").asset_layer.selected_asset_keys) == catalog


def test_partition_scope_groups_dates_by_environment() -> None:
    keys = ["2026-01-02|env1", "2026-01-01|env1", "2026-01-01|env2", partition_key("env2", date(2026, 1, 3))]
    assert partition_scope(keys) == {
        "env1": [date(2026, 1, 1), date(2026, 1, 2)],
        "env2": [date(2026, 1, 1), date(2026, 1, 3)],
    }
    assert range_tags("env1", date(2026, 1, 1), date(2026, 1, 31)) == {
        "dagster/asset_partition_range_start": "2026-01-01|env1",
        "dagster/asset_partition_range_end": "2026-01-31|env1",
        "kx_lake/env": "env1",
    }


def test_backfill_over_a_range_is_one_run_per_environment(repo_project: ProjectConfig) -> None:
    """Dagster turns a multi-partition backfill subset into one key range per environment."""
    cfg = repo_project
    from kx_lake.builders.partitions import env_date_partitions

    pdef = env_date_partitions(cfg)
    keys = [partition_key(env, date(2026, 1, d)) for env in ("env1", "env2") for d in range(1, 11)]
    subset = pdef.subset_with_partition_keys(keys)
    ranges = subset.get_partition_key_ranges(pdef)
    assert sorted((r.start, r.end) for r in ranges) == [
        ("2026-01-01|env1", "2026-01-10|env1"),
        ("2026-01-01|env2", "2026-01-10|env2"),
    ]


def test_nothing_loads_a_collection_asset_as_an_input(defs: dg.Definitions) -> None:
    """The lake IO manager only writes: its load_input refuses, and no asset takes a collection as an input."""
    from kx_lake.builders.lake_io_manager import LakeParquetIOManager
    from kx_lake.builders.resources import ProjectResource

    loaded = []  # `deps` are inputs of type Nothing: nothing is loaded for them
    for assets_def in defs.assets or []:
        for name, key in assets_def.keys_by_input_name.items():
            if not assets_def.node_def.input_def_named(name).dagster_type.is_nothing:
                loaded.append((assets_def.node_def.name, key))
    assert loaded == []
    context = dg.build_input_context(asset_key=dg.AssetKey(["hims_billing", "bills"]))
    with pytest.raises(dg.DagsterInvariantViolationError, match="hims_billing/bills: collection assets are not loaded"):
        LakeParquetIOManager(kx_project=ProjectResource()).load_input(context)


def test_every_resource_nests_the_one_project_resource(defs: dg.Definitions, tmp_path) -> None:
    """Only `kx_project` says where the configuration is; the others nest that very instance, so
    pointing it elsewhere moves them all (resource keys unchanged)."""
    import shutil

    from kx_lake.builders.notify_resources import NotifierResource
    from kx_lake.builders.resources import ProjectResource
    from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR

    resources = defs.resources or {}
    assert set(resources) == {"kx_project", "mongo", "kx_catalog", "lake_io_manager", "notifier", "quicksight",
                              "kx_spark"}
    project = resources["kx_project"]
    for key, resource in resources.items():
        fields = type(resource).model_fields
        if key == "kx_project":
            assert "config_dir" in fields
            continue
        assert "config_dir" not in fields, key
        assert resource.kx_project is project, key

    cfg = tmp_path / "cfg"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg)
    (cfg / "operations.yaml").write_text("email: {sender: elsewhere@kx.example}\n")
    notifier = NotifierResource(kx_project=ProjectResource(config_dir=str(cfg)))
    assert notifier.operations.email.sender == "elsewhere@kx.example"
