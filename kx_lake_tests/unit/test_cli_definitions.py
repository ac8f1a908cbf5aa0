"""The CLI hands its --config-dir to the definitions explicitly: os.environ is left as it was."""

import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from kx_lake.cli.sync_cmd import dagster_instance, load_definitions
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR

ONE_COLLECTION = "collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled\n" \
                 "t_bills,hims_billing,updated_at,date,facility_id,true\n"


def test_definitions_follow_the_config_dir_without_touching_the_environment(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    cfg_dir = tmp_path / "cfg"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg_dir)
    (cfg_dir / "collections.csv").write_text(ONE_COLLECTION)
    monkeypatch.delenv("KX_LAKE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    for name in ("DAGSTER_EVENT_BATCH_SIZE", "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"):
        monkeypatch.setenv(name, "1000" if name == "DAGSTER_EVENT_BATCH_SIZE" else "true")  # Dagster reads these itself
    before = dict(os.environ)
    cfg = ProjectConfig.load(Settings.resolve(cfg_dir, environ={"KX_LAKE_HOME": str(tmp_path / "home")}))

    defs = load_definitions(cfg)
    job = defs.resolve_job_def("sync_collections")
    assert set(job.asset_layer.selected_asset_keys) == {dg.AssetKey(["hims_billing", "t_bills"])}
    project = defs.resources["kx_project"]
    assert project.config_dir == str(cfg_dir) and defs.resources["mongo"].kx_project is project
    with dagster_instance(cfg) as instance:
        assert Path(instance.root_directory) == tmp_path / "home" / "dagster"

    changed = {k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k)}
    assert changed == set()
