"""`python -m benchmarks.nothing_new`: the fixed cost of a cycle with nothing new (issue 12's target:
≤ 15 s plus the source's own scan time), on a workspace whose lake is already synced.

Kept apart from `benchmarks.run` because it needs a synced lake and an unchanged source: run it after
`python -m benchmarks.run ... --keep-source` (the bench's own FerretDB stays up). It plans the windows
kx-lake would read now (its look-back dates), reads them with the ceiling (the source's scan time),
then runs kx-lake's cycle `--repeat` times (the first may still publish what changed since; later ones
find nothing new). Fixed cost = kx-lake's wall − the ceiling's wall over the same windows.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.contenders.plan import build_plan
from benchmarks.measure import measure
from benchmarks.workspace import DEFAULT_DATA, Workspace


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nothing_new", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--output", type=Path, help="write the measurements as JSON here")
    args = parser.parse_args(argv)
    ws = Workspace(args.data_dir.resolve())
    from kx_lake.lib.config import ProjectConfig, Settings

    project = ProjectConfig.load(Settings.resolve(environ=ws.environ()))
    plan = build_plan(project, ws.env, list(project.enabled_collections), "nothing-new")
    plan_file = plan.write(ws.root / "plans" / "nothing-new.json")
    rows = [measure(ws, "ceiling-raw", plan_file, "nothing-new")]
    rows += [measure(ws, "kx-lake", plan_file, f"nothing-new-{i}") for i in range(args.repeat)]
    scan = rows[0].wall_s
    for m in rows:
        extra = "" if m.contender != "kx-lake" else f"  fixed cost (wall − scan) {m.wall_s - scan:6.1f} s"
        print(f"{m.contender:<12} {m.phase:<14} {m.documents:>7,} docs  wall {m.wall_s:6.1f} s  CPU {m.cpu_s:6.1f} s"
              f"  source CPU {m.server_cpu_s or 0:6.1f} s{extra}")
    if args.output:
        args.output.write_text(json.dumps([m.to_dict() for m in rows], indent=1))


if __name__ == "__main__":
    main()
