"""QuickSight calls that fail with secrets in their error text — a MongoDB URI with its password and an AWS
secret access key, as a data source's connection error or a misconfigured proxy would echo them — against
moto's QuickSight server, through `kx-lake dashboards refresh|deploy` (the `deploy_quicksight` job):
neither the process's log records, the Dagster instance's event log (every event of every run, metadata
included) nor anything the CLI prints holds them, and the scrubbed form shows the error got that far.

Three failures: a SPICE ingestion that ends FAILED with the secret in its ErrorInfo (DescribeIngestion),
a CreateIngestion refused with it (a ClientError), and the data source's CreateDataSource or
UpdateDataSource refused with it (the deploy step fails). The errors are answered by a botocore before-call handler on the real client; everything else is
moto's server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from botocore.awsrequest import AWSResponse
from typer.testing import CliRunner

from kx_lake.cli import app
from kx_lake.lib.dashboards import quicksight_deploy
from kx_lake_tests.fixtures.moto_server import MotoServer
from kx_lake_tests.integration.test_quicksight_cli import cli_env  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.integration

URI_PASSWORD = "S3cretPw"
URI = f"mongodb://user:{URI_PASSWORD}@host:27017/hims?authSource=admin"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documented example secret key shape
LEAK = f"connection to {URI} refused; signing with {AWS_SECRET}"
SECRETS = (URI_PASSWORD, URI, AWS_SECRET)


def refuse(monkeypatch: pytest.MonkeyPatch, *operations: str, data_set_id: str | None = None) -> None:
    """Every client the job makes answers each of `operations` (for `data_set_id`, or any) with a 400 carrying LEAK."""
    inner = quicksight_deploy.make_client

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["kx_refuse_params"] = dict(params)

    def answer(context: dict[str, Any], **_: Any) -> Any:
        if data_set_id is not None and context.get("kx_refuse_params", {}).get("DataSetId") != data_set_id:
            return None  # on to moto's server
        body = {"Error": {"Code": "InvalidParameterValueException", "Message": LEAK}}
        return AWSResponse("http://moto-refusal", 400, {}, None), body

    def make_client(target, **kwargs):  # noqa: ANN001, ANN202
        qs = inner(target, **kwargs)
        for operation in operations:
            qs.client.meta.events.register_first(f"before-parameter-build.quicksight.{operation}", remember)
            qs.client.meta.events.register_first(f"before-call.quicksight.{operation}", answer)
        return qs

    monkeypatch.setattr(quicksight_deploy, "make_client", make_client)


def said_everywhere(result, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, dagster_home: Path) -> str:
    captured = capfd.readouterr()
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs()
        assert runs, "no run was recorded"
        events = "\n".join(repr(e) for r in runs for e in instance.all_logs(r.run_id))
    return "\n".join([result.output, captured.out, captured.err, caplog.text, events])


def assert_no_secret(everything: str) -> None:
    assert "mongodb://user:***@host" in everything  # the injected error got this far, scrubbed
    for secret in SECRETS:
        assert secret not in everything


def test_failed_and_refused_ingestions_are_scrubbed(moto_server: MotoServer, cli_env: dict, tmp_path: Path,  # noqa: F811
                                                    monkeypatch: pytest.MonkeyPatch, capfd, caplog) -> None:
    cli_env["ingestion_outcome"]["kx-env1-ops_bed_occupancy"] = {
        "IngestionStatus": "FAILED", "ErrorInfo": {"Type": "DATA_SOURCE_CONNECTION_FAILED", "Message": LEAK}}
    refuse(monkeypatch, "CreateIngestion", data_set_id="kx-env1-fin_revenue_daily")
    with caplog.at_level("DEBUG"):
        result = CliRunner().invoke(app, ["dashboards", "refresh", "--env", "env1", "--endpoint-url",
                                          moto_server.endpoint_url])
    assert result.exit_code == 1, result.output
    assert "ops_bed_occupancy" in result.output and "fin_revenue_daily" in result.output
    assert "DATA_SOURCE_CONNECTION_FAILED: connection to mongodb://user:***@host" in result.output
    assert "NOT_STARTED" in result.output and "InvalidParameterValueException" in result.output
    assert_no_secret(said_everywhere(result, capfd, caplog, tmp_path / "dagster"))


def test_a_refused_deploy_call_is_scrubbed(moto_server: MotoServer, cli_env: dict, tmp_path: Path,  # noqa: F811
                                           monkeypatch: pytest.MonkeyPatch, capfd, caplog) -> None:
    # The moto server is the session's: an earlier test may have deployed already, so the data source is
    # then updated rather than created — refuse whichever call this deploy makes.
    refuse(monkeypatch, "CreateDataSource", "UpdateDataSource")
    with caplog.at_level("DEBUG"):
        result = CliRunner().invoke(app, ["dashboards", "deploy", "--env", "env1", "--endpoint-url",
                                          moto_server.endpoint_url])
    assert result.exit_code == 1, result.output
    assert "QuickSight deploy failed" in result.output and "InvalidParameterValueException" in result.output
    assert_no_secret(said_everywhere(result, capfd, caplog, tmp_path / "dagster"))
