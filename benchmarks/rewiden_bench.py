"""Throughput of rewriting lake rows to a widened schema (harmonize.widen_batch), single core.

    .venv/bin/python benchmarks/rewiden_bench.py [--rows 100000] [--seed 7] [--repeat 3]

The rows are harmonize_bench's encounter documents converted under their own schema S1, in one
batch as a Parquet file holds them. S2 widens S1 the ways a source drifts: an int becomes text
(hospitalId), a nested int a double (vitals.pulse), bare strings join an array of objects
(diagnoses -> _kx_value), an int in an array of objects a decimal (medications[].doseMg), a
date meets an array (createdAt -> json), a bool meets text, a column is added. The rewrite must
equal Converter(S2) on the same documents (checked), and is compared with that re-conversion -
the cost the rewrite replaces, not counting the MongoDB read and BSON decoding it also saves.
Times are CPU time (process_time), best of --repeat.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bson import Decimal128

WIDENING = [  # documents that widen the schema; not themselves rewritten
    {"hospitalId": "H-01", "isEmergency": "unknown", "createdAt": [1], "added": 1},
    {"vitals": {"pulse": 72.5}, "diagnoses": ["E11.9"], "medications": [{"doseMg": Decimal128("2.5")}]},
]


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, not installed
    from benchmarks.harmonize_bench import make_docs
    from kx_lake.lib.harmonize import Converter, SchemaAccumulator, widen_batch, widening_risks

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tz, reserved = ZoneInfo("Asia/Kolkata"), ("date", "facility_id")
    docs = make_docs(args.rows, args.seed)
    acc = SchemaAccumulator("modifiedAt", reserved_columns=reserved)
    acc.observe_many(docs)
    s1 = acc.schema
    acc.observe_many([{"_id": i, "modifiedAt": docs[0]["modifiedAt"], **d} for i, d in enumerate(WIDENING)])
    s2 = acc.schema
    old = Converter(s1, tz, "modifiedAt", reserved_columns=reserved).convert(docs)
    changed = [n for n, t in s2.fields if s1.get(n) != t]
    print(f"{old.num_rows} rows, {len(s2.fields)} columns, changed: {', '.join(changed)}; risks: {widening_risks(s1, s2) or 'none'}")
    best_widen = best_convert = float("inf")
    for _ in range(args.repeat):
        t0 = time.process_time()
        widened = widen_batch(old, s1, s2, tz=tz, timestamp_column="modifiedAt", reserved_columns=reserved)
        t1 = time.process_time()
        converted = Converter(s2, tz, "modifiedAt", reserved_columns=reserved).convert(docs)
        t2 = time.process_time()
        best_widen, best_convert = min(best_widen, t1 - t0), min(best_convert, t2 - t1)
    assert widened.equals(converted), "the rewrite differs from the re-conversion"
    n = old.num_rows
    print(f"widen_batch:        {n / best_widen:>12,.0f} rows/s  ({best_widen:.3f} s)")
    print(f"Converter(S2) again: {n / best_convert:>11,.0f} rows/s  ({best_convert:.3f} s)")
    print(f"ratio: the rewrite is {best_convert / best_widen:.1f}x faster than re-converting decoded documents")


if __name__ == "__main__":
    main()
