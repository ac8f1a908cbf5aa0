"""Compare every collection's `_latest` view with MongoDB, per environment (lib/lake/source_compare.py).

Usage (after `kx-lake sync` / `kx-lake reconcile` and `kx-lake catalog refresh --env E`, or pass --refresh):
    .venv/bin/python scripts/compare_lake_source.py env1 [env2 ...] [--refresh] [--json]
Prints per environment: collections, documents in MongoDB, unplaceable ones (kx_rejects), rows in
`_latest`, and each collection whose (_id, _kx_id_type, timestamp) set differs (missing, extra, stale,
duplicated). Exit 0 when every collection of every environment is equal, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from pymongo import MongoClient

from kx_lake.lib.catalog import duckdb_catalog
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.lake.source_compare import compare_collection
from kx_lake.lib.source.uri import resolve_mongo_uri


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("envs", nargs="+")
    parser.add_argument("--refresh", action="store_true", help="refresh the catalog's tables and _latest views first")
    parser.add_argument("--json", action="store_true", help="one JSON object per environment")
    args = parser.parse_args(argv)
    project = ProjectConfig.load(Settings.resolve())
    equal = True
    for env in args.envs:
        started = time.monotonic()
        if args.refresh:  # tables and _latest views only: the datasets are `kx-lake catalog refresh`'s
            duckdb_catalog.refresh(project, env, views=[])
        client = MongoClient(resolve_mongo_uri(project, env), tz_aware=True)
        con = duckdb_catalog.connect(project, env)
        try:
            now_ms = int(time.time() * 1000)
            rows = [compare_collection(con, client, project, env, s, now_ms) for s in project.enabled_collections]
        finally:
            con.close()
            client.close()
        bad = [r for r in rows if not r.equal]
        equal = equal and not bad
        totals = {k: sum(getattr(r, k) for r in rows) for k in ("source", "unplaceable", "latest", "missing", "extra",
                                                                "stale", "duplicates")}
        summary = {"env": env, "collections": len(rows), **totals, "mismatched_collections": len(bad),
                   "seconds": round(time.monotonic() - started, 1)}
        if args.json:
            print(json.dumps({**summary, "mismatches": [r.to_dict() for r in bad]}))
            continue
        print(" ".join(f"{k}={v}" for k, v in summary.items()))
        for r in bad:
            print(f"  DIFF {r.database}.{r.collection}: source {r.source} (unplaceable {r.unplaceable}), latest "
                  f"{r.latest}, missing {r.missing}, extra {r.extra}, stale {r.stale}, duplicates {r.duplicates}")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
