"""Test wiring: each real local service has its own fixture module under fixtures/; the repository's
own configuration and definitions are shared fixtures here (loaded once, never from the caller's
environment)."""

import shutil
from pathlib import Path

import dagster as dg
import pytest

from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR

pytest_plugins = [
    "kx_lake_tests.fixtures.ferretdb",
    "kx_lake_tests.fixtures.seaweedfs",
    "kx_lake_tests.fixtures.moto_server",
    "kx_lake_tests.fixtures.trino_server",
    "kx_lake_tests.fixtures.spark_session",
    "kx_lake_tests.integration.corpus_run",  # the bad-input corpus's scratch lake (`corpus`)
]


@pytest.fixture(scope="session")
def repo_project() -> ProjectConfig:
    """assets_config/ as committed, with no KX_LAKE_* variable of the caller's shell applied."""
    return ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ={}))


@pytest.fixture
def repo_project_in(tmp_path: Path) -> ProjectConfig:
    """assets_config/ as committed, its state (KX_LAKE_HOME: catalogs, servers, default lake) in tmp_path."""
    return ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ={"KX_LAKE_HOME": str(tmp_path)}))


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of assets_config/ in tmp_path/cfg, for a test to edit."""
    target = tmp_path / "cfg"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


@pytest.fixture(scope="session")
def repo_defs() -> dg.Definitions:
    """The code location's definitions, built from assets_config/ (as `dg dev` would load them)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KX_LAKE_CONFIG_DIR", str(DEFAULT_CONFIG_DIR))
        from kx_lake.definitions import defs as build

        return build()
