"""Batches sized by bytes on the real FerretDB, which does not cap a reply by bytes: a collection of
1 MB documents is read a few documents a reply (5000 would be one reply the driver refuses), a
collection of small documents 5000 at a time, and the window reader returns every big document."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from kx_lake.lib.extract.reader import BATCH_BYTES, MAX_BATCH_DOCS, ReadStats, batch_size_for, iter_window
from kx_lake.lib.extract.windows import Window, window_filter

pytestmark = pytest.mark.integration


@pytest.fixture
def db(local_source):
    database = local_source.client("env1").hims_admin
    yield database
    database.t_batch_big.drop()
    database.t_batch_small.drop()


def test_batch_size_follows_document_size_and_big_documents_all_arrive(db) -> None:
    db.t_batch_big.drop()
    db.t_batch_small.drop()
    ts = datetime(2026, 1, 2, 6, tzinfo=UTC)
    for start in range(0, 70, 10):  # 70 MB: over the driver's 48 MB message limit in one reply
        db.t_batch_big.insert_many([{"_id": i, "updated_at": ts, "s": "x" * 1_000_000} for i in range(start, start + 10)])
    db.t_batch_small.insert_many([{"_id": i, "updated_at": ts, "s": "x" * 100} for i in range(500)])

    size = batch_size_for(db.t_batch_big)
    assert size == BATCH_BYTES // (2 * 1_000_040)  # 8: about 8 MB a reply
    assert batch_size_for(db.t_batch_small) == MAX_BATCH_DOCS

    stats = ReadStats()
    window = Window(date(2026, 1, 2), date(2026, 1, 2), ZoneInfo("Asia/Kolkata"))
    ids = [d.doc["_id"] for batch in iter_window(db.t_batch_big, window_filter("updated_at", window), "updated_at",
                                                   batch_size=size, stats=stats) for d in batch]
    assert ids == list(range(70)) and stats.resumes == 0 and stats.batches >= 70 // size
