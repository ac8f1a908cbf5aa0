"""The benchmark harness end to end at a tiny scale on two collections: all contenders (kx-lake, its
Spark engine, dlt and both read ceilings) run in both phases, the raw ceiling and kx-lake in the cycle with
nothing new, and the JSON holds positive, mutually consistent figures.
Speed is never asserted — the machine is shared; this guards the harness, not the numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import run

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.spark]  # the Spark contender runs local[2]

CONTENDERS = {"ceiling-raw", "ceiling-arrow", "kx-lake", "spark", "dlt"}


def test_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    run.main(["--scale", "0.005", "--collections", "bills,vitals", "--data-dir", str(tmp_path / "data"),
              "--output", str(out)])
    doc = json.loads(out.read_text())
    assert doc["machine"]["cpus"] >= 1
    (result,) = doc["runs"]
    assert result["collections"] == 2
    by = {(m["phase"], m["contender"]): m for m in result["measurements"]}
    assert set(by) == ({(p, c) for p in ("full", "incremental") for c in CONTENDERS}
                       | {("nothing-new", "ceiling-raw"), ("nothing-new", "kx-lake")})
    for m in by.values():
        assert m["failed"] == {}, m
        assert m["exit_code"] == 0
        assert m["wall_s"] > 0 and m["cpu_s"] > 0 and m["peak_rss_mb"] > 0
        assert m["documents"] > 0 and m["bytes"] > 0
        assert m["docs_per_s"] == pytest.approx(m["documents"] / m["wall_s"], rel=0.01, abs=0.1)
    full_docs = by["full", "ceiling-raw"]["documents"]
    # the same windows: every contender read the same documents in the full load
    assert {by["full", c]["documents"] for c in CONTENDERS} == {full_docs}
    # incremental: kx-lake re-reads its planned dates (look-back included), dlt only what its cursor missed
    assert 0 < by["incremental", "dlt"]["documents"] <= by["incremental", "kx-lake"]["documents"] < full_docs
    assert result["ratios"]["full: kx-lake/ceiling-raw docs/s"] > 0
    # the Spark engine (its own lake) reads what kx-lake reads, and reports its fixed and per-document cost
    assert by["incremental", "spark"]["documents"] == by["incremental", "kx-lake"]["documents"]
    for phase in ("full", "incremental"):
        spark = by[phase, "spark"]["detail"]
        assert spark["startup_s"] > 0 and spark["ms_per_document"] > 0 and spark["master"] == "local[2]"
        assert result["ratios"][f"{phase}: spark start-up s"] == spark["startup_s"]
    assert result["ratios"]["full: kx-lake/dlt docs/s"] > 0
    # nothing new: the same planned windows as the ceiling's, and the fixed cost reported
    assert by["nothing-new", "kx-lake"]["documents"] == by["nothing-new", "ceiling-raw"]["documents"]
    assert result["ratios"]["nothing-new: kx-lake wall − scan wall s"] == pytest.approx(
        by["nothing-new", "kx-lake"]["wall_s"] - by["nothing-new", "ceiling-raw"]["wall_s"], abs=0.06)
    assert {t["target"] for t in result["targets"]}
