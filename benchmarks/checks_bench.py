"""Cost of the data-quality checks in an incremental cycle: `python -m benchmarks.checks_bench --scale 0.1`.

The cycle as a user runs it (issue 12): in the benchmark's own workspace (benchmarks/data/checks, own
FerretDB), seed env1, `kx-lake sync` (full load), `kx-lake catalog refresh`, `seed --mutate --days 1`,
`kx-lake sync --json` again. The checks run inside each sync (one `quality_<database>` step per
database); their step times are read from the run's own events in the workspace's Dagster instance
(STEP_START → STEP_SUCCESS/FAILURE per step key), next to the extract steps' total for scale.
Prints one JSON line per scale and writes benchmarks/data/results/checks.json.

`--cycle-only` runs just one more `seed --mutate --days 1` + `kx-lake sync --json` on an existing
workspace: run it from two checkouts (the code each child imports is the checkout's, PYTHONPATH) one
after the other on the same lake to compare two versions of the checks on identical data and scope.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.workspace import DEFAULT_DATA, REPO, Workspace, run_scales

_STEP_TIMES = """
import json, sys
import dagster as dg
instance = dg.DagsterInstance.get()
out = {}
for run_id in sys.argv[1:]:
    starts, ends = {}, {}
    for kind, ends_or_starts in ((dg.DagsterEventType.STEP_START, starts), (dg.DagsterEventType.STEP_SUCCESS, ends),
                                 (dg.DagsterEventType.STEP_FAILURE, ends)):
        for rec in instance.get_records_for_run(run_id, of_type=kind, limit=100000).records:
            ends_or_starts[rec.event_log_entry.step_key] = rec.event_log_entry.timestamp
    for step, started in starts.items():
        if step in ends:
            out[step] = out.get(step, 0.0) + ends[step] - started
print(json.dumps(out))
"""


def step_times(ws: Workspace, run_ids: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _STEP_TIMES, *run_ids], env=ws.environ(), cwd=REPO, text=True,
                         capture_output=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed_sync(ws: Workspace) -> dict:
    started = time.monotonic()
    summary = json.loads(ws.kx("sync", "--env", ws.env, "--json"))
    wall = time.monotonic() - started
    steps = step_times(ws, summary["run_ids"])
    quality = {k: round(v, 2) for k, v in sorted(steps.items()) if k.startswith("quality_")}
    # the largest child process so far: in --cycle-only the sync (the seed's mutation and the event reader
    # are smaller); in a full run the seeding and `catalog refresh` before the incremental sync count too
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(peak_mb), "rows": summary["rows"],
            "quality_s": round(sum(quality.values()), 1),
            "other_steps_s": round(sum(v for k, v in steps.items() if not k.startswith("quality_")), 1),
            "quality_steps": quality}


def run_scale(ws: Workspace, scale: float, seed: int) -> dict:
    log = lambda msg: print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    ws.fresh_source(scale, seed, log)
    ws.reset_outputs()
    log("full load…")
    full = timed_sync(ws)
    log(f"full load: {full['wall_s']} s, checks {full['quality_s']} s; catalog refresh…")
    started = time.monotonic()
    ws.kx("catalog", "refresh", "--env", ws.env)
    refresh_s = time.monotonic() - started
    ws.mutate(1)
    log("incremental cycle…")
    incremental = timed_sync(ws)
    log(f"incremental: {incremental['wall_s']} s, checks {incremental['quality_s']} s")
    return {"scale": scale, "catalog_refresh_s": round(refresh_s, 1), "full": full, "incremental": incremental}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.checks_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="0.1")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA / "checks"))
    parser.add_argument("--cycle-only", action="store_true", help="mutate + one sync on the existing workspace")
    args = parser.parse_args(argv)
    ws = Workspace(Path(args.data_dir))
    if args.cycle_only:
        ws.source_up()
        try:
            ws.mutate(1)
            print(json.dumps({"cycle": timed_sync(ws)}), flush=True)
        finally:
            ws.source_down()
        return
    run_scales(ws, args.scale, lambda w, scale: run_scale(w, scale, args.seed), "checks")


if __name__ == "__main__":
    main()
