"""Memory is bounded by bytes, not documents: one date holding BIG_DOCS documents of ~1 MB (more bytes
than the RSS ceiling) syncs under PEAK_LIMIT_MB, and a collection stamped with one migration timestamp
peaks at about the same memory whatever its size. Each sync runs in its own interpreter
(sync_probe.py), so ru_maxrss is that sync's peak alone.

What keeps it bounded: the reader sizes batches by bytes (FerretDB would otherwise send 5000 × 1 MB in
one reply, which the driver refuses), the spool is read back in chunks capped by bytes, and a date is
converted chunk by chunk into per-leaf files on disk that stream into Parquet (lake/leaves.py); no
Arrow array ever holds more than a chunk, far from the 2 GiB offset limit.

Sizing: BIG_DOCS = 2,000 (2 GB of documents, above the 1.5 GB ceiling, so holding the date in memory
fails the test); the issue's 5,000 takes ~17 minutes here, as FerretDB inserts and scans ~8 MB/s.
The 1 MB strings are built from random words so zstd does not make the lake trivial.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import bson
import pytest

from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.storage import LakeStorage

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ENV, DB = "env1", "hims_admin"
DAY = date(2026, 1, 2)
STAMP = datetime(2026, 1, 2, 6, 0, tzinfo=UTC)  # one instant: the migration's, and the big date's
BIG_DOCS = 200
PEAK_LIMIT_MB = 1_536
MIGRATION_N = 16_000
STEADY_STATE_SLACK_MB = 30
ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
t_mem_big,hims_admin,updated_at,date,facility_id,true
t_mig_small,hims_admin,updated_at,date,,true
t_mig_large,hims_admin,updated_at,date,,true
"""


def big_documents(n: int):
    rng = random.Random(7)
    words = [f"w{rng.randrange(10**6):06d}" for _ in range(5000)]
    for i in range(n):
        text = " ".join(rng.choices(words, k=125_000))  # ~1 MB
        yield {"_id": f"B{i:05d}", "updated_at": STAMP, "facility_id": f"F{i % 2 + 1}", "note": text, "n": i}


def migrated_documents(n: int, seed: int):
    rng = random.Random(seed)
    for i in range(n):
        yield {"_id": bson.ObjectId(), "updated_at": STAMP, "legacy_id": f"L{seed}-{i}", "n": i,
               "payload": {"items": [{"code": f"C{rng.randrange(999)}", "qty": rng.randrange(9)} for _ in range(20)],
                           "notes": "migrated " * 60}}


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
    names = ("t_mem_big", "t_mig_small", "t_mig_large")
    for name in names:
        db[name].drop()
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    shutil.copy(DEFAULT_CONFIG_DIR / "environments.yaml", cfg)
    (cfg / "collections.csv").write_text(ROWS)
    root = tmp_path / "lake"
    environ = {**os.environ, "KX_LAKE_CONFIG_DIR": str(cfg), "KX_LAKE_HOME": str(local_source.settings.home),
               "KX_LAKE_ROOT": str(root)}
    yield db, environ, LakeStorage.from_root(str(root))
    for name in names:
        db[name].drop()


def test_a_date_of_1mb_documents_syncs_under_the_memory_ceiling(scratch) -> None:
    db, environ, storage = scratch
    sample = next(big_documents(1))
    assert 900_000 <= len(bson.encode(sample)) <= 1_100_000
    insert(db.t_mem_big, big_documents(BIG_DOCS), batch=10)
    result = probe("t_mem_big", environ)
    peak_mb = result["maxrss_kb"] / 1024
    print(f"\n{BIG_DOCS} documents of ~1 MB on one date: peak RSS {peak_mb:.0f} MB "
          f"(after imports {result['rss_before_kb'] / 1024:.0f} MB), {result['seconds']} s")
    parts = storage.list_partitions(ENV, DB, "t_mem_big")
    assert result["rows"] == BIG_DOCS and sum(p.rows for p in parts) == BIG_DOCS and len(parts) == 2
    assert peak_mb < PEAK_LIMIT_MB, result


def test_a_collection_stamped_with_one_timestamp_peaks_the_same_at_any_size(scratch) -> None:
    db, environ, storage = scratch
    insert(db.t_mig_small, migrated_documents(MIGRATION_N, 1), batch=2000)
    insert(db.t_mig_large, migrated_documents(4 * MIGRATION_N, 2), batch=2000)
    small = probe("t_mig_small", environ)
    large = probe("t_mig_large", environ)
    mb = lambda r: r["maxrss_kb"] / 1024  # noqa: E731
    print(f"\none timestamp: N={MIGRATION_N} peak {mb(small):.0f} MB; 4N peak {mb(large):.0f} MB")
    for name, result, n in (("t_mig_small", small, MIGRATION_N), ("t_mig_large", large, 4 * MIGRATION_N)):
        assert result["rows"] == n and sum(p.rows for p in storage.list_partitions(ENV, DB, name)) == n
    # the extra 48k documents are ~150 MB of BSON: a date held in memory would show it
    assert mb(large) - mb(small) < STEADY_STATE_SLACK_MB, (small, large)
