"""The source dies mid-cursor: a FerretDB of the test's own is killed with SIGKILL after the first batch
of a window, then started again on the same port with the same data. The reader's resume (extract/
reader.py: the query restarts after the last (timestamp, _id) read) must finish the window with no
document lost or doubled, and the lake must end equal to MongoDB."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pymongo
import pytest

import kx_lake.lib.lake.scan as scan  # where the window is read (iter_window)
from kx_lake.builders.resources import load_project
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.lake_faults import FIRST, LAST, ROWS, lake_differences, leftovers, seed, utc
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

pytestmark = [pytest.mark.integration, pytest.mark.slow]
VISITS = 12_000  # the reader's batches are 5,000 documents: the cursor is open after the first


def test_a_source_killed_mid_cursor_and_restarted_loses_nothing(
    request, local_source, restartable_ferretdb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS)
    monkeypatch.setenv("KX_LAKE_ENV1_MONGODB_URI", restartable_ferretdb.uri)
    client = pymongo.MongoClient(restartable_ferretdb.uri)
    seed(client, visits=0)
    client.hims_patient.f_visits.insert_many([
        {"_id": i, "updated_at": utc(2026, 1, 1, 0, 0) + timedelta(seconds=15 * i), "ward": f"W{i % 7}"}
        for i in range(VISITS)])

    real, reads, restarted = scan.iter_window, [], threading.Event()

    def source_dies_after_the_first_batch(collection, window_filter, timestamp_column, **kw):  # noqa: ANN001, ANN003
        reads.append((collection.name, kw["stats"]))
        for n, batch in enumerate(real(collection, window_filter, timestamp_column, **kw)):
            yield batch
            if collection.name == "f_visits" and n == 0:
                restartable_ferretdb.kill()  # the open cursor and its connection die with it
                threading.Timer(1.0, lambda: (restartable_ferretdb.start(), restarted.set())).start()

    monkeypatch.setattr(scan, "iter_window", source_dies_after_the_first_batch)
    project = load_project()
    from kx_lake.definitions import defs

    group = SyncGroup("env1", FIRST, LAST, tuple(project.collection(c) for c in ("f_bills", "f_visits")), False)
    summary = run_sync(defs(), "sync_collections", [group], instance=dg.DagsterInstance.ephemeral())
    assert restarted.wait(30)
    assert [r.error for r in summary.results if not r.ok] == []
    [visits] = [stats for name, stats in reads if name == "f_visits"]
    assert visits.resumes >= 1  # the window really was resumed on the restarted server
    assert visits.documents == VISITS  # each document read once: none lost, none doubled
    assert {r.collection: r.rows for r in summary.results} == {"f_bills": 30, "f_visits": VISITS}

    assert lake_differences(project, client) == []
    assert leftovers(LakeStorage.from_root(root), local_source.settings.home) == []
    client.close()
