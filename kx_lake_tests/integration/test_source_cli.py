"""`kx-lake source ...` through typer's CliRunner, against a temporary KX_LAKE_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kx_lake.cli import app
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.source import local_server
from kx_lake_tests.fixtures.ferretdb import settings_with_binary

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(tmp_path: Path, ferretdb_binary: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    settings = settings_with_binary(home, ferretdb_binary)
    for name in ("KX_LAKE_CONFIG_DIR", "KX_LAKE_ROOT", "KX_LAKE_ENV1_MONGODB_URI", "KX_LAKE_ENV2_MONGODB_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KX_LAKE_HOME", str(home))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["source", *args])

    yield invoke
    project = ProjectConfig.load(settings)
    for spec in project.active_environments:
        local_server.down(project, spec.name)


def test_up_status_uri_down(cli) -> None:
    result = cli("up", "--env", "env1")
    assert result.exit_code == 0, result.output
    assert "env1: running at mongodb://127.0.0.1:" in result.output and "env2" not in result.output

    result = cli("uri", "--env", "env1")
    assert result.exit_code == 0
    uri = result.stdout.strip()
    assert uri.startswith("mongodb://127.0.0.1:") and "\n" not in uri
    assert uri in cli("up", "--env", "env1").output  # idempotent: same server

    result = cli("status")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    env1 = next(line for line in lines if "env1" in line)
    env2 = next(line for line in lines if "env2" in line)
    assert "yes" in env1 and uri in env1 and "no" in env2

    assert "env1: stopped" in cli("down", "--env", "env1").output
    assert "env1: was not running" in cli("down").output
    result = cli("uri", "--env", "env1")
    assert result.exit_code == 1 and "kx-lake source up --env env1" in result.stderr


def test_status_names_an_overriding_variable_without_showing_it(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KX_LAKE_ENV2_MONGODB_URI", "mongodb://etl:hunter2@db.example.net/")
    result = cli("status")
    assert result.exit_code == 0
    assert "KX_LAKE_ENV2_MONGODB_URI is set" in result.stdout
    assert "hunter2" not in result.output and "db.example.net" not in result.output


def test_up_and_down_default_to_all_active_envs(cli) -> None:
    result = cli("up")
    assert result.exit_code == 0, result.output
    assert "env1: running" in result.output and "env2: running" in result.output and "env3" not in result.output
    result = cli("down")
    assert "env1: stopped" in result.output and "env2: stopped" in result.output


def test_build_prints_the_cached_binary(cli, ferretdb_binary: Path) -> None:
    result = cli("build")
    assert result.exit_code == 0 and result.stdout.strip().endswith(ferretdb_binary.name)
    assert "building" not in result.stdout


@pytest.mark.parametrize("env", ["nope", "env3"])
@pytest.mark.parametrize("command", ["up", "down", "uri"])
def test_unknown_or_inactive_env_is_refused(cli, command: str, env: str) -> None:
    result = cli(command, "--env", env)
    assert result.exit_code == 2
    assert "env1, env2" in result.stderr and repr(env) in result.stderr
