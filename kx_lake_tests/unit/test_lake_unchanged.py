"""The records that let a cycle skip a date (lake/unchanged.py): what they cover and when they stop matching.

Real spools and a real local lake; the staged collection is a stand-in with the fields the records read.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import bson
import pyarrow as pa

from kx_lake.lib.config import CollectionSpec
from kx_lake.lib.lake.spool import DateSpool
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.lake.unchanged import RECORDED_DATES, PublishedDates
from kx_lake.lib.storage import LakeStorage

SPEC = CollectionSpec(collection="bills", database="hims_billing", timestamp_column="updated_at")
DAYS = [date(2026, 1, 1) + timedelta(days=i) for i in range(10)]
ARROW = pa.schema([("_id", pa.string())])


def staged(tmp_path: Path, name: str, docs: dict[date, list[dict]], records: dict[str, str] | None = None,
           fingerprint: str = "schema-1", **kw) -> SimpleNamespace:
    spool = DateSpool(tmp_path / "spools" / name)
    for day, items in docs.items():
        for doc in items:
            spool.append(day, bson.encode(doc))
    fields = dict(env="env1", spec=SPEC, spool=spool, schema=SimpleNamespace(fingerprint=fingerprint),
                  state_before=CollectionState(published_dates=records or {}), landed_rejects=set(), rewrite_dates=[])
    fields.update(kw)
    return SimpleNamespace(**fields)


def publish(storage: LakeStorage, days: list[date]) -> None:
    for day in days:
        batch = pa.record_batch([pa.array([f"{day}"])], schema=ARROW)
        storage.write_partition("env1", "hims_billing", "bills", day, {(): [batch]}, ARROW)


def docs_for(days: list[date], amount: int = 1) -> dict[date, list[dict]]:
    return {d: [{"_id": f"{d}", "amount": amount}] for d in days}


def test_only_the_newest_dates_are_recorded(tmp_path: Path) -> None:
    storage = LakeStorage.from_root(str(tmp_path / "lake"))
    publish(storage, DAYS)
    records = PublishedDates(staged(tmp_path, "a", docs_for(DAYS)), storage, "Asia/Kolkata").after(DAYS)
    assert sorted(records) == [d.isoformat() for d in DAYS[-RECORDED_DATES:]]


def test_the_same_documents_onto_the_same_files_are_skippable(tmp_path: Path) -> None:
    storage = LakeStorage.from_root(str(tmp_path / "lake"))
    days = DAYS[:3]
    publish(storage, days)
    records = PublishedDates(staged(tmp_path, "a", docs_for(days)), storage, "Asia/Kolkata").after(days)

    again = PublishedDates(staged(tmp_path, "b", docs_for(days), records), storage, "Asia/Kolkata")
    assert again.skippable(days) == days

    changed = PublishedDates(staged(tmp_path, "c", {**docs_for(days), days[1]: [{"_id": f"{days[1]}", "amount": 2}]},
                                    records), storage, "Asia/Kolkata")
    assert changed.skippable(days) == [days[0], days[2]]  # the same _id with other content

    other_schema = PublishedDates(staged(tmp_path, "d", docs_for(days), records, fingerprint="schema-2"), storage,
                                  "Asia/Kolkata")
    assert other_schema.skippable(days) == []
    other_zone = PublishedDates(staged(tmp_path, "e", docs_for(days), records), storage, "UTC")
    assert other_zone.skippable(days) == []


def test_a_date_whose_files_were_replaced_since_is_not_skippable(tmp_path: Path) -> None:
    """Byte-identical content under a new file (what a crash after the write and before the state leaves,
    or another writer) is not the file the record describes."""
    storage = LakeStorage.from_root(str(tmp_path / "lake"))
    days = DAYS[:2]
    publish(storage, days)
    records = PublishedDates(staged(tmp_path, "a", docs_for(days)), storage, "Asia/Kolkata").after(days)
    leaf = Path(storage.leaf_dir("env1", "hims_billing", "bills", days[0])) / "part-00000.parquet"
    shutil.copy(leaf, leaf.with_name("copy"))
    os.replace(leaf.with_name("copy"), leaf)
    debris = Path(storage.leaf_dir("env1", "hims_billing", "bills", days[1])) / ".part-00000.parquet.x.tmp"
    debris.write_bytes(b"half a file")

    again = PublishedDates(staged(tmp_path, "b", docs_for(days), records), storage, "Asia/Kolkata")
    assert again.skippable(days) == []


def test_an_open_reject_read_again_or_a_rewrite_skips_nothing(tmp_path: Path) -> None:
    storage = LakeStorage.from_root(str(tmp_path / "lake"))
    days = DAYS[:2]
    publish(storage, days)
    records = PublishedDates(staged(tmp_path, "a", docs_for(days)), storage, "Asia/Kolkata").after(days)
    landed = staged(tmp_path, "b", docs_for(days), records, landed_rejects={("x", "string")})
    assert PublishedDates(landed, storage, "Asia/Kolkata").skippable(days) == []
    rewrite = staged(tmp_path, "c", docs_for(days), records, rewrite_dates=[days[0]])
    assert PublishedDates(rewrite, storage, "Asia/Kolkata").skippable(days) == [days[1]]


def test_records_of_dates_written_again_are_replaced_and_others_kept(tmp_path: Path) -> None:
    storage = LakeStorage.from_root(str(tmp_path / "lake"))
    days = DAYS[:3]
    publish(storage, days)
    records = PublishedDates(staged(tmp_path, "a", docs_for(days)), storage, "Asia/Kolkata").after(days)
    publish(storage, days[2:])
    newer = staged(tmp_path, "b", docs_for(days[2:], amount=5), records)
    after = PublishedDates(newer, storage, "Asia/Kolkata").after(days[2:])
    assert {k: after[k] == records[k] for k in after} == {days[0].isoformat(): True, days[1].isoformat(): True,
                                                          days[2].isoformat(): False}
    # written without documents (rewritten from its own files): its record goes
    assert days[2].isoformat() not in PublishedDates(staged(tmp_path, "c", {}, after), storage, "UTC").after(days[2:])
