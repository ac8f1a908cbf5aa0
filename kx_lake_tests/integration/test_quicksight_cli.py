"""`kx-lake dashboards deploy|refresh` run the `deploy_quicksight` job, against moto's QuickSight server.

The CLI goes through Dagster (the run is in the instance) to the same client the job builds; the
only seam is `make_client`, wrapped to use moto's session and to attach MotoGaps (the operations
moto lacks, answered from its own backend state — see test_quicksight_moto) with fast polling.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
from moto.quicksight.models import quicksight_backends
from typer.testing import CliRunner

from kx_lake.cli import app
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.dashboards import quicksight_deploy
from kx_lake_tests.fixtures.moto_server import MotoServer
from kx_lake_tests.integration.test_quicksight_moto import MotoGaps

pytestmark = pytest.mark.integration


@pytest.fixture
def cli_env(moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    cfg = tmp_path / "cfg"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg)
    qs_yaml = cfg / "quicksight.yaml"
    qs_yaml.write_text(qs_yaml.read_text().replace("111111111111", moto_server.account_id))
    for key, value in {**moto_server.env(), "KX_LAKE_CONFIG_DIR": str(cfg), "KX_LAKE_HOME": str(tmp_path / "home"),
                       "DAGSTER_HOME": str(tmp_path / "dagster")}.items():
        monkeypatch.setenv(key, value)
    seen: dict = {"ingestion_outcome": {}}  # DataSetId → final Ingestion fields (default: COMPLETED)
    real = quicksight_deploy.make_client

    def make_client(target, *, endpoint_url=None, **_):  # noqa: ANN001, ANN202
        assert endpoint_url == moto_server.endpoint_url  # --endpoint-url reached the job's resource
        qs = real(target, endpoint_url=endpoint_url, session=moto_server.session(), sleep=lambda s: None,
                  poll_initial_s=0.01)
        seen["gaps"] = MotoGaps(moto_server, qs.client)
        seen["gaps"].ingestion_outcome = seen["ingestion_outcome"]
        return qs

    monkeypatch.setattr(quicksight_deploy, "make_client", make_client)
    return seen


def test_dashboards_deploy_then_refresh_run_the_job(moto_server: MotoServer, cli_env: dict, tmp_path: Path) -> None:
    runner = CliRunner()
    backend = quicksight_backends[moto_server.account_id][moto_server.region]
    args = ["--env", "env1", "--endpoint-url", moto_server.endpoint_url]
    result = runner.invoke(app, ["dashboards", "deploy", *args])
    assert result.exit_code == 0, result.output
    datasets = sorted(p.stem for p in (Path(DEFAULT_CONFIG_DIR).parent / "sql" / "datasets").glob("*.sql"))
    assert f"data_set      {len(datasets)} " in result.output  # created on the first deploy, updated after
    assert "dashboard" in result.output and "QuickSight deployed to account" in result.output
    assert {f"kx-env1-{n}" for n in datasets} <= set(backend.data_sets)
    assert f"kx-env1-{datasets[0]}" in set(backend.data_sets) and "kx-env1-rls-tenants" in backend.data_sets
    gaps = cli_env["gaps"]
    assert gaps.operations()["CreateIngestion"] == len(datasets)  # SPICE refreshed by the data-set step

    with dg.DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:  # the run is recorded
        [run] = instance.get_runs()
        assert run.job_name == "deploy_quicksight" and run.tags["kx_lake/env"] == "env1"

    result = runner.invoke(app, ["dashboards", "refresh", *args])
    assert result.exit_code == 0, result.output
    assert "fin_revenue_daily" in result.output and "COMPLETED 10 rows" in result.output
    gaps = cli_env["gaps"]
    assert gaps.operations()["CreateIngestion"] == len(datasets)
    assert not {"CreateDashboard", "UpdateDashboard", "CreateDataSource", "UpdateDataSource"} & set(gaps.operations())


def test_refresh_names_a_failed_ingestion_and_exits_1(moto_server: MotoServer, cli_env: dict) -> None:
    cli_env["ingestion_outcome"]["kx-env1-ops_bed_occupancy"] = {
        "IngestionStatus": "FAILED", "ErrorInfo": {"Type": "SQL_EXCEPTION", "Message": "COLUMN_NOT_FOUND: x"}}
    result = CliRunner().invoke(app, ["dashboards", "refresh", "--env", "env1", "--endpoint-url",
                                      moto_server.endpoint_url])
    assert result.exit_code == 1, result.output
    assert "ops_bed_occupancy" in result.output and "FAILED" in result.output and "COLUMN_NOT_FOUND: x" in result.output
    assert "ingestion(s) failed: ops_bed_occupancy" in result.output


def test_unknown_environment_exits_2_before_any_aws_call(moto_server: MotoServer, cli_env: dict) -> None:
    result = CliRunner().invoke(app, ["dashboards", "deploy", "--env", "env9", "--endpoint-url",
                                      moto_server.endpoint_url])
    assert result.exit_code == 2 and "env9" in result.output
    assert "gaps" not in cli_env  # no client was made
