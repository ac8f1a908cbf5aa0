"""A cycle that extracts exactly the documents a date was last published from leaves its files alone
(lake/unchanged.py), on the real local FerretDB — and everything else is still published.

Files are compared by inode, mtime (ns) and size: an untouched file keeps all three, a rewritten one
(temp file + rename) gets a new inode. Stage and publish run as the asset step and the IO manager run
them, with an injected clock.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from kx_lake.builders.resources import load_project
from kx_lake.lib import faults
from kx_lake.lib.lake.pipeline import PublishedCollection, publish_staged, stage_collection
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

pytestmark = pytest.mark.integration

ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
u_bills,hims_billing,updated_at,date,facility_id,true
"""
D1, D2, D3 = date(2026, 1, 4), date(2026, 1, 5), date(2026, 1, 6)
NOW_MS = int(datetime(2026, 1, 7, 12, tzinfo=UTC).timestamp() * 1000)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def lake(request: pytest.FixtureRequest, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    where = getattr(request, "param", "local")
    root = scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS, where)
    coll = local_source.client("env1").hims_billing.u_bills
    coll.drop()
    coll.insert_many([
        {"_id": "a1", "updated_at": utc(2026, 1, 4, 6), "facility_id": "F1", "amount": 10},
        {"_id": "a2", "updated_at": utc(2026, 1, 4, 7), "facility_id": "F2", "amount": 20},
        {"_id": "b1", "updated_at": utc(2026, 1, 5, 6), "facility_id": "F1", "amount": 30},
    ])
    yield load_project(), local_source.client("env1"), coll, LakeStorage.from_root(root), Path(root)
    coll.drop()


def cycle(project, client) -> PublishedCollection:
    spec = project.collection("u_bills")
    with tempfile.TemporaryDirectory() as staging:
        staged = stage_collection(client=client, project=project, env="env1", spec=spec, dates=[D1, D2, D3],
                                  staging_dir=Path(staging), now_ms=lambda: NOW_MS)
        return publish_staged(project, staged)


def versions(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every file of the table (temp debris included) -> (inode, mtime ns, size)."""
    table = root / "env1" / "hims_billing" / "u_bills"
    out = {}
    for path in table.rglob("*"):
        if path.is_file():
            st = path.stat()
            out[str(path.relative_to(table))] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return out


def amounts(storage: LakeStorage) -> dict[str, object]:
    table = storage.read_table("env1", "hims_billing", "u_bills")
    return dict(zip(table.column("_id").to_pylist(), table.column("amount").to_pylist(), strict=True))


def test_a_second_identical_cycle_writes_no_file(lake) -> None:
    project, client, _coll, storage, root = lake
    first = cycle(project, client)
    assert (len(first.files), first.unchanged_dates) == (3, 0)
    before, content = versions(root), amounts(storage)
    assert len(before) == 3

    again = cycle(project, client)
    assert (again.files, again.unchanged_dates) == ([], 2)  # D1 and D2 hold documents; D3 none
    assert versions(root) == before
    assert amounts(storage) == content == {"a1": 10, "a2": 20, "b1": 30}
    recorded = CollectionState.read(storage, "env1", "hims_billing", "u_bills").published_dates
    assert sorted(recorded) == ["2026-01-04", "2026-01-05"]


def test_a_changed_document_on_a_lookback_date_is_published_again(lake) -> None:
    project, client, coll, storage, root = lake
    cycle(project, client)
    before = versions(root)
    coll.update_one({"_id": "a1"}, {"$set": {"amount": 11}})  # same _id and timestamp, other content

    again = cycle(project, client)
    assert again.unchanged_dates == 1  # D2
    assert [f.path.split("u_bills/")[1] for f in again.files] == [
        "date=2026-01-04/facility_id=F1/part-00000.parquet", "date=2026-01-04/facility_id=F2/part-00000.parquet"]
    after = versions(root)
    d1 = [k for k in before if k.startswith("date=2026-01-04/")]
    assert all(after[k][0] != before[k][0] for k in d1)  # the date's leaves were replaced
    assert after["date=2026-01-05/facility_id=F1/part-00000.parquet"] == before[
        "date=2026-01-05/facility_id=F1/part-00000.parquet"]
    assert amounts(storage) == {"a1": 11, "a2": 20, "b1": 30}


def test_a_crash_between_the_files_and_the_state_is_published_again(lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """The record stays that of the documents last recorded, but the files are another run's: a source
    back at those documents must still replace what the crashed run wrote."""
    project, client, coll, storage, _root = lake
    cycle(project, client)
    coll.update_one({"_id": "a1"}, {"$set": {"amount": 99}})
    reached = faults.reached

    def crash(point: str) -> None:
        if point == "before_state":
            raise RuntimeError("killed before the state")
        reached(point)

    monkeypatch.setattr(faults, "reached", crash)
    with pytest.raises(RuntimeError, match="killed before the state"):
        cycle(project, client)
    monkeypatch.setattr(faults, "reached", reached)
    assert amounts(storage)["a1"] == 99  # files written, state (and its records) not

    coll.update_one({"_id": "a1"}, {"$set": {"amount": 10}})  # the documents of the recorded publication
    again = cycle(project, client)
    assert again.unchanged_dates == 1  # D2 only: D1's files are not those recorded
    assert amounts(storage) == {"a1": 10, "a2": 20, "b1": 30}


def test_a_widening_still_rewrites_the_dates_whose_documents_did_not_change(lake) -> None:
    project, client, coll, storage, root = lake
    cycle(project, client)
    before = versions(root)
    coll.insert_one({"_id": "b2", "updated_at": utc(2026, 1, 5, 8), "facility_id": "F2", "amount": 2.5})

    again = cycle(project, client)
    assert again.unchanged_dates == 0
    after = versions(root)
    assert all(after[k][0] != before[k][0] for k in before)  # every file rewritten in the widened type
    for path in root.rglob("part-00000.parquet"):
        assert str(pq.read_schema(path).field("amount").type) == "double", path
    assert amounts(storage) == {"a1": 10, "a2": 20, "b1": 30, "b2": 2.5}


def test_a_state_from_before_the_records_skips_nothing(lake) -> None:
    project, client, _coll, storage, root = lake
    cycle(project, client)
    path = Path(storage.state_path("env1", "hims_billing/u_bills.json"))
    doc = json.loads(path.read_text())
    del doc["published_dates"]  # what an older kx-lake wrote
    path.write_text(json.dumps(doc))
    before = versions(root)
    again = cycle(project, client)
    assert again.unchanged_dates == 0 and len(again.files) == 3
    assert os.path.exists(path) and all(versions(root)[k][0] != before[k][0] for k in before)


@pytest.mark.parametrize("lake", ["s3"], indirect=True)
def test_on_s3_the_same_documents_write_nothing_and_a_changed_one_is_published(lake) -> None:
    """On SeaweedFS S3 a file version is its ETag and time: the same skip, the same re-publication."""
    project, client, coll, storage, _root = lake
    cycle(project, client)
    again = cycle(project, client)
    assert (again.files, again.unchanged_dates) == ([], 2)
    coll.update_one({"_id": "b1"}, {"$set": {"amount": 31}})
    third = cycle(project, client)
    assert (len(third.files), third.unchanged_dates) == (1, 1)
    assert amounts(storage) == {"a1": 10, "a2": 20, "b1": 31}
