"""`kx-lake dashboards serve --background` / `stop`: a detached site that answers, is found again
instead of started twice, and stops (what `make demo` relies on to end with a working URL)."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from kx_lake.lib.catalog import duckdb_catalog
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.dashboards import site_process
from kx_lake.lib.process_lifecycle import free_port

pytestmark = pytest.mark.integration


def test_background_site_starts_once_answers_and_stops(tmp_path: Path) -> None:
    project = ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ={"KX_LAKE_HOME": str(tmp_path)}))
    duckdb_catalog.connect(project, "env1", read_only=False).close()  # an (empty) catalog exists
    port = free_port()
    site = site_process.start(project, "env1", host="127.0.0.1", port=port)
    try:
        assert site.url == f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{site.url}/healthz", timeout=5) as resp:
            assert resp.status == 200
        assert site_process.start(project, "env1", host="127.0.0.1", port=port) == site  # not started twice
        assert site_process.running(project, "env1") == site
    finally:
        assert site_process.stop(project, "env1")
    assert site_process.running(project, "env1") is None
    assert not site_process.stop(project, "env1")
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{site.url}/healthz", timeout=2)


def test_a_site_that_cannot_start_names_the_env_and_log(tmp_path: Path) -> None:
    project = ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ={"KX_LAKE_HOME": str(tmp_path)}))
    # no catalog: the serve command refuses, the child exits, the error carries its log
    with pytest.raises(site_process.SiteProcessError, match=r"(?s)env1: the dashboard site exited .*no DuckDB catalog"):
        site_process.start(project, "env1", host="127.0.0.1", port=free_port(), timeout=30)
