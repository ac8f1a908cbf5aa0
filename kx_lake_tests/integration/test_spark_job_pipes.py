"""The cluster entry point end to end: a Dagster asset launches `spark-submit --master local[2]
kx_lake/spark_job.py` through Dagster Pipes (PipesSubprocessClient), against the real FerretDB.

The job script gets its request (environment, collections, dates, config files, lake root) only from
Pipes, builds its own SparkSession in the spark-submit JVM, syncs with the Spark engine core and
reports each collection back. The lake it writes is compared file by file with the local engine's
lake of the same collections and dates (kx_lake_tests.fixtures.lake_compare), and the metadata the
asset receives is checked against that lake. A collection failing inside the job comes back as a
failure the asset names, while the other collections are materialized. And the S3 path: the job
writes an s3:// lake on SeaweedFS, which Spark reads back through s3a with the set-up's cached jars.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from kx_lake.builders.spark_launch import launch_submit, submit_command
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.lake.plan import plan_sync
from kx_lake.lib.spark_launch.request import SyncRequest
from kx_lake.lib.synth import seed_environment
from kx_lake_tests.fixtures.lake_compare import compare_lakes

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.spark]

ENV = "env1"
AS_OF = date(2026, 6, 30)
COLLECTIONS = ["bills", "vitals", "beds"]


def _project(mp: pytest.MonkeyPatch, cfg_dir: Path, home: Path, root: Path) -> ProjectConfig:
    mp.setenv("KX_LAKE_CONFIG_DIR", str(cfg_dir))
    mp.setenv("KX_LAKE_HOME", str(home))
    mp.setenv("KX_LAKE_ROOT", str(root))
    return ProjectConfig.load(Settings.resolve(cfg_dir, environ={"KX_LAKE_HOME": str(home), "KX_LAKE_ROOT": str(root)}))


def _launching_asset(request: SyncRequest, command: list[str]) -> dg.AssetsDefinition:
    specs = [dg.AssetSpec(c.split(".")) for c in request.collections]

    @dg.multi_asset(specs=specs, can_subset=False, name="spark_job_launch")
    def _launch(context):  # noqa: ANN001 - Dagster reads the annotation, a string under __future__
        outcome = launch_submit(context, request, command)
        yield from outcome.results
        if outcome.failures:
            raise dg.Failure("failed in Spark: " + ", ".join(f"{f['database']}.{f['collection']}: {f['message']}"
                                                            for f in outcome.failures))

    return _launch


def _materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()}
            for m in result.asset_materializations_for_node("spark_job_launch")}


@pytest.fixture(scope="module")
def seeded(local_source, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("spark-job")
    with pytest.MonkeyPatch.context() as mp:
        project = _project(mp, DEFAULT_CONFIG_DIR, local_source.settings.home, base / "seed-lake")
        seed_environment(local_source.client(ENV), project, ENV, scale=0.002, seed=3, as_of=AS_OF)
        yield base, local_source.settings.home, mp


def test_spark_submit_through_pipes_writes_the_local_engines_lake(seeded) -> None:
    base, home, mp = seeded
    local_root, job_root = base / "lake-local", base / "lake-job"
    project = _project(mp, DEFAULT_CONFIG_DIR, home, local_root)
    specs = [project.collection(c) for c in COLLECTIONS]
    now = datetime.combine(AS_OF, time(12), project.environment(ENV).tz)
    groups = plan_sync(project, ENV, specs, all_dates=True, now=now)
    from kx_lake.definitions import defs

    local = run_sync(defs(), "sync_collections", groups, instance=dg.DagsterInstance.ephemeral(), engine="local")
    assert all(r.ok for r in local.results), [r.error for r in local.results]

    project = _project(mp, DEFAULT_CONFIG_DIR, home, job_root)
    (group,) = groups
    dates = [group.first] if group.first == group.last else [group.first, group.last]
    request = SyncRequest.build(project, ENV, specs, dates, local_home=True)
    assert request.lake_root == str(job_root)
    result = dg.materialize([_launching_asset(request, submit_command(project.environment(ENV)))],
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success

    comparison = compare_lakes(local_root, job_root)
    # the Dagster run's environment lease (its lock file) is the orchestrator's, not the lake's data
    differences = [d for d in comparison.differences if d != f"only in left: {ENV}/_kx_state/_lease.json.lock"]
    assert differences == [], differences[:10]
    assert comparison.parquet_files >= len(COLLECTIONS)
    reported = _materializations(result)
    assert sorted(reported) == sorted(f"{s.database}/{s.collection}" for s in specs)
    rows_by_collection = {r.collection: r.rows for r in local.results}
    for spec in specs:
        meta = reported[f"{spec.database}/{spec.collection}"]
        files = list((job_root / ENV / spec.database / spec.collection).rglob("*.parquet"))
        assert meta["engine"] == "spark" and meta["env"] == ENV
        assert meta["rows"] == rows_by_collection[spec.collection] == sum(pq.read_metadata(f).num_rows for f in files)
        assert meta["files"] == len(files) and meta["bytes"] == sum(f.stat().st_size for f in files)
        assert meta["first_date"] == group.first.isoformat() and meta["last_date"] == group.last.isoformat()


def test_a_collection_failing_in_the_job_is_named_and_the_others_land(seeded, tmp_path: Path) -> None:
    base, home, mp = seeded
    cfg_dir = tmp_path / "cfg"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg_dir)
    csv = cfg_dir / "collections.csv"
    csv.write_text("\n".join(  # vitals partitioned by a column no document has: only it must fail
        line if not line.startswith("vitals,") else ",".join(line.split(",")[:4] + ["no_such_column"] + line.split(",")[5:])
        for line in csv.read_text().splitlines()) + "\n")
    project = _project(mp, cfg_dir, home, tmp_path / "lake")
    specs = [project.collection(c) for c in ("bills", "vitals")]
    request = SyncRequest.build(project, ENV, specs, [AS_OF.replace(day=1), AS_OF], local_home=True)
    result = dg.materialize([_launching_asset(request, submit_command(project.environment(ENV)))],
                            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.message
    assert "hims_clinical.vitals" in message or "vitals" in message
    assert "no_such_column" in message
    bills = project.collection("bills")
    assert list((tmp_path / "lake" / ENV / bills.database / "bills").rglob("*.parquet"))
    assert not (tmp_path / "lake" / ENV / project.collection("vitals").database / "vitals").exists()


READ_BACK = '''
import json, sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
counts = {path: spark.read.option("basePath", path).parquet(path).count() for path in sys.argv[1:]}
print("KX_COUNTS " + json.dumps(counts))
spark.stop()
'''


def test_the_job_writes_an_s3_lake_that_spark_reads_through_s3a(seeded, seaweed_s3, tmp_path: Path) -> None:
    """The Spark engine's tasks write an s3:// lake (SeaweedFS) through the storage layer; Spark itself
    then reads it through s3a with the set-up's cached jars (hadoop-aws 3.3.4, AWS SDK bundle)."""
    from kx_lake.builders.spark_launch import spark_submit_command
    from kx_lake.lib.spark_launch.jars import installed, s3a_conf

    jars = installed()
    assert jars, "the s3a jars are not in the cache: run `make setup` (kx-lake spark jars)"
    base, home, mp = seeded
    root = seaweed_s3.unique_prefix()
    for key, value in seaweed_s3.env().items():
        mp.setenv(key, value)
    mp.setenv("KX_LAKE_ROOT", root)
    project = ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ={"KX_LAKE_HOME": str(home),
                                                                              "KX_LAKE_ROOT": root}))
    specs = [project.collection("bills")]
    request = SyncRequest.build(project, ENV, specs, [AS_OF.replace(day=1), AS_OF], local_home=True)
    assert request.lake_root == root
    result = dg.materialize([_launching_asset(request, submit_command(project.environment(ENV)))],
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    meta = _materializations(result)["hims_billing/bills"]
    fs = seaweed_s3.filesystem()
    table = f"{root.removeprefix('s3://')}/{ENV}/hims_billing/bills"
    files = [p for p in fs.find(table) if p.endswith(".parquet")]
    assert meta["files"] == len(files) > 0 and meta["rows"] > 0

    script = tmp_path / "read_back.py"
    script.write_text(READ_BACK)
    conf = s3a_conf(jars, endpoint_url=seaweed_s3.endpoint_url, region=seaweed_s3.region, path_style=True)
    s3a_table = "s3a://" + table
    done = subprocess.run([*spark_submit_command("local[2]", conf, script=script), s3a_table],
                          env={**os.environ, **seaweed_s3.env(), "PYSPARK_PYTHON": sys.executable},
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    counts = json.loads(next(ln for ln in done.stdout.splitlines() if ln.startswith("KX_COUNTS "))[10:])
    assert counts == {s3a_table: meta["rows"]}
