"""`kx-lake sync --engine spark` reaches the run: the real CLI, definitions and Dagster job (a SQLite
instance under a temporary KX_LAKE_HOME) record the run with the engine's tag, and the step takes
the Spark path. No Spark and no MongoDB are started: KX_LAKE_SPARK_JAVA names a Java that does not
exist, so the Spark resource refuses before a JVM starts, with the message the collection's failure reports; the
MongoDB client is lazy and never used.

The CLI runs in its own process (the installed `kx-lake` script): in the full suite an earlier Spark
test leaves a SparkSession running in pytest's process, which the resource would rightly reuse, and
the step would then go on to the (absent) MongoDB instead of refusing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from kx_lake.builders.spark_resource import ENGINE_TAG


def test_sync_engine_spark_is_the_runs_tag_and_the_step_takes_the_spark_path(tmp_path: Path) -> None:
    home = tmp_path / "home"
    environ = {k: v for k, v in os.environ.items() if k not in ("KX_LAKE_CONFIG_DIR", "DAGSTER_HOME")}
    environ |= {"KX_LAKE_HOME": str(home), "KX_LAKE_ROOT": str(tmp_path / "lake"),
                "KX_LAKE_SPARK_JAVA": str(tmp_path / "no-java"),
                "KX_LAKE_ENV1_MONGODB_URI": "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=100"}
    cli = Path(sys.executable).parent / "kx-lake"
    result = subprocess.run([str(cli), "sync", "--env", "env1", "--collections", "bills", "--dates", "2025-11-02",
                             "--engine", "spark", "--json"], env=environ, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr  # the collection failed: no Java for Spark

    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    (run,) = instance.get_runs()
    assert run.tags[ENGINE_TAG] == "spark"
    # the refusal is the collection's failure, reported as such by the run summary the CLI prints
    (failed,) = json.loads(result.stdout)["results"]
    assert failed["collection"] == "bills" and failed["status"] == "failed"
    assert "Spark 3.5 needs Java 17 or 21" in failed["error"] and "KX_LAKE_SPARK_JAVA" in failed["error"]
    failures = [e.dagster_event.step_failure_data.error.to_string() for e in instance.all_logs(run.run_id)
                if e.dagster_event is not None and e.dagster_event.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert len(failures) == 1, failures
