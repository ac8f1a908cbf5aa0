"""The local FerretDB source for real: lifecycle, stale state, isolation, URI resolution, build cache."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pymongo
import pytest

from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.source import ferretdb_build, local_server
from kx_lake.lib.source.local_server import LocalServerError
from kx_lake.lib.source.uri import resolve_mongo_uri
from kx_lake_tests.fixtures.ferretdb import LocalSource, settings_with_binary

pytestmark = pytest.mark.integration


@pytest.fixture
def own_project(tmp_path: Path, ferretdb_binary: Path) -> ProjectConfig:
    """A private state home, so lifecycle tests never disturb the shared session servers."""
    project = ProjectConfig.load(settings_with_binary(tmp_path / "home", ferretdb_binary))
    yield project
    for spec in project.active_environments:
        local_server.down(project, spec.name)


def test_build_is_cached(ferretdb_binary: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mtime = ferretdb_binary.stat().st_mtime_ns

    def no_go(*args: object, **kwargs: object) -> None:
        raise AssertionError("go must not run when the binary is cached")

    monkeypatch.setattr(ferretdb_build.subprocess, "run", no_go)
    again = ferretdb_build.ensure_binary(Settings.resolve(DEFAULT_CONFIG_DIR, environ={}))
    assert again == ferretdb_binary and again.stat().st_mtime_ns == mtime


def test_up_down_idempotent(own_project: ProjectConfig) -> None:
    first = local_server.up(own_project, "env1")  # binary found via the symlinked cache: no build
    again = local_server.up(own_project, "env1")
    assert again == first
    state = json.loads((own_project.settings.home / "source" / "env1" / "server.json").read_text())
    assert {"pid", "port", "started_at", "binary"} <= set(state) and state["pid"] == first.pid
    assert local_server.uri(own_project, "env1") == f"mongodb://127.0.0.1:{first.port}/"

    assert local_server.down(own_project, "env1") is True
    assert local_server.down(own_project, "env1") is False
    assert not (own_project.settings.home / "source" / "env1" / "server.json").exists()
    with pytest.raises(pymongo.errors.ServerSelectionTimeoutError):
        pymongo.MongoClient(first.uri, serverSelectionTimeoutMS=300).admin.command("ping")
    with pytest.raises(LocalServerError, match=r"'env1' is not running.*kx-lake source up --env env1"):
        local_server.uri(own_project, "env1")


def test_data_survives_restart(own_project: ProjectConfig) -> None:
    info = local_server.up(own_project, "env2")
    with pymongo.MongoClient(info.uri) as client:
        client.kx_test.restart.insert_one({"_id": 1, "v": "kept"})
    local_server.down(own_project, "env2")
    info = local_server.up(own_project, "env2")
    with pymongo.MongoClient(info.uri) as client:
        assert client.kx_test.restart.find_one({"_id": 1}) == {"_id": 1, "v": "kept"}


def test_status(own_project: ProjectConfig) -> None:
    local_server.up(own_project, "env1")
    rows = {row.env: row for row in local_server.status(own_project)}
    assert set(rows) == {"env1", "env2"}  # active environments only
    assert rows["env1"].running and rows["env1"].uri and rows["env1"].info is not None
    assert rows["env1"].data_dir == own_project.settings.home / "source" / "env1" / "data"
    assert not rows["env2"].running and rows["env2"].uri is None


def test_stale_state_is_cleaned_up(own_project: ProjectConfig) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    state = own_project.settings.home / "source" / "env1" / "server.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"pid": dead.pid, "port": 1, "started_at": "x", "binary": "x"}))
    assert local_server.running(own_project, "env1") is None
    assert not state.exists()

    state.write_text(json.dumps({"pid": os.getpid(), "port": 1, "started_at": "x", "binary": "x"}))
    assert local_server.running(own_project, "env1") is None  # a live pid that is not our server
    state.write_text("{not json")
    info = local_server.up(own_project, "env1")
    assert info.pid != os.getpid() and local_server.running(own_project, "env1") == info


@pytest.mark.parametrize("tied", [False, True])
def test_server_outlives_its_starter_unless_tied(own_project: ProjectConfig, tied: bool) -> None:
    """`kx-lake source up` exits right away; the server it started must keep running (unless tied)."""
    code = (
        "import sys; from kx_lake.lib.config import ProjectConfig, Settings;"
        "from kx_lake.lib.source import local_server as ls;"
        "p = ProjectConfig.load(Settings.resolve(sys.argv[1], environ={'KX_LAKE_HOME': sys.argv[2]}));"
        "print(ls.up(p, 'env1', exit_with_parent=sys.argv[3] == 'tied').pid)"
    )
    home = own_project.settings.home
    out = subprocess.run(
        [sys.executable, "-c", code, str(DEFAULT_CONFIG_DIR), str(home), "tied" if tied else "free"],
        capture_output=True, text=True, check=True, timeout=60, cwd=Path(__file__).resolve().parents[2],
    )
    pid = int(out.stdout.strip())
    deadline = time.monotonic() + 5
    while tied and local_server.running(own_project, "env1") is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    if tied:
        assert local_server.running(own_project, "env1") is None
    else:
        time.sleep(0.7)  # longer than the parent watch interval
        info = local_server.running(own_project, "env1")
        assert info is not None and info.pid == pid
        assert local_server.down(own_project, "env1") is True


def test_port_lost_to_a_race_is_retried(own_project: ProjectConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = [taken.getsockname()[1]]
        real_free_port = local_server._free_port
        monkeypatch.setattr(local_server, "_free_port", lambda: ports.pop() if ports else real_free_port())
        info = local_server.up(own_project, "env1")
        assert info.port != taken.getsockname()[1] and not ports
    assert "address already in use" in local_server.log_tail(own_project, "env1")


def test_envs_are_isolated(local_source: LocalSource) -> None:
    env1, env2 = local_source.client("env1"), local_source.client("env2")
    assert local_source.uri("env1") != local_source.uri("env2")
    coll1, coll2 = env1.kx_test_isolation.docs, env2.kx_test_isolation.docs
    try:
        coll1.insert_one({"_id": "only-in-env1"})
        assert coll1.count_documents({"_id": "only-in-env1"}) == 1
        assert coll2.count_documents({"_id": "only-in-env1"}) == 0
    finally:
        env1.drop_database("kx_test_isolation")
        env2.drop_database("kx_test_isolation")


def test_local_uri_works_with_pymongo(local_source: LocalSource) -> None:
    uri = local_source.uri("env1")
    assert uri.startswith("mongodb://127.0.0.1:") and uri.endswith("/")
    with pymongo.MongoClient(uri, serverSelectionTimeoutMS=2000) as client:
        assert client.admin.command("ping")["ok"] == 1.0


def test_resolve_prefers_variable_then_local(local_source: LocalSource) -> None:
    project = local_source.project
    assert "KX_LAKE_ENV1_MONGODB_URI" not in os.environ  # the fixture hides real URIs
    assert resolve_mongo_uri(project, "env1") == local_source.uri("env1")
    assert resolve_mongo_uri(project, "env2", environ={}) == local_source.uri("env2")
    remote = "mongodb://etl:pw@db.example.net/"
    assert resolve_mongo_uri(project, "env1", environ={"KX_LAKE_ENV1_MONGODB_URI": remote}) == remote
