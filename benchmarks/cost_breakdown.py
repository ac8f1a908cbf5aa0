"""`python -m benchmarks.cost_breakdown`: where kx-lake's per-document CPU goes, without Dagster.

Runs `stage_collection` then `publish_staged` for each collection (a full load into a scratch lake)
on the benchmark's own running source (`python -m benchmarks.run ... --keep-source` leaves it up),
single-threaded under cProfile, and prints CPU per document for each phase (read + decode, route +
spool, schema inference, spool read-back + decode, conversion, Parquet write, merge with existing
files) and the top functions. Comparing its total with the kx-lake contender's CPU in the same
workspace gives Dagster's share. A measuring tool, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.workspace import DEFAULT_DATA, Workspace

# (phase, function name substrings as pstats prints them "file:line(name)"); cumulative time
PHASES = [
    ("source read + raw/dict decode (iter_window)", "reader.py", "iter_window"),
    ("schema inference (observe_many)", "infer.py", "observe_many"),
    ("spool read-back + decode", "spool.py", "read"),
    ("conversion (Converter.convert)", "convert.py", "convert"),
    ("Parquet write + merge (write_partition)", "lake.py", "write_partition"),
    ("merge with existing files (_merge_existing)", "lake.py", "_merge_existing"),
    ("stage total", "pipeline.py", "stage_collection"),
    ("publish total", "pipeline.py", "publish_staged"),
]


def _cumulative(stats: pstats.Stats, file_part: str, name: str) -> float:
    total = 0.0
    for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if func == name and filename.endswith(file_part):
            total += ct
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cost_breakdown", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--collections", help="comma-separated subset (default: all enabled)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--output", type=Path, help="also write the pstats dump here")
    args = parser.parse_args(argv)
    ws = Workspace(args.data_dir.resolve())
    scratch = Path(tempfile.mkdtemp(prefix="kx-cost-"))
    environ = {**ws.environ(), "KX_LAKE_ROOT": str(scratch / "lake")}

    from pymongo import MongoClient

    from kx_lake.lib.config import ProjectConfig, Settings
    from kx_lake.lib.lake.pipeline import publish_staged, stage_collection
    from kx_lake.lib.lake.plan import plan_sync
    from kx_lake.lib.source.uri import resolve_mongo_uri

    project = ProjectConfig.load(Settings.resolve(environ=environ))
    specs = list(project.enabled_collections)
    if args.collections:
        wanted = set(args.collections.split(","))
        specs = [s for s in specs if s.collection in wanted]
    client = MongoClient(resolve_mongo_uri(project, ws.env), tz_aware=True)
    groups = plan_sync(project, ws.env, specs)
    profiler = cProfile.Profile()
    rows = 0
    started, cpu_started = time.monotonic(), time.process_time()
    try:
        for group in groups:
            days = _dates(group.first, group.last)
            for spec in group.collections:
                profiler.enable()
                staged = stage_collection(client=client, project=project, env=ws.env, spec=spec, dates=days,
                                          staging_dir=scratch / "staging" / "run")
                publish_staged(project, staged)
                profiler.disable()
                rows += staged.rows
    finally:
        client.close()
        shutil.rmtree(scratch, ignore_errors=True)
    wall, cpu = time.monotonic() - started, time.process_time() - cpu_started
    stats = pstats.Stats(profiler)
    print(f"{rows:,} documents, {len(specs)} collections: wall {wall:.1f} s, CPU {cpu:.1f} s "
          f"({cpu / max(rows, 1) * 1e3:.3f} ms CPU per document; profiler overhead included)")
    for label, file_part, name in PHASES:
        seconds = _cumulative(stats, file_part, name)
        print(f"  {label:<48} {seconds:8.1f} s  {seconds / max(rows, 1) * 1e3:7.3f} ms/doc")
    if args.output:
        stats.dump_stats(str(args.output))
    stats.sort_stats("tottime").print_stats(args.top)


def _dates(first, last):  # noqa: ANN001, ANN202
    from datetime import timedelta

    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


if __name__ == "__main__":
    main()
