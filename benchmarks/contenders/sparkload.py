"""kx-lake's Spark engine (`engine: spark`, local[2] here), exactly as `kx-lake sync --env E --engine
spark` runs it: plan from the lake's state, then `run_sync` through the same Dagster definitions.

Spark's cost is split in two, so users know when to switch: the session start-up (JVM, Python
workers' first use is inside the sync) is timed on its own before the sync, then reused by the
engine's resource; `sync_s / documents` is the per-document cost on top of it."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from benchmarks.contenders.plan import Plan


def run(plan: Plan, lake_root: Path) -> dict:
    os.environ["KX_LAKE_ROOT"] = str(lake_root)  # its own lake: kx-lake's state must not make it incremental
    # an in-process SparkContext starts its Python workers with $PYSPARK_PYTHON, else `python3` on PATH
    # (spark.pyspark.python is read by spark-submit only): this interpreter, with the project's packages
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from kx_lake.cli.sync_cmd import dagster_instance, load_definitions
    from kx_lake.builders.sync_runner import run_sync
    from kx_lake.defs.lake import SYNC_JOB
    from kx_lake.lib.config import ProjectConfig, Settings
    from kx_lake.lib.lake.plan import plan_sync
    from kx_lake.lib.spark.java import use_spark_java
    from kx_lake.lib.spark.session import session_config

    project = ProjectConfig.load(Settings.resolve())
    wanted = set(plan.collections)
    specs = [s for s in project.enabled_collections if s.collection in wanted]
    groups = plan_sync(project, plan.env, specs)
    defs = load_definitions(project)
    instance = dagster_instance(project)
    use_spark_java()  # a Java 17/21 for the JVM, whatever the default `java` is
    started = time.monotonic()
    builder = SparkSession.builder.appName("kx-lake bench")
    for key, value in session_config(project.environment(plan.env)).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    startup_s = time.monotonic() - started
    started = time.monotonic()
    summary = run_sync(defs, SYNC_JOB, groups, instance=instance, log_level="WARNING", engine="spark")
    sync_s = time.monotonic() - started
    spark.stop()
    return {
        "documents": summary.rows,
        "bytes": None,  # the same windows as the ceiling: the harness takes the ceiling's source bytes
        "collections": len(summary.results),
        "failed": {r.collection: (r.error or "")[:300] for r in summary.failed},
        "runs": len(summary.run_ids),
        "master": project.environment(plan.env).spark.master,
        "startup_s": round(startup_s, 3),
        "sync_s": round(sync_s, 3),
        "ms_per_document": round(sync_s * 1000 / summary.rows, 4) if summary.rows else None,
        "lake_bytes": sum(r.bytes for r in summary.results),
    }
