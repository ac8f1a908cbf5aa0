"""What the collection assets do with a collection a Spark job already published (builders/spark_remote.py):
the IO manager records it and publishes nothing; metadata of several environments combines per collection."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from kx_lake.builders.lake_io_manager import LakeParquetIOManager
from kx_lake.builders.lake_metadata import combined
from kx_lake.builders.resources import ProjectResource
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.spark_launch.request import PublishedRemotely


def test_metadata_of_two_environments_combines_counts_dates_and_labels() -> None:
    env1 = {"env": "env1", "rows": 10, "bytes": 100, "first_date": "2026-01-02", "last_date": "2026-01-05",
            "schema_version": 2, "lag_hours": 3.5, "extract_duration_s": 1.25, "engine": "spark", "coverage_gap": ""}
    env2 = {"env": "env2", "rows": 5, "bytes": 40, "first_date": "2026-01-01", "last_date": "2026-01-04",
            "schema_version": 3, "lag_hours": -1.0, "extract_duration_s": 0.5, "engine": "spark", "coverage_gap": ""}
    assert combined([env1, env2]) == {
        "env": "env1, env2", "rows": 15, "bytes": 140, "first_date": "2026-01-01", "last_date": "2026-01-05",
        "schema_version": 3, "lag_hours": 3.5, "extract_duration_s": 1.75, "engine": "spark", "coverage_gap": ""}
    assert combined([env1]) == env1


def test_the_io_manager_publishes_nothing_for_a_collection_the_job_published(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KX_LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("KX_LAKE_HOME", str(tmp_path / "home"))
    done = PublishedRemotely("env1", "hims_billing", "bills", "submit", {"rows": 3, "files": 1})
    manager = LakeParquetIOManager(kx_project=ProjectResource(config_dir=str(DEFAULT_CONFIG_DIR)))
    context = dg.build_output_context(asset_key=dg.AssetKey(["hims_billing", "bills"]))
    manager.handle_output(context, [done])
    assert not (tmp_path / "lake").exists()  # nothing written: files, rejects and state are the job's
    assert context.get_logged_metadata() == {}  # the step already carries the job's metadata
