"""The launch side of the Spark engine without services: config, the Pipes request, the cluster pins."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.config.environments import SparkSettings
from kx_lake.lib.spark_launch.config import GlueLaunch
from kx_lake.lib.spark_launch.requirements import CLUSTER_PACKAGES, PROVIDED, cluster_requirements
from kx_lake.lib.spark_launch.request import BadSyncRequest, SyncRequest

GLUE = {"job_name": "kx-lake-env1", "role_arn": "arn:aws:iam::123456789012:role/glue",
        "artifacts": "s3://kx-artifacts/kx-lake/env1"}


def test_a_remote_launcher_needs_its_block_and_valid_fields() -> None:
    with pytest.raises(ValidationError, match="launcher 'glue' needs its 'glue:' block"):
        SparkSettings(launcher="glue")
    with pytest.raises(ValidationError, match="artifacts"):
        SparkSettings(launcher="glue", glue={**GLUE, "artifacts": "/local/path"})
    with pytest.raises(ValidationError, match="glue_version"):
        GlueLaunch(**GLUE, glue_version="4.0")
    launch = SparkSettings(launcher="glue", glue=GLUE).glue
    assert launch.script_uri == "s3://kx-artifacts/kx-lake/env1/spark_job.py"
    assert (launch.bucket, launch.pipes_prefix) == ("kx-artifacts", "kx-lake/env1/pipes")


def test_the_sync_request_survives_pipes_json_and_loads_the_same_config(repo_project: ProjectConfig,
                                                                        tmp_path: Path) -> None:
    specs = [repo_project.collection("bills"), repo_project.collection("vitals")]
    request = SyncRequest.build(repo_project, "env1", specs, [date(2026, 6, 3), date(2026, 6, 1)])
    back = SyncRequest.from_extras(json.loads(json.dumps(request.to_extras())))
    assert back == request and back.dates == [date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3)]
    assert back.home is None and back.secrets_prefix is None
    project = back.project(tmp_path)
    assert [s.collection for s in back.specs(project)] == ["bills", "vitals"]
    assert project.lake_root(project.environment("env1")) == repo_project.lake_root(repo_project.environment("env1"))
    assert "mongodb://" not in json.dumps(request.to_extras())


@pytest.mark.parametrize(("extras", "message"), [
    ({}, "no 'kx_lake_sync'"),
    ({"kx_lake_sync": {"env": "env1"}}, "lacks"),
    ({"kx_lake_sync": {"env": "env1", "collections": [], "first": "2026-06-02", "last": "2026-06-01",
                       "config": {"environments.yaml": "", "collections.csv": ""}, "lake_root": "x"}}, "before first"),
])
def test_a_bad_request_is_refused_naming_the_field(extras: dict, message: str) -> None:
    with pytest.raises(BadSyncRequest, match=message):
        SyncRequest.from_extras(extras)


def test_the_cluster_pins_cover_everything_the_job_imports() -> None:
    """A fresh interpreter imports the job script, the engine core (driver and tasks), the storage
    layer's S3 filesystem, boto3 (Pipes over S3) and pandas (mapInArrow): every distribution behind
    those modules is pinned for the cluster, or is the cluster's own Spark."""
    code = (
        "import json, sys\n"
        "import kx_lake.spark_job, kx_lake.lib.spark, kx_lake.lib.spark.tasks, s3fs, boto3, pandas\n"
        "from kx_lake.lib.storage import LakeStorage\n"
        "from importlib.metadata import packages_distributions\n"
        "pd = packages_distributions()\n"
        "print(json.dumps(sorted({d.lower().replace('_', '-') for m in list(sys.modules)"
        " for d in pd.get(m.split('.')[0], [])})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = set(json.loads(done.stdout.splitlines()[-1])) - {"kx-lake"}
    assert imported - set(CLUSTER_PACKAGES) - PROVIDED == set()
    pins = cluster_requirements()
    assert len(pins) == len(CLUSTER_PACKAGES) and all("==" in p for p in pins)
    assert not PROVIDED & {p.split("==")[0] for p in pins}


def test_glue_job_dry_run_prints_the_request_and_refuses_an_env_without_a_block(tmp_path: Path) -> None:
    import shutil

    import yaml
    from typer.testing import CliRunner

    from kx_lake.cli import app
    from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR

    cfg = tmp_path / "cfg"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg)
    doc = yaml.safe_load((cfg / "environments.yaml").read_text())
    doc["environments"]["env1"]["spark"] = {"launcher": "glue", "glue": GLUE}
    (cfg / "environments.yaml").write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(app, ["--config-dir", str(cfg), "spark", "glue-job", "--env", "env1", "--dry-run"])
    assert result.exit_code == 0, result.output
    request = json.loads(result.stdout)
    assert request["Name"] == "kx-lake-env1" and request["GlueVersion"] == "5.0"
    assert request["Command"]["ScriptLocation"] == "s3://kx-artifacts/kx-lake/env1/spark_job.py"
    result = CliRunner().invoke(app, ["--config-dir", str(cfg), "spark", "glue-job", "--env", "env2", "--dry-run"])
    assert result.exit_code == 2 and "env2" in result.output and "spark.glue" in result.output


def test_the_job_script_refuses_to_run_without_dagster_pipes() -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_PIPES")}
    done = subprocess.run([sys.executable, "-m", "kx_lake.spark_job"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and "launched by Dagster Pipes" in done.stderr
