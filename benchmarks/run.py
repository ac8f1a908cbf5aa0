"""`python -m benchmarks.run --scale 1`: the whole benchmark in one command (also `make bench`).

Per scale, on one environment of a private workspace (benchmarks/data/, its own FerretDB):
  1. fresh source: seed (or restore the seeded copy) — identical documents every run;
  2. full load: read ceiling (raw, arrow) over kx-lake's full windows, kx-lake, its Spark engine
     (local[2], its own lake; start-up timed apart), dlt;
  3. dashboard site (kx-lake's lake, all collections): catalog refresh, then every page over HTTP,
     first request after start, warm, and a filter change (site_pages.py) — the refresh also gives
     the incremental cycle its catalog, so its data-quality checks run as the hourly schedule's do;
  4. `seed --mutate --days 1`;
  5. incremental cycle: the ceiling over the windows kx-lake now plans, kx-lake (checks on), the
     Spark engine, dlt (its own cursor);
  6. a cycle with nothing new: the same planned windows again, the ceiling then kx-lake (its fixed
     cost is its wall minus the ceiling's scan of those windows).
Each contender is a child process measured from outside (measure.py). Results: a rich table and
benchmarks/results/latest.json (and one JSON per run beside it, gitignored under data/).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from benchmarks import report
from benchmarks.contenders.plan import build_plan
from benchmarks.measure import measure
from benchmarks.site_pages import measure_pages
from benchmarks.workspace import BENCH_DIR, DEFAULT_DATA, Workspace

ALL = ("ceiling-raw", "ceiling-arrow", "kx-lake", "spark", "dlt")


def _project(ws: Workspace, lake: Path | None = None):  # noqa: ANN202
    from kx_lake.lib.config import ProjectConfig, Settings

    environ = ws.environ()
    if lake is not None:
        environ["KX_LAKE_ROOT"] = str(lake)
    return ProjectConfig.load(Settings.resolve(environ=environ))


def _load() -> str:
    import os

    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_scale(ws: Workspace, scale: float, args: argparse.Namespace, console: Console) -> dict:
    log = console.log
    project = _project(ws)
    specs = list(project.enabled_collections)
    if args.collections:
        wanted = {c.strip() for c in args.collections.split(",") if c.strip()}
        specs = [s for s in specs if s.collection in wanted]
        if len(specs) != len(wanted):
            raise SystemExit(f"unknown collection(s): {sorted(wanted - {s.collection for s in specs})}")
    contenders = [c for c in ALL if c in args.contenders.split(",")]
    seed_s = ws.fresh_source(scale, args.seed, log)
    ws.reset_outputs()
    load_before = _load()
    plans_dir = ws.root / "plans"
    measurements = []

    # the windows the measured engine plans from its own lake's state: kx-lake's, or Spark's when only
    # Spark is measured (kx-lake's lake then holds no state, and every window would be the whole history)
    planning_lake = ws.spark_lake if "spark" in contenders and "kx-lake" not in contenders else None

    def phase(name: str, only: tuple[str, ...] = ALL) -> None:
        plan = build_plan(_project(ws, planning_lake), ws.env, specs, name)
        plan_file = plan.write(plans_dir / f"{name}.json")
        for contender in (c for c in contenders if c in only):
            extra: list[str] = []
            if contender == "dlt":
                extra = ["--workdir", str(ws.dlt_dir), "--dlt-format", args.dlt_format]
            if contender == "spark":
                extra = ["--workdir", str(ws.spark_lake)]
            if contender == "kx-lake" and args.profile:
                extra = ["--profile", str(ws.root / "logs" / f"kx-lake-{name}.profile.txt")]
            log(f"{name}: {contender} over {len(plan.items)} collections…")
            m = measure(ws, contender, plan_file, name, *extra, log=log)
            log(f"  {m.documents:,} docs in {m.wall_s:.1f}s, CPU {m.cpu_s:.1f}s, peak RSS {m.peak_rss_mb:.0f} MB"
                + (f", [red]{len(m.failed)} failed[/]: {list(m.failed)[:5]}" if m.failed else ""))
            measurements.append(m)

    phase("full")
    site = None
    if "kx-lake" in contenders and not args.collections and not args.no_site:
        log("dashboard site: catalog refresh, then every page over HTTP…")
        site = measure_pages(ws, log)
    log("seed --mutate --days 1…")
    started = time.monotonic()
    ws.mutate(1)
    mutate_s = time.monotonic() - started
    phase("incremental")
    phase("nothing-new", only=("ceiling-raw", "kx-lake"))
    report.fill_bytes(measurements)
    return {
        "scale": scale, "env": ws.env, "collections": len(specs), "seed": args.seed,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"), "load_before": load_before,
        "load_after": _load(), "seed_s": round(seed_s, 1), "mutate_s": round(mutate_s, 1),
        "dlt_format": args.dlt_format,
        "measurements": [m.to_dict() for m in measurements],
        "ratios": report.ratios(measurements), "targets": report.targets(measurements, scale),
        "site": site,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="0.05", help="scale, or several comma-separated (a cost curve)")
    parser.add_argument("--collections", help="comma-separated subset (default: all enabled collections)")
    parser.add_argument("--contenders", default=",".join(ALL), help=f"subset of {','.join(ALL)}")
    parser.add_argument("--dlt-format", default="object", choices=["object", "arrow"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="workspace (default benchmarks/data)")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results" / "latest.json")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profiles of kx-lake into <data>/logs")
    parser.add_argument("--no-site", action="store_true", help="skip the dashboard site's page times")
    parser.add_argument("--keep-source", action="store_true", help="leave the benchmark's FerretDB running")
    args = parser.parse_args(argv)
    console = Console(width=150) if not Console().is_terminal else Console()
    ws = Workspace(args.data_dir.resolve())
    runs = []
    try:
        for scale in (float(s) for s in args.scale.split(",")):
            runs.append(run_scale(ws, scale, args, console))
            report.print_run(console, runs[-1])
            report.to_json(runs, args.output)  # after every scale: a long curve keeps what it measured
    finally:
        if not args.keep_source:
            ws.source_down()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    report.to_json(runs, ws.root / "results" / f"run-{stamp}.json")
    console.print(f"results: {args.output}")


if __name__ == "__main__":
    main()
