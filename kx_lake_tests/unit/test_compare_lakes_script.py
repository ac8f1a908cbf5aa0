"""scripts/compare_lakes.py, run as a user runs it (a child Python) on two small lakes written here:
equal lakes exit 0 with their counts; a changed row exits 1 naming the file; a state differing only
in synced_until_ms exits 1, and 0 with --ignore-state-clock, as does a watermark capped at each side's
own clock (synced_until_ms + FUTURE_SKEW_MS), while any other watermark difference still exits 1; a
missing directory exits 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kx_lake.lib.lake.state import FUTURE_SKEW_MS

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compare_lakes.py"
LEAF = "hims/bills/date=2026-01-02/part-0.parquet"
STATE = "_kx_state/hims/bills.json"


def _lake(root: Path, amounts: list[float], synced_until_ms: int, watermark_ms: int = 1_767_312_000_000) -> Path:
    env = root / "env1"
    (env / LEAF).parent.mkdir(parents=True)
    pq.write_table(pa.table({"_id": ["a", "b"], "amount": amounts}), env / LEAF)
    (env / STATE).parent.mkdir(parents=True)
    (env / STATE).write_text(json.dumps({"watermark_ms": watermark_ms, "watermark": str(watermark_ms), "synced_until_ms": synced_until_ms,
                                         "synced_until": str(synced_until_ms), "updated_at": "any"}))
    return env


def _run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_equal_lakes_exit_0_with_counts(tmp_path: Path) -> None:
    a, b = _lake(tmp_path / "a", [1.0, 2.5], 10), _lake(tmp_path / "b", [1.0, 2.5], 10)
    done = _run(a, b)
    assert done.returncode == 0, done.stderr
    assert "compared 2 files (1 Parquet, 2 rows)" in done.stdout and "0 difference(s)" in done.stdout


def test_a_changed_row_exits_1_naming_the_file(tmp_path: Path) -> None:
    a, b = _lake(tmp_path / "a", [1.0, 2.5], 10), _lake(tmp_path / "b", [1.0, 3.5], 10)
    done = _run(a, b, "--ignore-state-clock")
    assert done.returncode == 1
    assert f"{LEAF}: 2 vs 2 rows" in done.stdout


def test_state_clock_differs_only_without_the_option(tmp_path: Path) -> None:
    a, b = _lake(tmp_path / "a", [1.0, 2.5], 10), _lake(tmp_path / "b", [1.0, 2.5], 20)
    strict = _run(a, b)
    assert strict.returncode == 1
    assert f"{STATE}: JSON differs in ['synced_until', 'synced_until_ms']" in strict.stdout
    assert _run(a, b, "--ignore-state-clock").returncode == 0


def test_a_watermark_capped_at_each_runs_clock_is_the_clock(tmp_path: Path) -> None:
    # documents stamped later today: each sync caps the watermark at its own extraction time + the skew
    a = _lake(tmp_path / "a", [1.0, 2.5], 10_000, watermark_ms=10_000 + FUTURE_SKEW_MS)
    b = _lake(tmp_path / "b", [1.0, 2.5], 250_000, watermark_ms=250_000 + FUTURE_SKEW_MS)
    strict = _run(a, b)
    assert strict.returncode == 1
    assert f"{STATE}: JSON differs in ['synced_until', 'synced_until_ms', 'watermark', 'watermark_ms']" in strict.stdout
    done = _run(a, b, "--ignore-state-clock")
    assert done.returncode == 0, done.stdout


def test_a_watermark_not_at_the_cap_is_compared(tmp_path: Path) -> None:
    capped = _lake(tmp_path / "a", [1.0, 2.5], 10_000, watermark_ms=10_000 + FUTURE_SKEW_MS)
    short = _lake(tmp_path / "b", [1.0, 2.5], 10_000, watermark_ms=9_000)  # a document missing on one side
    done = _run(capped, short, "--ignore-state-clock")
    assert done.returncode == 1
    assert f"{STATE}: JSON differs in ['watermark', 'watermark_ms']" in done.stdout
    other = _lake(tmp_path / "c", [1.0, 2.5], 10_000, watermark_ms=8_000)
    assert _run(short, other, "--ignore-state-clock").returncode == 1


def test_missing_directory_exits_2(tmp_path: Path) -> None:
    a = _lake(tmp_path / "a", [1.0, 2.0], 10)
    done = _run(a, tmp_path / "nowhere" / "env1")
    assert done.returncode == 2
    assert "nowhere/env1: not a directory" in done.stderr
