"""Sweeps never delete a live run's files: temp files newer than the lease's start, a run's spool."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from kx_lake.lib.lake.lease import EnvironmentLease
from kx_lake.lib.lake.spool import DateSpool
from kx_lake.lib.storage import LakeStorage

ENV, DB, COLL, DAY = "env1", "hims", "visits", date(2026, 1, 4)
LEASE_START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
SCHEMA = pa.schema([("visit_id", pa.string())])


def leaf(storage: LakeStorage) -> Path:
    return Path(storage.leaf_dir(ENV, DB, COLL, DAY))


def temp_file(storage: LakeStorage, modified: datetime) -> Path:
    path = leaf(storage) / f".part-00000.parquet.{int(modified.timestamp())}.tmp"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"in flight")
    os.utime(path, (modified.timestamp(), modified.timestamp()))
    return path


def rewrite(storage: LakeStorage) -> None:
    storage.write_partition(ENV, DB, COLL, DAY, {(): [pa.record_batch([pa.array(["v1"])], schema=SCHEMA)]}, SCHEMA)


@pytest.fixture
def storage(tmp_path) -> LakeStorage:
    return LakeStorage.from_root(str(tmp_path / "lake"))


def test_while_a_lease_is_held_only_temp_files_older_than_it_are_swept(storage):
    old = temp_file(storage, LEASE_START - timedelta(hours=1))  # a writer that ended before the holder began
    live = temp_file(storage, LEASE_START + timedelta(seconds=5))  # possibly a live writer's
    holder = EnvironmentLease(storage, ENV, "run-a", wait=timedelta(0), clock=lambda: LEASE_START)
    holder.acquire()
    rewrite(storage)
    assert sorted(p.name for p in leaf(storage).iterdir()) == [live.name, "part-00000.parquet"]
    assert not old.exists()
    storage.delete_partition(ENV, DB, COLL, DAY)
    assert [p.name for p in leaf(storage).iterdir()] == [live.name]
    holder.release()  # no live sync any more: every temp file is debris
    rewrite(storage)
    assert [p.name for p in leaf(storage).iterdir()] == ["part-00000.parquet"]


def test_an_unreadable_lease_spares_every_temp_file(storage):
    live = temp_file(storage, LEASE_START - timedelta(days=30))
    state = Path(storage.state_path(ENV, "_lease.json"))
    state.parent.mkdir(parents=True)
    state.write_text("{not json")
    rewrite(storage)
    assert live.exists()


def test_a_spool_removed_under_its_run_fails_loudly_instead_of_publishing_an_empty_date(tmp_path):
    spool = DateSpool(tmp_path / "staging" / "run-a" / ENV / DB / COLL, keep=tmp_path / "staging")
    spool.append(DAY, _bson({"_id": 1}))
    spool.close()
    (spool.directory / "spool.bson").unlink()  # the collection's one spool file (lake/spool.py)
    with pytest.raises(FileNotFoundError, match=r"spool.bson of 1 document\(s\) was removed under its run"):
        list(spool.read(DAY))
    assert list(spool.read(date(2026, 1, 3))) == []  # a date that never had documents is simply empty


def _bson(doc: dict) -> bytes:
    import bson

    return bson.encode(doc)
