"""The benchmark's own world: a state home, lake, Dagster home and FerretDB server under
benchmarks/data/ (gitignored), never the user's .kx-lake.

Everything is addressed through environment variables (KX_LAKE_HOME, KX_LAKE_ROOT, DAGSTER_HOME), so
each contender runs in a subprocess that resolves the same settings the CLI would. Seeding is the
slowest set-up step at scale 1 and mutation changes the data, so a freshly seeded source is kept as a
copy of FerretDB's SQLite directory per (scale, seed) and restored before each run: every run starts
from identical documents.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DEFAULT_DATA = BENCH_DIR / "data"
KX = [str(Path(sys.executable).parent / "kx-lake")]


@dataclass(frozen=True)
class Workspace:
    root: Path
    env: str = "env1"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def spark_lake(self) -> Path:
        return self.root / "lake-spark"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def dlt_dir(self) -> Path:
        return self.root / "dlt"

    def seed_cache(self, scale: float, seed: int) -> Path:
        # the generator ends its history at today's midnight, so a copy is only valid on its day
        return self.root / "seeds" / f"{self.env}-scale{scale:g}-seed{seed}-{date.today().isoformat()}"

    @property
    def source_data(self) -> Path:
        return self.home / "source" / self.env / "data"

    def environ(self) -> dict[str, str]:
        """The environment every child process runs with: only the benchmark's own state."""
        env = {k: v for k, v in os.environ.items() if not (k.startswith("KX_LAKE_") or k == "DAGSTER_HOME")}
        env.update(KX_LAKE_HOME=str(self.home), KX_LAKE_ROOT=str(self.lake), DAGSTER_HOME=str(self.dagster_home),
                   PYTHONWARNINGS="ignore", PYTHONPATH=str(REPO))
        return env

    def kx(self, *args: str, quiet: bool = True) -> str:
        out = subprocess.run([*KX, *args], env=self.environ(), cwd=REPO, text=True, capture_output=True)
        if out.returncode != 0:
            raise RuntimeError(f"kx-lake {' '.join(args)} failed ({out.returncode}):\n{out.stdout[-2000:]}{out.stderr[-3000:]}")
        return out.stdout

    def link_binary(self) -> None:
        """Reuse the checkout's built FerretDB binary (building takes minutes) if there is one."""
        built = REPO / ".kx-lake" / "bin"
        target = self.home / "bin"
        target.mkdir(parents=True, exist_ok=True)
        for exe in built.glob("ferretdb-*") if built.exists() else []:
            if not (target / exe.name).exists():
                (target / exe.name).symlink_to(exe)

    def source_up(self) -> None:
        self.link_binary()
        self.kx("source", "up", "--env", self.env)

    def source_down(self) -> None:
        self.kx("source", "down", "--env", self.env)

    def server_pid(self) -> int | None:
        import json

        state = self.home / "source" / self.env / "server.json"
        return int(json.loads(state.read_text())["pid"]) if state.exists() else None

    def fresh_source(self, scale: float, seed: int, log) -> float:  # noqa: ANN001 - a print-like callable
        """Start the source with freshly seeded data (restored from the cache when possible).
        Returns the seconds spent seeding (0 when restored)."""
        import time

        cache = self.seed_cache(scale, seed)
        self.source_down()
        if cache.exists():
            log(f"restoring seeded data from {cache.relative_to(self.root)}")
            shutil.rmtree(self.source_data, ignore_errors=True)
            shutil.copytree(cache, self.source_data)
            self.source_up()
            return 0.0
        self.source_up()
        log(f"seeding {self.env} at scale {scale:g} (seed {seed})…")
        started = time.monotonic()
        self.kx("seed", "--env", self.env, "--scale", f"{scale:g}", "--seed", str(seed))
        seconds = time.monotonic() - started
        self.source_down()
        shutil.rmtree(cache, ignore_errors=True)
        shutil.copytree(self.source_data, cache)
        self.source_up()
        return seconds

    def mutate(self, days: int = 1) -> None:
        self.kx("seed", "--env", self.env, "--mutate", "--days", str(days))

    def reset_outputs(self) -> None:
        for path in (self.lake, self.spark_lake, self.dagster_home, self.dlt_dir, self.home / "staging"):
            shutil.rmtree(path, ignore_errors=True)


def run_scales(ws: Workspace, scales: str, run_scale: Callable[[Workspace, float], dict], name: str) -> None:
    """Run `run_scale` for each of the comma-separated `scales`, printing one JSON line each, stop the
    workspace's source, and write the list to benchmarks/data/results/<name>.json."""
    results = []
    try:
        for scale in (float(s) for s in scales.split(",")):
            results.append(run_scale(ws, scale))
            print(json.dumps(results[-1]), flush=True)
    finally:
        ws.source_down()
    target = DEFAULT_DATA / "results" / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=2))
