"""Storage that fails mid-run: a write failing on the k-th file (S3 through a failing fsspec wrapper
around the real SeaweedFS client; local disk through a real OS error on one file), and SeaweedFS
stopped mid-run. The failed collection reports the file, its state does not move, nothing temporary
is left; once storage is back, the next sync leaves `_latest` equal to MongoDB."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import fsspec
import pytest
import s3fs

from kx_lake.builders.resources import load_project
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.lake.summary import SyncSummary
from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.lake_faults import (
    COLLS, FIRST, LAST, ROWS, drop, lake_differences, leftovers, mutate, seed, state_ahead_of_files, states, utc,
    write_lease_settings,
)
from kx_lake_tests.fixtures.scratch_lake import scratch_lake
from kx_lake_tests.fixtures.seaweedfs import restart_seaweed, start_seaweed, stop_seaweed

pytestmark = pytest.mark.integration


class FailingS3(s3fs.S3FileSystem):
    """The real S3 client, with a hook before each data file is opened for writing (class-level:
    fsspec builds the instances). `on_write(n, path)` may raise, or stop the server."""

    on_write: Callable[[int, str], None] | None = None
    writes = 0

    def open(self, path, mode="rb", **kwargs):  # noqa: ANN001, ANN003, ANN201
        if "w" in mode and str(path).endswith("/part-00000.parquet") and FailingS3.on_write is not None:
            FailingS3.writes += 1
            FailingS3.on_write(FailingS3.writes, str(path))
        return super().open(path, mode, **kwargs)


@pytest.fixture
def failing_s3():
    FailingS3.on_write, FailingS3.writes = None, 0
    fsspec.register_implementation("s3", FailingS3, clobber=True)
    try:
        yield FailingS3
    finally:
        FailingS3.on_write = None
        fsspec.register_implementation("s3", s3fs.S3FileSystem, clobber=True)


def sync() -> SyncSummary:
    project = load_project()
    from kx_lake.definitions import defs

    group = SyncGroup("env1", FIRST, LAST, tuple(project.collection(c) for _, c in COLLS), False)
    return run_sync(defs(), "sync_collections", [group], instance=dg.DagsterInstance.ephemeral())


def assert_ok(summary: SyncSummary) -> None:
    assert [r.error for r in summary.results if not r.ok] == []


def failed_once_then_repaired(storage: LakeStorage, client, home: Path, summary: SyncSummary,  # noqa: ANN001
                              before: dict, expect: str) -> None:
    failed = [r for r in summary.results if not r.ok]
    assert len(failed) == 1 and expect in failed[0].error, [(r.collection, r.error) for r in summary.results]
    assert states(storage)[failed[0].collection] == before[failed[0].collection]  # the state did not move
    assert state_ahead_of_files(storage) == []
    assert leftovers(storage, home) == []
    assert_ok(sync())
    assert lake_differences(load_project(), client) == []
    assert leftovers(storage, home) == []


@pytest.fixture
def scratch(request, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS, getattr(request, "param", "local"))
    write_lease_settings(tmp_path / "cfg")
    client = local_source.client("env1")
    seed(client)
    yield root, client, local_source.settings.home
    drop(client)


@pytest.mark.parametrize("scratch", ["s3"], indirect=True)
def test_an_s3_write_failing_on_the_kth_file(scratch, failing_s3) -> None:
    root, client, home = scratch
    storage = LakeStorage.from_root(root)
    assert_ok(sync())
    mutate(client)
    before = states(storage)

    def fail_fourth(n: int, path: str) -> None:
        if n == 4:
            raise OSError(f"injected: storage refused {path}")

    failing_s3.on_write = fail_fourth
    summary = sync()
    failing_s3.on_write = None
    assert failing_s3.writes > 4  # the other collection went on writing
    failed_once_then_repaired(storage, client, home, summary, before, "injected: storage refused")


def test_a_local_write_failing_on_one_file(scratch) -> None:
    """Locally the lake writes with the OS directly (fsio: temp file, fsync, rename), not through fsspec,
    so the failure is a real OS error: a directory squatting on one new leaf's file name."""
    root, client, home = scratch
    storage = LakeStorage.from_root(root)
    assert_ok(sync())
    mutate(client)
    client.hims_billing.f_bills.insert_one({"_id": "F9-new", "updated_at": utc(2026, 1, 2, 8), "facility_id": "F9",
                                            "amount": 9.0})
    squatter = Path(root) / "env1/hims_billing/f_bills/date=2026-01-02/facility_id=F9/part-00000.parquet"
    squatter.mkdir(parents=True)
    before = states(storage)
    summary = sync()
    squatter.rmdir()  # the disk is healthy again
    failed_once_then_repaired(storage, client, home, summary, before,
                              "env1/hims_billing/f_bills date=2026-01-02: publishing under")


@pytest.mark.slow
def test_seaweedfs_stopped_mid_run(local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request,
                                   failing_s3) -> None:
    scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS)
    write_lease_settings(tmp_path / "cfg")
    (tmp_path / "weed").mkdir()
    server = start_seaweed(tmp_path / "weed")  # its own: this test stops it
    try:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        root = server.unique_prefix()
        monkeypatch.setenv("KX_LAKE_ROOT", root)
        client = local_source.client("env1")
        seed(client)
        storage = LakeStorage.from_root(root)
        assert_ok(sync())
        mutate(client)
        before = states(storage)

        def stop_at_third(n: int, path: str) -> None:
            if n == 3:
                stop_seaweed(server)

        failing_s3.on_write = stop_at_third
        try:
            summary = sync()
            failed = [r for r in summary.results if not r.ok]
        except Exception as exc:  # noqa: BLE001 - releasing the lease may fail too: the storage is gone
            failed = [exc]
        failing_s3.on_write = None
        assert failed, "the run went on as if SeaweedFS were up"
        restart_seaweed(server)
        storage = LakeStorage.from_root(root)
        assert state_ahead_of_files(storage) == []
        moved = {c for c, state in states(storage).items() if state != before[c]}
        assert not moved & {d["collection"] for d in lake_differences(load_project(), client)}
        assert_ok(sync())  # takes the dead run's lease over once it expired
        assert lake_differences(load_project(), client) == []
        assert leftovers(storage, local_source.settings.home) == []
        drop(client)
    finally:
        stop_seaweed(server)
