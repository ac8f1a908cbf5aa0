"""Cost of a reconcile pass: `python -m benchmarks.reconcile_bench --scale 0.1,1`.

In the benchmark's own workspace (benchmarks/data/reconcile, own FerretDB): seed env1, full load
(`kx-lake sync --env env1 --all-dates`), delete 1,000 documents at the source, then `kx-lake reconcile
--env env1 --json` over every collection. Each command runs in a child process, measured alike: wall
time and the child's peak RSS (FerretDB's own work is in its server process). A second pass measures
the steady state (nothing to do).
Prints one JSON line per scale and writes benchmarks/data/results/reconcile.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from benchmarks.workspace import DEFAULT_DATA, REPO, Workspace, run_scales

# VmHWM, not ru_maxrss: the latter carries the parent's peak across the exec
_CHILD = """
import sys
from kx_lake.cli import app
try:
    app(sys.argv[1:])
finally:
    hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print("KX_MAXRSS_KB", hwm.split()[1], file=sys.stderr)
"""
DELETE_SCRIPT = """
import json, sys
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.source.uri import resolve_mongo_uri
from pymongo import MongoClient
cfg = ProjectConfig.load(Settings.resolve(None))
client = MongoClient(resolve_mongo_uri(cfg, "env1"))
left, deleted = int(sys.argv[1]), 0
for spec in cfg.enabled_collections:
    coll = client[spec.database][spec.collection]
    ids = [d["_id"] for d in coll.find({}, {"_id": 1}).limit(min(left, 50))]
    if ids:
        deleted += coll.delete_many({"_id": {"$in": ids}}).deleted_count
        left -= len(ids)
    if left <= 0:
        break
print(deleted)
"""


def measured(ws: Workspace, *args: str) -> tuple[str, float, int | None]:
    """(stdout, wall s, peak RSS MB) of `kx-lake ARGS` run in a child process."""
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", _CHILD, *args], env=ws.environ(), cwd=REPO, text=True,
                         capture_output=True)
    wall = time.monotonic() - started
    rss = [int(line.split()[1]) for line in out.stderr.splitlines() if line.startswith("KX_MAXRSS_KB")]
    if out.returncode != 0:
        raise RuntimeError(f"kx-lake {' '.join(args)} failed ({out.returncode}): "
                           f"{out.stdout[-2000:]}{out.stderr[-3000:]}")
    return out.stdout, round(wall, 1), round(rss[0] / 1024) if rss else None


def reconcile(ws: Workspace) -> dict:
    stdout, wall, rss = measured(ws, "reconcile", "--env", ws.env, "--json")
    rows = json.loads(stdout)["collections"]
    keys = ("source_documents", "latest_ids", "missing", "stale", "deleted", "tombstoned", "repaired", "rejected")
    return {"wall_s": wall, "peak_rss_mb": rss, **{k: sum(r[k] for r in rows) for k in keys},
            "failed": sum(r["status"] != "ok" for r in rows)}


def run_scale(ws: Workspace, scale: float, seed: int) -> dict:
    log = lambda msg: print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    ws.fresh_source(scale, seed, log)
    ws.reset_outputs()
    log("full load…")
    _, load_s, load_rss = measured(ws, "sync", "--env", ws.env, "--all-dates")
    files = sum(1 for _ in ws.lake.rglob("*.parquet"))
    log(f"full load: {load_s} s, peak RSS {load_rss} MB, {files} files")
    out = subprocess.run([sys.executable, "-c", DELETE_SCRIPT, "1000"], env=ws.environ(), cwd=REPO, text=True,
                         capture_output=True, check=True)
    log(f"deleted {out.stdout.strip()} documents; reconcile…")
    first = reconcile(ws)
    log(f"first pass: {first}")
    second = reconcile(ws)
    log(f"second pass: {second}")
    return {"scale": scale, "full_load_s": load_s, "full_load_peak_rss_mb": load_rss, "lake_files": files,
            "first": first, "second": second}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reconcile_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    ws = Workspace(DEFAULT_DATA / "reconcile")
    run_scales(ws, args.scale, lambda w, scale: run_scale(w, scale, args.seed), "reconcile")


if __name__ == "__main__":
    main()
