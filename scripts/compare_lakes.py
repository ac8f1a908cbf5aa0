"""Compare two lakes (one environment each) file by file; exit 1 on any difference.

Usage:
    .venv/bin/python scripts/compare_lakes.py LAKE_A/env1 LAKE_B/env1 [--ignore-state-clock]
The comparison is kx_lake_tests/fixtures/lake_compare.py, the one the Spark identity tests use: the
same relative paths, per Parquet file the same schema and rows (sorted), per JSON file the same keys
but its wall-clock stamps, rejects equal but first_seen/last_seen. --ignore-state-clock also drops
the state files' `synced_until_ms` (and its ISO form `synced_until`): it is capped at each sync's
own extraction time, so two syncs run minutes apart differ there. With it, a watermark capped at its
own run's clock (`watermark_ms` = that state's `synced_until_ms` + FUTURE_SKEW_MS: documents stamped
later today, lib/lake/state.py) is compared as "capped", not by value; any other watermark by value.
Exit codes: 0 equal, 1 a difference, 2 bad arguments (a directory that does not exist).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # kx_lake_tests, when run from anywhere

from kx_lake.lib.lake.state import FUTURE_SKEW_MS  # noqa: E402
from kx_lake_tests.fixtures.lake_compare import compare_lakes  # noqa: E402

STATE_CLOCK_KEYS = ("synced_until_ms", "synced_until")
CAPPED = "capped at this run's extraction time + FUTURE_SKEW_MS"


def capped_watermark_as_marker(state: dict) -> dict:
    """A state whose watermark is its own run's cap (synced_until_ms + FUTURE_SKEW_MS) gets a marker
    in place of the clock value, so two runs capped at their own times compare equal."""
    until, mark = state.get("synced_until_ms"), state.get("watermark_ms")
    if isinstance(until, int) and isinstance(mark, int) and mark == until + FUTURE_SKEW_MS:
        return {**state, "watermark_ms": CAPPED, "watermark": CAPPED}
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare two lakes file by file (exit 1 on a difference).")
    parser.add_argument("left", type=Path, help="an environment's directory in the first lake, e.g. LAKE_A/env1")
    parser.add_argument("right", type=Path, help="the same environment's directory in the second lake")
    parser.add_argument("--ignore-state-clock", action="store_true",
                        help="ignore the state files' synced_until_ms / synced_until (each run's clock) "
                             "and a watermark capped at it")
    args = parser.parse_args(argv)
    for side in (args.left, args.right):
        if not side.is_dir():
            parser.error(f"{side}: not a directory")
    if args.ignore_state_clock:
        result = compare_lakes(args.left, args.right, STATE_CLOCK_KEYS, capped_watermark_as_marker)
    else:
        result = compare_lakes(args.left, args.right)
    print(f"compared {result.files} files ({result.parquet_files} Parquet, {result.rows} rows), "
          f"{result.byte_identical} byte-identical; {len(result.differences)} difference(s)")
    for line in result.differences:
        print(f"  {line}")
    return 1 if result.differences else 0


if __name__ == "__main__":
    sys.exit(main())
