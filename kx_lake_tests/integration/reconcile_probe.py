"""Run the reconcile diff of one collection in a fresh interpreter and report its peak memory, for
test_reconcile_memory.py: the real lake-key reader (lake_keys over the Parquet files of the lake in
KX_LAKE_ROOT) and a synthetic source-key stream, both streamed into reconcile_diff.KeyDiff
(`KeyDiff.load`, as the pass does), then every result read back as the pass reads it, and the
dates to repair read again from the lake (the pass's second step).

The source stream is synthetic because a source of millions of documents is what the test needs and
the local FerretDB scans ~25k documents/s; its chunks have exactly source_keys' schema and size.
Lake and source are generated from the document number i (24-character ids, as long as ObjectIds):
i % 128 == 1 is gone from the source, == 2 newer at the source (stale), and n // 128 documents are
at the source only (missing from the lake).

    python -m kx_lake_tests.integration.reconcile_probe ENV COLLECTION DOCUMENTS MEMORY_LIMIT
prints one JSON line: the counts, seconds, and in KiB hwm_before_kb (after imports) and hwm_kb: the
peak resident memory of this program (VmHWM), with maxrss_kb (ru_maxrss) beside it. ru_maxrss is
not this program's alone: Linux carries the parent's peak across the exec (a process spawned by a
400 MB pytest reports >= 400 MB), which would hide any growth below the test session's size.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from kx_lake.lib.config import CollectionSpec, ProjectConfig, Settings
from kx_lake.lib.lake.pipeline import storage_for
from kx_lake.lib.lake.reconcile_diff import SOURCE_SCHEMA, KeyDiff
from kx_lake.lib.lake.reconcile_keys import CHUNK, lake_keys
from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.own_peak import peak_kb

FIRST = date(2026, 1, 1)
PER_DAY = 5_000  # documents per date (one file each): N spans more dates than lake_keys reads at once
EVERY = 128
GONE, STALE = 1, 2  # i % EVERY: gone from the source, newer at the source
ID_TYPE = "objectId"


def _ids(numbers: pa.Array) -> pa.Array:
    return pc.utf8_lpad(pc.cast(numbers, pa.string()), 24, "0")


def _stamps(numbers: pa.Array) -> pa.Array:
    """Naive wall-clock ms (the lake's convention): document i on date FIRST + i // PER_DAY."""
    epoch_day = (FIRST - date(1970, 1, 1)).days
    day = pc.divide(numbers, PER_DAY)  # integer division
    within = pc.subtract(numbers, pc.multiply(day, PER_DAY))
    return pc.add(pc.multiply(pc.add(day, epoch_day), 86_400_000), pc.multiply(within, 8_000))


def write_lake(storage: LakeStorage, env: str, spec: CollectionSpec, n: int) -> int:
    """n documents of `spec` in the lake through the lake writer, PER_DAY per date, one facility;
    returns the number of files."""
    schema = pa.schema([("_id", pa.string()), ("_kx_id_type", pa.string()), (spec.timestamp_column, pa.timestamp("ms")),
                        ("facility_id", pa.string())])
    files = 0
    for lo in range(0, n, PER_DAY):
        numbers = pa.array(range(lo, min(n, lo + PER_DAY)), pa.int64())
        batch = pa.record_batch([_ids(numbers), pa.repeat(pa.scalar(ID_TYPE), len(numbers)),
                                 _stamps(numbers).cast(pa.timestamp("ms")), pa.repeat(pa.scalar("F1"), len(numbers))],
                                schema=schema)
        day = FIRST + timedelta(days=lo // PER_DAY)
        files += len(storage.write_partition(env, spec.database, spec.collection, day, {("F1",): [batch]}, schema,
                                             id_columns=["facility_id"]))
    return files


def source_chunks(n: int) -> Iterator[pa.Table]:
    """The source's keys in chunks of source_keys' size: the lake's documents less the gone ones, the
    stale ones 1 s newer, then n // EVERY documents the lake lacks."""
    for lo in range(0, n, CHUNK):
        numbers = pa.array(range(lo, min(n, lo + CHUNK)), pa.int64())
        kind = pc.bit_wise_and(numbers, EVERY - 1)
        stamps = pc.if_else(pc.equal(kind, STALE), pc.add(_stamps(numbers), 1_000), _stamps(numbers))
        table = pa.table([_ids(numbers), pa.repeat(pa.scalar(ID_TYPE), len(numbers)), stamps], schema=SOURCE_SCHEMA)
        yield table.filter(pc.not_equal(kind, GONE))
    for lo in range(0, n // EVERY, CHUNK):
        numbers = pa.array(range(lo, min(n // EVERY, lo + CHUNK)), pa.int64())
        yield pa.table([_ids(pc.add(numbers, n)), pa.repeat(pa.scalar(ID_TYPE), len(numbers)), _stamps(numbers)],
                       schema=SOURCE_SCHEMA)


def expected(n: int) -> dict[str, int]:
    kinds = [sum(1 for i in range(k, n, EVERY)) for k in (GONE, STALE)]
    return {"source_documents": n - kinds[0] + n // EVERY, "latest_ids": n, "missing": n // EVERY,
            "stale": kinds[1], "deleted": kinds[0], "rejected": 0, "withdrawn": 0}


def main(env: str, collection: str, documents: str, memory_limit: str) -> dict:
    n = int(documents)
    project = ProjectConfig.load(Settings.resolve())
    spec, env_spec = project.collection(collection), project.environment(env)
    storage = storage_for(project, env_spec)
    hwm_before = peak_kb()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kx-reconcile-probe-") as work:
        diff = KeyDiff(Path(work), memory_limit)
        counts = diff.load(source_chunks(n), lake_keys(storage, env, spec, tz=env_spec.tz))
        stages = {"compared": peak_kb()}
        gone = sum(1 for _ in diff.gone())
        repair = sum(1 for _ in diff.to_repair())
        withdrawals = sum(1 for _ in diff.withdrawals())
        days = sorted({(date(1970, 1, 1) + timedelta(milliseconds=b * 900_000)) for b in diff.repair_buckets()})
        stages["results_read"] = peak_kb()
        diff.close(remove=False)
        again = KeyDiff(Path(work), memory_limit, fresh=False)
        for chunk in lake_keys(storage, env, spec, days, tz=env_spec.tz):
            again.add_after(chunk)
        repaired = again.repaired()
        again.close()
    return {
        "counts": counts.__dict__, "gone_rows": gone, "repair_rows": repair, "withdrawals": withdrawals,
        "repair_days": len(days), "repaired": repaired,
        "seconds": round(time.monotonic() - started, 2),
        "hwm_before_kb": hwm_before,
        "hwm_stages_kb": stages,
        "hwm_kb": peak_kb(),
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5])))
