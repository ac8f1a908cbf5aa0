"""Memory is bounded by bytes, not documents: a collection of BIG_DOCS documents of ~1 MB (more bytes
than the RSS ceiling), all stamped with one migration timestamp — so one date, one leaf per facility
and one (timestamp) tie for the reader's resume bookkeeping hold the whole collection — syncs under
PEAK_LIMIT_MB, and so does a second sync of that date, which merges with the 2 GB already in the lake.
Each sync runs in its own interpreter (sync_probe.py), so its own peak (VmHWM) is measured alone.

What keeps it bounded: the reader sizes batches by bytes (FerretDB would otherwise send 5000 × 1 MB in
one reply, which the driver refuses), the spool is read back in chunks capped by bytes, and a date is
converted chunk by chunk into per-leaf files on disk that stream into Parquet (lake/leaves.py); no
Arrow array ever holds more than a chunk, far from the 2 GiB offset limit.

What remains is bounded by bytes too: a reply (16 MiB), a spool chunk (32 MB) decoded and converted,
and each leaf's pending row group (128 MB, ParquetOptions.row_group_bytes), up to four leaves written
at once. Measured here: 200 documents peak at 521 MB (after imports 219 MB, both leaves' whole data
pending below the row-group cap); BIG_DOCS below.

Sizing: BIG_DOCS = 2,000 (2 GB of documents, above the 1.5 GB ceiling, so holding the date in memory
fails the test); the issue's 5,000 (`KX_LAKE_TEST_BIG_DOCS=5000`) takes ~15-25 minutes here, as
FerretDB inserts and scans ~8 MB/s. Measured on 2026-12-07 (VmHWM): 2,000 — first sync 660 MB, the
merging re-sync 870 MB; 5,000 — first sync 623 MB, the merging re-sync 908 MB. Before the merge read
existing files one row group at a time (storage.lake._slices) the re-sync grew with the date's bytes
(2,000: 1,417 MB; 5,000: 2,271 MB): one pyarrow reader over a whole file holds more the longer the
file. MERGE_EXTRA_MB catches that at CI's size.
The 1 MB strings are built from random words so zstd does not make the lake trivial.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import bson
import pytest

from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.scratch_lake import scratch_environ

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(6000)]  # ~10-20 min: 2 GB through FerretDB (5 GB: see BIG_DOCS)

ENV, DB = "env1", "hims_admin"
DAY = date(2026, 1, 2)
STAMP = datetime(2026, 1, 2, 6, 0, tzinfo=UTC)  # one instant: the migration's, and the big date's
BIG_DOCS = 2_000  # KX_LAKE_TEST_BIG_DOCS=5000 runs the full size
PEAK_LIMIT_MB = 1_536
MERGE_EXTRA_MB = 400  # the merging re-sync over the first sync's peak (measured +210 MB; +753 MB before the fix)
ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
t_mem_big,hims_admin,updated_at,date,facility_id,true
"""


def big_documents(n: int):
    rng = random.Random(7)
    words = [f"w{rng.randrange(10**6):06d}" for _ in range(5000)]
    for i in range(n):
        text = " ".join(rng.choices(words, k=125_000))  # ~1 MB
        yield {"_id": f"B{i:05d}", "updated_at": STAMP, "facility_id": f"F{i % 2 + 1}", "note": text, "n": i}


def insert(coll, docs, batch: int) -> None:
    buf = []
    for doc in docs:
        buf.append(doc)
        if len(buf) == batch:
            coll.insert_many(buf, ordered=False)
            buf = []
    if buf:
        coll.insert_many(buf, ordered=False)


def probe(collection: str, environ: dict[str, str]) -> dict:
    import json

    proc = subprocess.run(
        [sys.executable, "-m", "kx_lake_tests.integration.sync_probe", ENV, collection, DAY.isoformat(), DAY.isoformat()],
        env=environ, capture_output=True, text=True, timeout=3600, cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def scratch(local_source, tmp_path: Path):
    db = local_source.client(ENV)[DB]
    names = ("t_mem_big",)
    for name in names:
        db[name].drop()
    environ, root = scratch_environ(local_source, tmp_path, ROWS)
    yield db, environ, LakeStorage.from_root(str(root))
    for name in names:
        db[name].drop()


def test_a_date_of_1mb_documents_syncs_under_the_memory_ceiling(scratch) -> None:
    db, environ, storage = scratch
    big_docs = int(os.environ.get("KX_LAKE_TEST_BIG_DOCS", BIG_DOCS))
    sample = next(big_documents(1))
    assert 900_000 <= len(bson.encode(sample)) <= 1_100_000
    insert(db.t_mem_big, big_documents(big_docs), batch=10)
    result = probe("t_mem_big", environ)
    first_mb = peak_mb = result["maxrss_kb"] / 1024
    print(f"\n{big_docs} documents of ~1 MB on one date: peak RSS {peak_mb:.0f} MB "
          f"(after imports {result['rss_before_kb'] / 1024:.0f} MB), {result['seconds']} s")
    parts = storage.list_partitions(ENV, DB, "t_mem_big")
    assert result["rows"] == big_docs and sum(p.rows for p in parts) == big_docs and len(parts) == 2
    assert peak_mb < PEAK_LIMIT_MB, result

    # the same date again (the next sync's look-back) after one document changed, so the date is rewritten
    # rather than skipped as unchanged (lake/unchanged.py): the 2 GB already in the lake are merged with
    # the new versions row group by row group, never read whole (storage.lake._kept_rows)
    db.t_mem_big.update_one({"_id": "B00000"}, {"$set": {"n": -1}})
    again = probe("t_mem_big", environ)
    peak_mb = again["maxrss_kb"] / 1024
    print(f"re-synced over the existing files: peak RSS {peak_mb:.0f} MB, {again['seconds']} s")
    parts = storage.list_partitions(ENV, DB, "t_mem_big")
    assert again["files"] == 2, again  # both leaves rewritten, not skipped
    assert sum(p.rows for p in parts) == big_docs and len(parts) == 2  # the same versions replaced, not doubled
    assert peak_mb < PEAK_LIMIT_MB, again
    # the merge reads the existing files a slice at a time: it costs about a row group's reader per leaf
    # written at once, not more per document of the date (one reader over a whole file grew with the file)
    assert peak_mb < first_mb + MERGE_EXTRA_MB, (first_mb, again)
