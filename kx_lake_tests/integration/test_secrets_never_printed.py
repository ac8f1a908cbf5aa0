"""A step that fails with secrets in its message — a MongoDB URI with its password and an AWS secret key,
as a driver or boto would echo them — while publishing a collection (the IO manager) and while
refreshing the catalog: neither the Dagster instance's event log (every event of every run, errors
with their chains and metadata) nor anything the CLI prints (stdout, stderr, `--json`) holds them.

The failures are injected in process (the CLI runs the job in process): the state write of the
collection, the DuckDB backend's table step and the opening of the source client raise. The
scrubbed form of the URI must appear, so the error really travelled where the secret was looked for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from kx_lake.cli import app
from kx_lake.lib.catalog.backend import DuckDbBackend
from kx_lake.lib.lake.state import CollectionState
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

pytestmark = pytest.mark.integration

URI_PASSWORD = "S3cretPw"
URI = f"mongodb://user:{URI_PASSWORD}@host:27017/hims?authSource=admin"
AWS_SECRET = "kxLakeTestSecretKey/DoNotPrint+0123456789"
LEAK = f"storage refused: connected with {URI}, aws_secret_access_key {AWS_SECRET}"
SECRETS = (URI_PASSWORD, URI, AWS_SECRET)
ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
s_bills,hims_billing,updated_at,date,facility_id,true
"""


@pytest.fixture
def lake(request, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    coll = local_source.client("env1").hims_billing.s_bills
    coll.drop()
    coll.insert_many([{"_id": f"B{i}", "facility_id": "F1", "updated_at": datetime(2026, 1, 2, 6, i, tzinfo=UTC)}
                      for i in range(3)])
    yield tmp_path
    coll.drop()


def leaky(*_args, **_kwargs):
    raise OSError(LEAK)


def event_log_text(dagster_home: Path) -> str:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs()
        assert runs, "no run was recorded"
        return "\n".join(repr(e) for r in runs for e in instance.all_logs(r.run_id))


def assert_no_secret(*texts: str) -> None:
    everything = "\n".join(texts)
    assert "mongodb://user:***@host" in everything  # the injected error got this far, scrubbed
    for secret in SECRETS:
        assert secret not in everything


def test_a_publishing_error_with_secrets_is_scrubbed_in_the_event_log_and_the_cli(
        lake: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(CollectionState, "write", leaky)
    result = CliRunner().invoke(app, ["sync", "--env", "env1", "--dates", "2026-01-01..2026-01-03",
                                      "--log-level", "DEBUG"])
    json_result = CliRunner().invoke(app, ["sync", "--env", "env1", "--dates", "2026-01-01..2026-01-03", "--json"])
    captured = capfd.readouterr()
    assert result.exit_code == 1 and json_result.exit_code == 1, result.output
    assert "OSError: storage refused" in result.output
    assert_no_secret(result.output, json_result.output, captured.out, captured.err, event_log_text(lake / "dagster"))


def test_a_catalog_error_with_secrets_is_scrubbed_in_the_event_log_and_refresh_json(
        lake: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    synced = CliRunner().invoke(app, ["sync", "--env", "env1", "--dates", "2026-01-01..2026-01-03"])
    assert synced.exit_code == 0, synced.output
    monkeypatch.setattr(DuckDbBackend, "sync_tables", leaky)
    result = CliRunner().invoke(app, ["catalog", "refresh", "--env", "env1", "--json", "--log-level", "DEBUG"])
    captured = capfd.readouterr()
    assert result.exit_code == 1, result.output
    assert '"success": false' in result.output and "storage refused" in result.output
    assert_no_secret(result.output, captured.out, captured.err, event_log_text(lake / "dagster"))


def test_an_error_elsewhere_in_the_extract_step_is_scrubbed(lake: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capfd: pytest.CaptureFixture[str]) -> None:
    """Opening the source client fails (a driver echoing its URI): outside any collection's staging."""
    from kx_lake.builders.resources import MongoSourceResource

    monkeypatch.setattr(MongoSourceResource, "client", leaky)
    result = CliRunner().invoke(app, ["sync", "--env", "env1", "--dates", "2026-01-01..2026-01-03",
                                      "--log-level", "DEBUG"])
    captured = capfd.readouterr()
    assert result.exit_code == 1, result.output
    assert_no_secret(result.output, captured.out, captured.err, event_log_text(lake / "dagster"))
