"""Two syncs of one environment at once, through the Dagster definitions, on the real FerretDB.

The first sync to take the environment's lease is held inside its first collection step (its spool
on disk, in flight) until the second has either started waiting for the lease or given up; a gate
around the real stage function does that, so the overlap is certain rather than a matter of timing.
Then: one waited (or failed) naming the other's run, the lake equals MongoDB, no temp or spool file
is left, and the lease is gone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

import kx_lake.builders.collection_assets as collection_assets
from kx_lake.builders.resources import load_project
from kx_lake.builders.run_lease import PrintingLog
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.lake.lease import EnvironmentLease, LeaseHeldError
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

pytestmark = pytest.mark.integration

ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
l_bills,hims_billing,updated_at,date,facility_id,true
l_visits,hims_patient,updated_at,date,,true
"""
COLLS = (("hims_billing", "l_bills"), ("hims_patient", "l_visits"))
FIRST, LAST = date(2026, 1, 1), date(2026, 1, 3)


def seed(client) -> None:  # noqa: ANN001
    for db, coll in COLLS:
        client[db][coll].drop()
    client.hims_billing.l_bills.insert_many([
        {"_id": f"B{i}", "updated_at": datetime(2026, 1, 1 + i % 3, 6, i, tzinfo=UTC), "facility_id": f"F{i % 2}",
         "amount": 10.0 * i} for i in range(30)])
    client.hims_patient.l_visits.insert_many([
        {"_id": i, "updated_at": datetime(2026, 1, 1 + i % 3, 9, i, tzinfo=UTC), "ward": f"W{i % 4}"} for i in range(20)])


@pytest.fixture
def scratch(request, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    where = getattr(request, "param", "local")
    root = scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS, where)
    client = local_source.client("env1")
    seed(client)
    yield tmp_path / "cfg", root, client, local_source.settings.home
    for db, coll in COLLS:
        client[db][coll].drop()


def write_lease_settings(cfg_dir: Path, wait_seconds: float) -> None:
    (cfg_dir / "operations.yaml").write_text(f"lease:\n  ttl_seconds: 30\n  wait_seconds: {wait_seconds}\n")


class FirstStageGate:
    """Wraps the real stage function: the first call (the lease holder's first collection) stages its
    collection, then waits until `release` is set, its spool still on disk."""

    def __init__(self, real):  # noqa: ANN001
        self.real, self.release, self.entered = real, threading.Event(), threading.Event()
        self.lock, self.used, self.spool_files = threading.Lock(), False, []

    def __call__(self, **kw):  # noqa: ANN003
        staged = self.real(**kw)
        with self.lock:
            first, self.used = not self.used, True
        if first:
            self.spool_files = sorted(p for p in staged.spool.directory.iterdir())
            self.entered.set()
            assert self.release.wait(120), "the other sync never reached the lease"
        return staged


def two_syncs(monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict, FirstStageGate]:
    gate = FirstStageGate(collection_assets.stage_collection)
    monkeypatch.setattr(collection_assets, "stage_collection", gate)
    project = load_project()
    from kx_lake.definitions import defs

    outcome: dict[str, object] = {}
    heard: dict[str, list[str]] = {"a": [], "b": []}

    def one(name: str) -> None:
        def hear(message: str) -> None:
            heard[name].append(message)
            gate.release.set()  # the other one is waiting for the lease now

        group = SyncGroup("env1", FIRST, LAST, tuple(project.collection(c) for _, c in COLLS), False)
        try:  # each run's instance lives and dies on its thread (in-memory SQLite is per thread)
            with dg.DagsterInstance.ephemeral() as instance:
                outcome[name] = run_sync(defs(), "sync_collections", [group], instance=instance,
                                         lease_log=PrintingLog(hear))
        except LeaseHeldError as exc:
            outcome[name] = exc
            gate.release.set()

    threads = [threading.Thread(target=one, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    return outcome, heard, gate


def assert_lake_equals_mongo(storage: LakeStorage, client) -> None:  # noqa: ANN001
    for db, coll in COLLS:
        table = storage.read_table("env1", db, coll)
        lake = sorted(table.column("_id").to_pylist())
        mongo = sorted(str(d["_id"]) for d in client[db][coll].find({}, {"_id": 1}))
        assert lake == mongo, f"{db}.{coll}"
        assert {p.date for p in storage.list_partitions("env1", db, coll)} == {FIRST, FIRST + timedelta(1), LAST}


def assert_nothing_left(storage: LakeStorage, home: Path, run_ids: list[str]) -> None:
    storage.fs.invalidate_cache()
    left = [p for p in storage.fs.find(storage.root_path) if p.rsplit("/", 1)[-1].endswith(".tmp")]
    assert left == []
    assert storage.read_json("env1", "_lease.json") is None
    for run_id in run_ids:
        assert not (home / "staging" / run_id).exists()


@pytest.mark.parametrize("scratch", ["local", "s3"], indirect=True)
def test_a_second_sync_waits_for_the_first_and_both_leave_the_lake_equal_to_mongodb(scratch, monkeypatch):
    cfg_dir, root, client, home = scratch
    write_lease_settings(cfg_dir, wait_seconds=300)
    outcome, heard, gate = two_syncs(monkeypatch)
    summaries = {n: s for n, s in outcome.items()}
    assert all(not isinstance(s, Exception) for s in summaries.values()), outcome
    assert all(r.ok for s in summaries.values() for r in s.results), outcome
    waited = [n for n, messages in heard.items() if messages]
    assert len(waited) == 1, heard
    holder = "b" if waited == ["a"] else "a"
    holder_run = summaries[holder].run_ids[0]
    assert f"held by run {holder_run} (host " in heard[waited[0]][0]
    assert f"pid {os.getpid()}) since " in heard[waited[0]][0]
    assert gate.spool_files  # the holder had its spool on disk while the other waited...
    storage = LakeStorage.from_root(root)
    assert_lake_equals_mongo(storage, client)  # ...and published it whole
    assert_nothing_left(storage, home, [s.run_ids[0] for s in summaries.values()])


def test_a_second_sync_that_cannot_wait_fails_naming_the_holder(scratch, monkeypatch):
    cfg_dir, root, client, home = scratch
    write_lease_settings(cfg_dir, wait_seconds=0)
    outcome, _, _ = two_syncs(monkeypatch)
    failed = [n for n, o in outcome.items() if isinstance(o, LeaseHeldError)]
    assert len(failed) == 1, outcome
    holder = outcome["b" if failed == ["a"] else "a"]
    assert all(r.ok for r in holder.results)
    message = str(outcome[failed[0]])
    assert message.startswith(f"env1: the lake is being synced by run {holder.run_ids[0]} (host ")
    assert f"pid {os.getpid()}) since 20" in message
    storage = LakeStorage.from_root(root)
    assert_lake_equals_mongo(storage, client)
    assert_nothing_left(storage, home, holder.run_ids)


@pytest.mark.slow
def test_the_cli_exits_75_naming_the_holder_when_the_lake_stays_busy(scratch, tmp_path):
    cfg_dir, root, _, home = scratch
    write_lease_settings(cfg_dir, wait_seconds=1)
    held = EnvironmentLease(LakeStorage.from_root(root), "env1", "run-held-by-test", wait=timedelta(0))
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster")}
    cli = Path(sys.executable).with_name("kx-lake")
    with held:
        proc = subprocess.run([str(cli), "sync", "--env", "env1", "--dates", f"{FIRST}..{LAST}"],
                              env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 75, proc.stderr
    assert f"the lake is being synced by run run-held-by-test (host {held.host}, pid {os.getpid()})" in proc.stderr
    assert "waiting up to 1s for the lake's lease" in proc.stderr
    assert LakeStorage.from_root(root).list_partitions("env1", "hims_billing", "l_bills") == []


def _sync_job() -> dg.JobDefinition:
    """The sync job, reconstructable in the step subprocesses of the multiprocess executor."""
    from kx_lake.definitions import defs

    return defs().resolve_job_def("sync_collections")


def _step_failures(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [e.dagster_event.event_specific_data.error.to_string()
            for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)]


@pytest.mark.slow
def test_steps_in_separate_processes_share_the_run_lease_and_respect_another_holder(scratch, tmp_path):
    """The UI's and the daemon's path: the multiprocess executor, one process per database step."""
    from kx_lake.builders.dagster_home import ensure_dagster_home
    from kx_lake.builders.partitions import range_tags

    cfg_dir, root, client, home = scratch
    write_lease_settings(cfg_dir, wait_seconds=1)
    storage = LakeStorage.from_root(root)
    tags = range_tags("env1", FIRST, LAST)
    with dg.DagsterInstance.from_config(str(ensure_dagster_home(tmp_path / "dagster"))) as instance:
        with EnvironmentLease(storage, "env1", "run-held-by-test", wait=timedelta(0)):
            busy = dg.execute_job(dg.reconstructable(_sync_job), instance=instance, tags=tags)
        assert not busy.success
        failures = _step_failures(instance, busy.run_id)
        assert len(failures) == len(COLLS)  # both database steps, each in its own process
        assert all("the lake is being synced by run run-held-by-test" in f for f in failures)
        assert storage.list_partitions("env1", "hims_billing", "l_bills") == []

        free = dg.execute_job(dg.reconstructable(_sync_job), instance=instance, tags=tags)
        assert free.success, _step_failures(instance, free.run_id)
        pids = {e.dagster_event.pid for e in instance.all_logs(free.run_id, of_type=dg.DagsterEventType.STEP_START)
                if e.step_key.startswith("extract_")}
        assert len(pids) == len(COLLS) and os.getpid() not in pids
    assert_lake_equals_mongo(storage, client)
    assert_nothing_left(storage, home, [free.run_id])
