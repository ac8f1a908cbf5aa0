"""`kx-lake sync` killed with SIGKILL at several points, then run again, on the real FerretDB.

The CLI runs as a real subprocess; `KX_LAKE_KILL_AT` (lib/faults.py) makes it kill itself at the
named point, so nothing — no `finally`, no atexit — runs after it, exactly as with `kill -9` or an
OOM kill. After each kill: the collection state is never ahead of the files. After the rerun (a plain
`kx-lake sync`, which takes the dead run's lease over once it expired): `_latest` equals MongoDB for
every `_id` and timestamp, no temp file, spool file or lease is left, and the dead run no longer
shows as started in the Dagster instance (where it would hold the run queue's slot for env1).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from kx_lake.builders.resources import load_project
from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.lake_faults import (
    FIRST, LAST, ROWS, drop, lake_differences, leftovers, mutate, seed, state_ahead_of_files, states,
    write_lease_settings,
)
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def scratch(request, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS)
    write_lease_settings(tmp_path / "cfg")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    client = local_source.client("env1")
    seed(client)
    yield LakeStorage.from_root(root), client, local_source.settings.home
    drop(client)


def unfinished_runs() -> list[str]:
    with dg.DagsterInstance.from_config(os.environ["DAGSTER_HOME"]) as instance:
        return [r.dagster_run.run_id for r in instance.get_run_records() if not r.dagster_run.is_finished]


def cli_sync(kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KX_LAKE_KILL_AT"}
    if kill_at:
        env["KX_LAKE_KILL_AT"] = kill_at
    cli = Path(sys.executable).with_name("kx-lake")
    return subprocess.run([str(cli), "sync", "--env", "env1", "--dates", f"{FIRST}..{LAST}"],
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(("kill_at", "synced_before"), [
    ("extract_batch:1", True),  # during extraction: spooled, nothing published
    ("leaf_written:2", True),  # a date's leaves half written (complete temp files, none renamed yet)
    ("file_published:2", True),  # between two files of one date: the date is half old, half new
    ("before_state:1", True),  # every file of a collection published, its state not written
    ("before_state:1", False),  # the same on a first load: files and no state at all
    ("file_published:3", False),
])
def test_a_sync_killed_at_any_point_is_repaired_by_the_next(scratch, kill_at: str, synced_before: bool) -> None:
    storage, client, home = scratch
    project = load_project()
    if synced_before:
        first = cli_sync()
        assert first.returncode == 0, first.stderr
        mutate(client)
    before = states(storage)

    killed = cli_sync(kill_at)
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    assert state_ahead_of_files(storage) == []
    assert lake_differences(project, client) != []  # the kill left work undone (and the check sees it)
    after_kill = states(storage)
    unchanged = [c for c in before if after_kill[c] == before[c]]
    assert unchanged, "the kill came after every collection's state was written: it tested nothing"
    if kill_at.startswith(("extract_batch", "leaf_written")):
        assert after_kill == before  # killed before any collection's publication finished

    [dead] = unfinished_runs()  # the killed run still shows as started: it holds the run queue's env1 slot

    again = cli_sync()
    assert again.returncode == 0, again.stderr[-3000:]
    assert unfinished_runs() == []  # the rerun took its lease over and closed it as dead
    assert f"run {dead} (host " in again.stderr and "is taken for dead" in again.stderr
    assert lake_differences(project, client) == []
    assert leftovers(storage, home) == []
    assert state_ahead_of_files(storage) == []
    assert all(s.watermark_ms is not None for s in states(storage).values())
