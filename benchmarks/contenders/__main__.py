"""`python -m benchmarks.contenders NAME PLAN.json [options]`: run one contender, print one JSON line."""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

from benchmarks.contenders.plan import Plan


def main() -> None:
    warnings.simplefilter("ignore")  # pymongoarrow's pyarrow ABI-size warnings would drown the output
    parser = argparse.ArgumentParser()
    parser.add_argument("name", choices=["ceiling-raw", "ceiling-arrow", "kx-lake", "spark", "dlt"])
    parser.add_argument("plan", type=Path)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--dlt-format", default="object", choices=["object", "arrow"])
    parser.add_argument("--profile", help="write a pyinstrument text profile here (kx-lake only)")
    args = parser.parse_args()
    plan = Plan.read(args.plan)
    started = time.monotonic()
    if args.name.startswith("ceiling"):
        from benchmarks.contenders import ceiling

        result = ceiling.run(plan, args.name.split("-", 1)[1])
    elif args.name == "kx-lake":
        from benchmarks.contenders import kxlake

        result = kxlake.run(plan, args.profile)
    elif args.name == "spark":
        from benchmarks.contenders import sparkload

        result = sparkload.run(plan, args.workdir)
    else:
        from benchmarks.contenders import dltload

        result = dltload.run(plan, args.workdir, args.dlt_format)
    result["work_s"] = round(time.monotonic() - started, 3)  # without interpreter start-up and imports
    print("BENCH_RESULT " + json.dumps(result, default=str))


if __name__ == "__main__":
    main()
