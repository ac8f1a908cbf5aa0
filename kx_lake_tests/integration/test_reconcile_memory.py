"""Reconcile's memory does not grow with the collection: the diff of 4N documents peaks at about the
same resident memory as of N, because both sides arrive in chunks (reconcile_keys), go into an on-disk
DuckDB database that spills under its memory limit (reconcile_diff), and only results stream back.

What is measured (kx_lake_tests/integration/reconcile_probe.py, each size in its own interpreter): the
real lake-key reader over a real lake (written by the lake writer: one file of 5k documents per date,
100 dates for N, 400 for 4N, so both span more files than the reader holds at once) and a synthetic
source-key stream in source_keys' chunks (the local FerretDB inserts ~18k and scans ~25k documents/s
here: millions are too slow for a test), streamed through `KeyDiff.load` as the pass does; then every
result read back (gone, to repair, withdrawals, repair dates) and the repair dates' lake keys read
again (the pass's second step). 1/128 of the documents are gone from the source, 1/128 stale, N/128
missing from the lake; the counts are checked exactly. The peak compared is the probe's VmHWM, not
its ru_maxrss: Linux carries the parent's peak into a child's ru_maxrss across the exec, so probes
spawned by a pytest process bigger than them would both report the session's size.

DuckDB is capped at 64 MB here, not the pass's 256 MB: its footprint grows until the cap binds, and at
the default cap that takes millions of keys (the diff alone: 100k keys peak 239 MB, 400k 299 MB, 1.6M
422 MB, 10M 466 MB, README "Reconcile pass") — too slow for a test. At 64 MB the cap binds from a few
hundred thousand keys (the diff alone: 500k, 2M and 4M keys peak 252, 251 and 255 MB), so N = 500k and
4N = 2M are both past it and the property is the one of the pass: the peak is imports + DuckDB's capped
share + a few chunks, nothing per key.

Measured here (2 cores, shared; ~45-60 s in all): N peaks 293-304 MB, 4N 305-319 MB (106 MB after
imports); run-to-run noise is ~15 MB. The test fails when memory follows the keys: the source's Arrow
chunks held in a list before the insert (4N 422 MB vs N 325 MB: +96 MB, the assertion trips), or
DuckDB's limit removed (its default, 80% of RAM: 618 vs 368 MB, +250 MB). Growth allowed: 40 MB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.scratch_lake import scratch_config
from kx_lake_tests.integration.reconcile_probe import PER_DAY, expected, write_lake

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ENV = "env1"
N = 500_000
MEMORY_LIMIT = "64MB"
ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
t_recmem_small,hims_admin,updated_at,date,facility_id,true
t_recmem_large,hims_admin,updated_at,date,facility_id,true
"""
ALLOWED_GROWTH_MB = 40


def probe(collection: str, documents: int, environ: dict[str, str]) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "kx_lake_tests.integration.reconcile_probe", ENV, collection, str(documents),
         MEMORY_LIMIT],
        env=environ, capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_reconcile_peak_memory_does_not_grow_with_collection_size(tmp_path: Path) -> None:
    config_dir, home, root = scratch_config(tmp_path, ROWS), tmp_path / "home", tmp_path / "lake"
    paths = {"KX_LAKE_CONFIG_DIR": str(config_dir), "KX_LAKE_HOME": str(home), "KX_LAKE_ROOT": str(root)}
    project = ProjectConfig.load(Settings.resolve(config_dir, environ=paths))
    storage = LakeStorage.from_root(str(root))
    sizes = {"t_recmem_small": N, "t_recmem_large": 4 * N}
    for name, n in sizes.items():
        assert write_lake(storage, ENV, project.collection(name), n) == n // PER_DAY

    environ = {**os.environ, **paths}
    small, large = (probe(name, n, environ) for name, n in sizes.items())
    mb = lambda kb: kb / 1024  # noqa: E731
    for name, r in (("N", small), ("4N", large)):
        print(f"\n{name}: peak {mb(r['hwm_kb']):.1f} MB (after imports {mb(r['hwm_before_kb']):.1f} MB; ru_maxrss "
              f"{mb(r['maxrss_kb']):.1f} MB), {r['seconds']} s")

    # the probes really compared everything: exact counts, every result row read back
    for result, n in ((small, N), (large, 4 * N)):
        want = expected(n)
        assert result["counts"] == want, (n, result)
        assert result["gone_rows"] == want["deleted"] and result["repair_rows"] == want["missing"] + want["stale"]
        assert result["repair_days"] == n // PER_DAY and result["repaired"] == 0, result

    assert mb(large["hwm_kb"]) - mb(small["hwm_kb"]) < ALLOWED_GROWTH_MB, (small, large)
