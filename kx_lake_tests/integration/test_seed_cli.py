"""`kx-lake seed` through typer's CliRunner against the local source: seed, then --mutate, and the
refusals (unknown and inactive environments) with exit code 2."""

from __future__ import annotations

import pytest
from kx_lake.cli import app
from typer.testing import CliRunner

pytestmark = pytest.mark.integration
ENV = "env2"


@pytest.fixture
def cli(local_source, monkeypatch):
    monkeypatch.setenv(local_source.project.environment(ENV).mongodb_uri_secret, local_source.uri(ENV))
    runner = CliRunner()
    base = ["--config-dir", str(local_source.settings.config_dir)]
    return lambda *args: runner.invoke(app, [*base, *args])


def test_seed_then_mutate(cli, local_source):
    result = cli("seed", "--env", ENV, "--scale", "0.002", "--as-of", "2026-03-01")
    assert result.exit_code == 0, result.output
    assert "patients" in result.output and "documents inserted" in result.output
    client = local_source.client(ENV)
    assert client.hims_patient.patients.find_one({}) is not None
    result = cli("seed", "--env", ENV, "--mutate", "--days", "2")
    assert result.exit_code == 0, result.output
    assert "updated" in result.output
    assert client.kx_synth_meta.runs.find_one({"_id": ENV})["as_of"] == "2026-03-03"


@pytest.mark.parametrize("env, message", [("nope", "unknown environment"), ("env3", "inactive")])
def test_refuses_unknown_and_inactive_environments(cli, env, message):
    result = cli("seed", "--env", env)
    assert result.exit_code == 2
    assert message in result.output
