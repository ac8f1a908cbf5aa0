"""Memory does not grow with a collection's size: stage + publish of 4N documents peaks at about the
same resident memory as of N documents (same shape: ~1.5 KB each, 60 dates, 3 facilities), because
extraction streams batches, the spool holds raw BSON on disk and publication converts a date at a time.

Each sync runs in its own interpreter (kx_lake_tests/integration/sync_probe.py), whose own peak
(VmHWM, fixtures/own_peak.py — not ru_maxrss, which carries the session's) is that sync's alone.

Sizing (measured here with VmHWM, 2026-12-07): staging — the reader's batches (5000 documents,
decoded twice, the previous batch still referenced while the next is decoded) and the spool of raw
BSON on disk — peaks at ~264 MB (after imports ~95 MB) for 16k, 64k, 128k, 256k and 512k documents
alike, so STEADY_STATE_SLACK_MB holds the staging peak: 4N above N by more than that means something
is kept per document (the extra 48k documents' raw BSON alone is ~70 MB). Publication converts one
date at a time, so its working set follows the documents per date (a date's dicts, Arrow batches and
row groups, plus what the allocators keep): 264 → 306 → ~345 MB for 267 → 1,067 → 2,133 documents per
date, then level (344–359 MB up to 8,533 per date), and it varies by ~50 MB between runs of one size;
tracemalloc and pyarrow.total_allocated_bytes() show nothing left per document after it. So the whole
peak is held to ALLOWED_GROWTH × N's + ALLOWED_SLACK_MB, and the bound by bytes of a big date is
test_lake_memory_bytes.py's. Inserts run at ~9k docs/s and scans at ~4k docs/s: about 40 s.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from bson import ObjectId

from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.scratch_lake import scratch_environ

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ENV = "env1"
DB = "hims_admin"
N = 16_000
FIRST = date(2026, 1, 1)
DAYS = 60
ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
t_mem_small,hims_admin,updated_at,date,facility_id,true
t_mem_large,hims_admin,updated_at,date,facility_id,true
"""
ALLOWED_GROWTH = 1.3
ALLOWED_SLACK_MB = 40
STEADY_STATE_SLACK_MB = 25


def documents(n: int, seed: int):
    """n documents of ~1.5 KB of BSON, spread evenly over DAYS dates (IST) and 3 facilities."""
    rng = random.Random(seed)
    words = ["fever", "cough", "review", "follow-up", "dressing", "x-ray", "ecg", "cbc", "discharge", "ward"]
    start = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=UTC) - timedelta(hours=5, minutes=30)
    step_ms = DAYS * 86_400_000 // n
    for i in range(n):
        yield {
            "_id": ObjectId(),
            "updated_at": start + timedelta(milliseconds=i * step_ms + rng.randrange(step_ms)),
            "facility_id": f"F{i % 3 + 1}",
            "patient": {"uhid": 910000000000 + rng.randrange(10**8), "name": f"Patient {rng.randrange(10**6)}",
                        "age": rng.randrange(1, 95), "city": rng.choice(["Pune", "Indore", "Mysuru"])},
            "amount": round(rng.uniform(100, 50_000), 2),
            "items": [{"code": f"SVC{rng.randrange(1000):03d}", "qty": rng.randrange(1, 5),
                       "rate": round(rng.uniform(10, 900), 2)} for _ in range(8)],
            "tags": rng.sample(words, 4),
            "notes": " ".join(rng.choice(words) for _ in range(110)),
        }


def insert(coll, n: int, seed: int) -> None:
    batch = []
    for doc in documents(n, seed):
        batch.append(doc)
        if len(batch) == 2000:
            coll.insert_many(batch, ordered=False)
            batch = []
    if batch:
        coll.insert_many(batch, ordered=False)


def probe(collection: str, environ: dict[str, str]) -> dict:
    last = FIRST + timedelta(days=DAYS - 1)
    proc = subprocess.run(
        [sys.executable, "-m", "kx_lake_tests.integration.sync_probe", ENV, collection, FIRST.isoformat(),
         last.isoformat()],
        env=environ, capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def scratch(local_source, tmp_path: Path):
    client = local_source.client(ENV)
    names = ("t_mem_small", "t_mem_large")
    for name in names:
        client[DB][name].drop()
    yield client[DB]
    for name in names:
        client[DB][name].drop()


def test_peak_memory_does_not_grow_with_collection_size(local_source, scratch, tmp_path: Path) -> None:
    import bson

    sample = next(documents(1, 0))
    assert 1_300 <= len(bson.encode(sample)) <= 1_800, len(bson.encode(sample))
    insert(scratch.t_mem_small, N, seed=1)
    insert(scratch.t_mem_large, 4 * N, seed=2)

    environ, root = scratch_environ(local_source, tmp_path, ROWS)

    small = probe("t_mem_small", environ)
    large = probe("t_mem_large", environ)
    mb = lambda kb: kb / 1024  # noqa: E731
    print(f"\nN={N}: peak RSS {mb(small['maxrss_kb']):.1f} MB (after imports {mb(small['rss_before_kb']):.1f} MB, "
          f"{small['seconds']} s); 4N={4 * N}: peak RSS {mb(large['maxrss_kb']):.1f} MB "
          f"(after imports {mb(large['rss_before_kb']):.1f} MB, {large['seconds']} s); staging peaks "
          f"{mb(small['staged_peak_kb']):.1f} / {mb(large['staged_peak_kb']):.1f} MB")

    # the probes really synced everything: every document, one file per date × facility
    storage = LakeStorage.from_root(str(root))
    for name, result, n in (("t_mem_small", small, N), ("t_mem_large", large, 4 * N)):
        assert result["rows"] == n and result["files"] == DAYS * 3, (name, result)
        parts = storage.list_partitions(ENV, DB, name)
        assert sum(p.rows for p in parts) == n and len({p.date for p in parts}) == DAYS

    assert mb(large["maxrss_kb"]) < ALLOWED_GROWTH * mb(small["maxrss_kb"]) + ALLOWED_SLACK_MB, (small, large)
    assert mb(large["staged_peak_kb"]) - mb(small["staged_peak_kb"]) < STEADY_STATE_SLACK_MB, (small, large)
