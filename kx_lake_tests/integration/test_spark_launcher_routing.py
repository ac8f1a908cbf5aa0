"""The project's own collection assets routed by `spark.launcher` (builders/spark_remote.py), through the
real definitions and the sync runner, against FerretDB.

`launcher: submit`: the step runs `spark-submit --master local[2] kx_lake/spark_job.py` through
Dagster Pipes; the job publishes files, rejects and state, and the IO manager records what it
reported without publishing again. The lake equals the local engine's file by file, and the run
summary counts the same collections, rows, files and rejects. A real fault inside a Spark task — a
directory squatting on one new leaf's file name, so the OS refuses the write in the `mapInArrow`
publishing task — fails that collection alone, naming environment and collection; the other lands,
the failed one's state stays where it was, no temporary file is left, and the next sync repairs it.
`launcher: glue`: the same step goes through PipesGlueClient on moto's server (StartJobRun, S3 for
the Pipes exchange, Secrets Manager for the MongoDB URI); Glue's runtime is the labelled stand-in of
test_spark_launch_aws.py: the real job script under `spark-submit --master local[2]` with the
arguments Glue would hand it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pytest
import yaml

from kx_lake.builders.spark_launch import submit_command
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.lake.plan import SyncGroup, plan_sync
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.lake.summary import SyncSummary
from kx_lake.lib.spark_launch import glue as glue_requests
from kx_lake.lib.spark_launch.config import GlueLaunch
from kx_lake.lib.storage import LakeStorage
from kx_lake.lib.synth import seed_environment
from kx_lake_tests.fixtures.lake_compare import compare_lakes
from kx_lake_tests.fixtures.lake_faults import (
    COLLS, FIRST, LAST, ROWS, drop, lake_differences, leftovers, mutate, seed, state_ahead_of_files, states, utc,
)
from kx_lake_tests.fixtures.moto_server import MotoServer, unique_name
from kx_lake_tests.fixtures.scratch_lake import scratch_config, scratch_project

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.spark, pytest.mark.timeout(1800)]

ENV = "env1"
AS_OF = date(2026, 6, 30)
COLLECTIONS = ["bills", "vitals"]


def _with_spark(cfg_dir: Path, spark: dict[str, Any], **env_fields: Any) -> Path:
    """`cfg_dir`'s environments.yaml with env1's `spark:` block (and any other field) replaced."""
    path = cfg_dir / "environments.yaml"
    data = yaml.safe_load(path.read_text())
    data["environments"][ENV].update(spark=spark, **env_fields)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return cfg_dir


def _copy_config(dest: Path) -> Path:
    shutil.copytree(DEFAULT_CONFIG_DIR, dest)
    return dest


def _sync(groups: list[SyncGroup], engine: str | None = None,
          instance: dg.DagsterInstance | None = None) -> SyncSummary:
    from kx_lake.definitions import defs

    return run_sync(defs(), "sync_collections", groups, instance=instance or dg.DagsterInstance.ephemeral(),
                    engine=engine)


def _counts(summary: SyncSummary) -> list[tuple]:
    return sorted((r.database, r.collection, r.status, r.rows, r.partitions, r.rejected) for r in summary.results)


def _launcher_of(instance: dg.DagsterInstance, database: str, collection: str) -> str:
    event = instance.get_latest_materialization_event(dg.AssetKey([database, collection]))
    return event.asset_materialization.metadata["launcher"].value


@pytest.fixture(scope="module")
def seeded(local_source, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("spark-routing")
    with pytest.MonkeyPatch.context() as mp:
        project = scratch_project(mp, local_source.settings.home, base / "seed-lake")
        seed_environment(local_source.client(ENV), project, ENV, scale=0.002, seed=11, as_of=AS_OF)
        yield base, local_source.settings.home, mp


def _groups(project: ProjectConfig) -> list[SyncGroup]:
    now = datetime.combine(AS_OF, time(12), project.environment(ENV).tz)
    return plan_sync(project, ENV, [project.collection(c) for c in COLLECTIONS], all_dates=True, now=now)


def test_submit_launcher_through_the_definitions_writes_the_local_engines_lake(seeded) -> None:
    base, home, mp = seeded
    local_root, job_root = base / "lake-local", base / "lake-submit"
    groups = _groups(scratch_project(mp, home, local_root))
    local = _sync(groups, engine="local")
    assert [r.error for r in local.results if not r.ok] == []

    cfg = _with_spark(_copy_config(base / "cfg-submit"), {"master": "local[2]", "launcher": "submit"})
    scratch_project(mp, home, job_root, cfg)
    instance = dg.DagsterInstance.ephemeral()
    job = _sync(groups, engine="spark", instance=instance)

    assert _counts(job) == _counts(local) and all(r.rows > 0 for r in job.results)
    comparison = compare_lakes(local_root, job_root)
    assert comparison.differences == [], comparison.differences[:10]
    assert comparison.parquet_files >= len(COLLECTIONS)
    for r in job.results:  # the summary's bytes are the files the job wrote, counted by the job
        files = list((job_root / ENV / r.database / r.collection).rglob("*.parquet"))
        assert r.bytes == sum(f.stat().st_size for f in files) and r.partitions == len(files)
        assert _launcher_of(instance, r.database, r.collection) == "submit"  # not the in-process session


# --- a real fault inside a Spark task -----------------------------------------------------------------


@pytest.fixture
def scratch(local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cfg = _with_spark(scratch_config(tmp_path, ROWS), {"master": "local[2]", "launcher": "submit"}, engine="spark")
    root = tmp_path / "lake"
    project = scratch_project(monkeypatch, local_source.settings.home, root, cfg)
    client = local_source.client(ENV)
    seed(client)
    yield project, root, client, local_source.settings.home
    drop(client)


def test_an_os_error_in_a_spark_task_fails_only_its_collection(scratch) -> None:
    project, root, client, home = scratch
    storage = LakeStorage.from_root(str(root))
    group = [SyncGroup(ENV, FIRST, LAST, tuple(project.collection(c) for _, c in COLLS), False)]
    assert [r.error for r in _sync(group).results if not r.ok] == []  # env1's engine: spark, via submit
    mutate(client)
    client.hims_billing.f_bills.insert_one({"_id": "F9-new", "updated_at": utc(2026, 1, 2, 8), "facility_id": "F9",
                                            "amount": 9.0})
    squatter = root / ENV / "hims_billing/f_bills/date=2026-01-02/facility_id=F9/part-00000.parquet"
    squatter.mkdir(parents=True)
    before = states(storage)

    summary = _sync(group)
    squatter.rmdir()  # the disk is healthy again
    failed = [r for r in summary.results if not r.ok]
    assert [(r.env, r.database, r.collection) for r in failed] == [(ENV, "hims_billing", "f_bills")]
    assert "env1/hims_billing/f_bills date=2026-01-02" in failed[0].error, failed[0].error
    after = states(storage)
    assert after["f_bills"] == before["f_bills"]  # the failed collection's state did not move
    assert after["f_visits"].watermark_ms > before["f_visits"].watermark_ms  # the other one landed
    assert state_ahead_of_files(storage) == []
    assert leftovers(storage, home) == []

    assert [r.error for r in _sync(group).results if not r.ok] == []  # the next sync repairs it
    assert lake_differences(project, client) == []
    assert leftovers(storage, home) == []


def test_a_job_that_never_reports_fails_every_collection_of_its_environment(scratch) -> None:
    """spark-submit itself fails (a master no Spark knows): each collection of the step is reported
    failed, naming env1 and the launcher; nothing reaches the lake."""
    project, root, client, home = scratch
    cfg = Path(os.environ["KX_LAKE_CONFIG_DIR"])
    _with_spark(cfg, {"master": "nosuch://nowhere", "launcher": "submit"}, engine="spark")
    group = [SyncGroup(ENV, FIRST, LAST, tuple(project.collection(c) for _, c in COLLS), False)]
    summary = _sync(group)
    assert sorted((r.env, r.collection, r.ok) for r in summary.results) == [
        (ENV, "f_bills", False), (ENV, "f_visits", False)]
    assert all("spark.launcher submit" in r.error for r in summary.results), [r.error for r in summary.results]
    assert not list(root.rglob("*.parquet"))


# --- launcher: glue / emr, on moto -----------------------------------------------------------------


def _on_moto(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """moto for the step's and the job's boto3; a fresh artifacts bucket and Secrets Manager prefix."""
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    bucket = unique_name("kx-artifacts").replace("_", "-")
    moto_server.client("s3").create_bucket(Bucket=bucket,
                                           CreateBucketConfiguration={"LocationConstraint": moto_server.region})
    return bucket, unique_name("kx-lake") + "/"


def _remote_project(seeded, moto_server: MotoServer, name: str, spark: dict[str, Any]) -> tuple[ProjectConfig, Path]:
    """The configuration with env1 on `spark`, and the MongoDB URI where the cluster reads it: Secrets
    Manager under the launcher's prefix (the request carries none)."""
    base, home, mp = seeded
    root = base / f"lake-{name}"
    project = scratch_project(mp, home, root, _with_spark(_copy_config(base / f"cfg-{name}"), spark))
    from kx_lake.lib.source.uri import resolve_mongo_uri

    moto_server.client("secretsmanager").create_secret(
        Name=spark[spark["launcher"]]["secrets_prefix"] + project.environment(ENV).mongodb_uri_secret,
        SecretString=resolve_mongo_uri(project, ENV))
    return project, root


def _run_job(project: ProjectConfig, argv: list[str], env: dict[str, str]) -> None:
    """The service's runtime, stood in for: the real job script under spark-submit --master local[2]."""
    done = subprocess.run([*submit_command(project.environment(ENV)), *argv], capture_output=True, text=True,
                          env={**os.environ, **env, "PYSPARK_PYTHON": sys.executable}, timeout=900)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])


def _sync_bills_with_hooks(project: ProjectConfig, monkeypatch: pytest.MonkeyPatch,
                           hooks: dict[str, Any]) -> tuple[SyncSummary, dg.DagsterInstance]:
    """Sync bills on env1 through the definitions, `hooks` (botocore event → handler) registered on the
    default boto3 session the step's clients come from."""
    session = boto3.Session()
    for event, handler in hooks.items():
        session.events.register(event, handler)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    instance = dg.DagsterInstance.ephemeral()
    group = SyncGroup(ENV, AS_OF.replace(day=1), AS_OF, (project.collection("bills"),), False)
    return _sync([group], engine="spark", instance=instance), instance


def _assert_bills_landed(root: Path, summary: SyncSummary, instance: dg.DagsterInstance, launcher: str) -> None:
    (result,) = summary.results
    assert result.ok, result.error
    files = list((root / ENV / "hims_billing" / "bills").rglob("*.parquet"))
    assert files and result.partitions == len(files) and result.rows > 0
    assert result.bytes == sum(f.stat().st_size for f in files)
    assert _launcher_of(instance, "hims_billing", "bills") == launcher
    state = CollectionState.read(LakeStorage.from_root(str(root)), ENV, "hims_billing", "bills")
    assert state.watermark_ms is not None  # the job wrote the state; nothing here published again


def test_glue_launcher_through_the_definitions_lands_the_lake(seeded, moto_server: MotoServer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    bucket, secrets_prefix = _on_moto(moto_server, monkeypatch)
    launch = GlueLaunch(job_name=unique_name("kx-lake-env1"), role_arn="arn:aws:iam::123456789012:role/kx-lake-glue",
                        artifacts=f"s3://{bucket}/kx-lake/env1", secrets_prefix=secrets_prefix)
    glue_requests.ensure_job(moto_server.client("glue"), glue_requests.job_definition(launch, ENV))  # `spark glue-job`
    project, root = _remote_project(seeded, moto_server, "glue", {
        "master": "local[2]", "launcher": "glue", "glue": launch.model_dump(mode="json")})
    ran: list[list[str]] = []

    def glue_runtime(params: dict[str, Any], **_: Any) -> None:  # Glue runs the script with these arguments
        defaults = moto_server.client("glue").get_job(JobName=params["JobName"])["Job"]["DefaultArguments"]
        argv = ["--JOB_NAME", params["JobName"]]
        for key, value in {**defaults, **params["Arguments"]}.items():
            argv += [key, value]
        ran.append(argv)
        _run_job(project, argv, moto_server.env())

    summary, instance = _sync_bills_with_hooks(project, monkeypatch,
                                               {"provide-client-params.glue.StartJobRun": glue_runtime})
    assert len(ran) == 1 and "--dagster-pipes-context" in ran[0]
    _assert_bills_landed(root, summary, instance, "glue")


def test_emr_launcher_through_the_definitions_lands_the_lake(seeded, moto_server: MotoServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    bucket, secrets_prefix = _on_moto(moto_server, monkeypatch)
    emr = {"artifacts": f"s3://{bucket}/kx-lake/env1", "log_uri": f"s3://{bucket}/emr-logs/",
           "secrets_prefix": secrets_prefix}
    project, root = _remote_project(seeded, moto_server, "emr", {"master": "local[2]", "launcher": "emr", "emr": emr})
    flows: list[dict] = []
    described: list[str] = []

    def run_job_flow(params: dict[str, Any], **_: Any) -> None:
        flows.append(params)

    def emr_runtime(params: dict[str, Any], **_: Any) -> None:
        # PipesEMRClient: DescribeCluster (log readers), waiter "cluster_running", then waiter
        # "cluster_terminated": before its first poll the step runs here and the cluster ends.
        described.append(params["ClusterId"])
        if len(described) != 3:
            return
        (flow,) = flows
        spark_env = next(c for c in flow["Configurations"] if c["Classification"] == "spark-env")
        exported = next(c for c in spark_env["Configurations"] if c["Classification"] == "export")["Properties"]
        # PYSPARK_PYTHON names the cluster's Python 3.11; the stand-in keeps this interpreter
        _run_job(project, [], {**moto_server.env(), **{k: v for k, v in exported.items() if not k.startswith("PYSPARK_")}})
        moto_server.client("emr").terminate_job_flows(JobFlowIds=[params["ClusterId"]])  # the step's end

    summary, instance = _sync_bills_with_hooks(project, monkeypatch, {
        "provide-client-params.emr.RunJobFlow": run_job_flow, "provide-client-params.emr.DescribeCluster": emr_runtime})
    assert len(flows) == 1 and len(described) >= 3
    _assert_bills_landed(root, summary, instance, "emr")
