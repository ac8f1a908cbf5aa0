"""Memory and time of the reconcile diff alone on one synthetic 10-million-document collection:
`python -m benchmarks.reconcile_diff_bench [--documents 10000000]`.

Source and lake keys (24-character hex `_id`s, like ObjectIds) are generated in 500k chunks and
streamed into lib.lake.reconcile_diff.KeyDiff exactly as the reconcile pass streams them (the source
scan and the Parquet reads are not part of this figure); 1% of the lake's documents are missing, 1%
stale, 1% gone from the source. Prints wall time, peak RSS of this process and the counts.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from kx_lake.lib.lake.reconcile_diff import KeyDiff

CHUNK = 500_000


def _ids(start: int, stop: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(range(start, stop), pa.int64()), pa.string()), 24, "0")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reconcile_diff_bench")
    parser.add_argument("--documents", type=int, default=10_000_000)
    args = parser.parse_args(argv)
    n = args.documents
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kx-reconcile-bench-") as tmp:
        diff = KeyDiff(Path(tmp))
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK)
            ids = _ids(lo, hi)
            ts = pa.array(range(lo, hi), pa.int64())
            keep_src = pc.not_equal(pc.bit_wise_and(ts, 127), 1)  # ~1% gone from the source
            newer = pc.if_else(pc.equal(pc.bit_wise_and(ts, 127), 2), pc.add(ts, 1), ts)  # ~1% stale in the lake
            types = pa.array(["objectId"] * (hi - lo))
            diff.add_source(pa.table({"id": ids, "t": types, "ts": newer}).filter(keep_src))
            in_lake = pc.not_equal(pc.bit_wise_and(ts, 127), 3)  # ~1% missing from the lake
            diff.add_lake(pa.table({
                "id": ids, "t": types, "ts": ts,
                "deleted": pa.nulls(hi - lo, pa.bool_()), "day": pa.array([date(2026, 1, 1)] * (hi - lo), pa.date32()),
                "leaf": pa.array([["F1"]] * (hi - lo), pa.list_(pa.string())),
            }).filter(in_lake))
        loaded = time.monotonic() - started
        counts = diff.compare()
        gone = sum(1 for _ in diff.gone())
        repair = sum(1 for _ in diff.to_repair())
        diff.close()
    print(json.dumps({
        "documents": n, "load_s": round(loaded, 1), "total_s": round(time.monotonic() - started, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "counts": counts.__dict__, "gone_rows": gone, "repair_rows": repair,
    }))


if __name__ == "__main__":
    main()
