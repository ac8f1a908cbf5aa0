"""The Glue 5.0 and EMR launch paths against moto's server: every request checked against botocore's
model (kx_lake_tests.fixtures.aws_requests), the Pipes exchange through moto's S3.

moto implements, and these tests send to it: Glue GetJob, CreateJob, StartJobRun,
GetJobRun; EMR RunJobFlow, DescribeCluster, ListSteps, TerminateJobFlows; S3 PutObject, GetObject,
ListObjectsV2, DeleteObject (the Pipes context and messages).
Seen here: dagster-aws 0.29.27 drops its Pipes variables from an EMR configuration classification
the request already has (kx_lake.lib.spark_launch.emr sets none of them).

moto 5.2.5 lacks Glue UpdateJob: that request is still validated, then answered from moto's own
job (the server runs in this process). moto records a job run or a cluster but runs nothing. Where a test needs the job's result, a
stand-in for the Glue/EMR runtime runs the real job script with `spark-submit --master local[2]`,
with exactly what the service would hand it: for Glue, the job's DefaultArguments and the run's
Arguments (Pipes' --dagster-pipes-context/--dagster-pipes-messages among them) as the script's
arguments; for EMR, the variables PipesEMRClient put into the `spark-env` export configuration. Then
moto reports the run SUCCEEDED (Glue) or the cluster is terminated (EMR). Not verified here: Glue's
and EMR's own runtimes (installing the wheel, IAM, networking to MongoDB).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
import pytest
from botocore.awsrequest import AWSResponse
from moto.glue.models import glue_backends

from kx_lake.builders.spark_launch import emr_client, glue_client, launch_emr, launch_glue, submit_command
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.spark_launch import glue as glue_requests
from kx_lake.lib.spark_launch.config import EmrLaunch, GlueLaunch
from kx_lake.lib.spark_launch.emr import run_job_flow_params
from kx_lake.lib.spark_launch.request import SyncRequest
from kx_lake.lib.synth import seed_environment
from kx_lake_tests.fixtures.aws_requests import RequestLog
from kx_lake_tests.fixtures.moto_server import MotoServer, unique_name

pytestmark = pytest.mark.integration

ENV = "env1"
AS_OF = date(2026, 6, 30)
ROLE = "arn:aws:iam::123456789012:role/kx-lake-glue"


def _glue_launch(bucket: str) -> GlueLaunch:
    return GlueLaunch(job_name=unique_name("kx-lake-env1"), role_arn=ROLE, artifacts=f"s3://{bucket}/kx-lake/env1")


def _bucket(moto_server: MotoServer) -> str:
    name = unique_name("kx-artifacts").replace("_", "-")
    moto_server.client("s3").create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": moto_server.region})
    return name


def _answer_update_job(server: MotoServer, glue: Any, log: RequestLog) -> None:
    """moto 5.2.5 has no UpdateJob: after the model check, apply the JobUpdate to moto's own job."""
    backend = glue_backends[server.account_id][server.region]
    fields = {"Role": "role", "Description": "description", "Command": "command", "GlueVersion": "glue_version",
              "WorkerType": "worker_type", "NumberOfWorkers": "number_of_workers", "Timeout": "timeout",
              "ExecutionProperty": "execution_property", "DefaultArguments": "default_arguments"}

    def answer(model: Any, **_: Any) -> Any:
        if model.name != "UpdateJob":
            return None
        params = log.params("UpdateJob")[-1]  # the API parameters, as recorded (and checked) by the log
        job = backend.jobs[params["JobName"]]
        for key, value in params["JobUpdate"].items():
            setattr(job, fields[key], value)
        return AWSResponse("http://moto-gap", 200, {}, None), {"JobName": params["JobName"]}

    glue.meta.events.register("before-call.glue.UpdateJob", answer)


def test_glue_job_definition_is_created_then_updated(moto_server: MotoServer) -> None:
    glue = moto_server.client("glue")
    log = RequestLog(glue)
    _answer_update_job(moto_server, glue, log)
    launch = _glue_launch(_bucket(moto_server))
    definition = glue_requests.job_definition(launch, ENV)
    assert glue_requests.ensure_job(glue, definition) == "created"
    job = glue.get_job(JobName=launch.job_name)["Job"]
    assert job["GlueVersion"] == "5.0" and job["WorkerType"] == "G.1X" and job["NumberOfWorkers"] == 2
    assert job["Command"] == {"Name": "glueetl", "ScriptLocation": launch.script_uri, "PythonVersion": "3"}
    modules = job["DefaultArguments"]["--additional-python-modules"].split(",")
    assert modules[0] == launch.wheel_uri and any(m.startswith("pymongo==") for m in modules)
    assert not any(m.split("==")[0] in ("pyspark", "py4j") for m in modules)  # Glue's own Spark stays
    assert job["DefaultArguments"]["--python-modules-installer-option"] == "--no-deps"

    bigger = GlueLaunch(**{**launch.model_dump(), "worker_type": "G.2X", "number_of_workers": 10})
    assert glue_requests.ensure_job(glue, glue_requests.job_definition(bigger, ENV)) == "updated"
    job = glue.get_job(JobName=launch.job_name)["Job"]
    assert (job["WorkerType"], job["NumberOfWorkers"]) == ("G.2X", 10)
    assert log.operations() == {"GetJob": 4, "CreateJob": 1, "UpdateJob": 1}
    assert log.problems == []


def test_a_glue_request_the_service_would_refuse_is_caught(moto_server: MotoServer) -> None:
    """The model check is not a formality: an over-long Glue job name fails it."""
    glue = moto_server.client("glue")
    log = RequestLog(glue)
    definition = {**glue_requests.job_definition(_glue_launch("b-" + "x" * 10), ENV), "Name": "j" * 300}
    with pytest.raises(AssertionError, match="CreateJob.Name: length 300 > max 255"):
        glue.create_job(**definition)
    assert log.operations() == {"CreateJob": 1}


def test_emr_run_job_flow_request_is_valid_and_launches(moto_server: MotoServer) -> None:
    emr = moto_server.client("emr")
    log = RequestLog(emr)
    launch = EmrLaunch(artifacts="s3://kx-artifacts/kx-lake/env1", log_uri="s3://kx-artifacts/emr-logs/")
    cluster_id = emr.run_job_flow(**run_job_flow_params(launch, ENV))["JobFlowId"]
    cluster = emr.describe_cluster(ClusterId=cluster_id)["Cluster"]
    assert cluster["ReleaseLabel"].startswith("emr-7.") and {"Name": "Spark"} in [
        {"Name": a["Name"]} for a in cluster["Applications"]]
    (step,) = emr.list_steps(ClusterId=cluster_id)["Steps"]
    assert step["Config"]["Args"][-1] == launch.script_uri and step["ActionOnFailure"] == "TERMINATE_CLUSTER"
    emr.terminate_job_flows(JobFlowIds=[cluster_id])
    assert log.problems == []


# --- the job itself, run by a local stand-in for the service's runtime -------------------------------


@pytest.fixture(scope="module")
def seeded(local_source, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("spark-aws")
    project = ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ={
        "KX_LAKE_HOME": str(local_source.settings.home), "KX_LAKE_ROOT": str(base / "lake")}))
    seed_environment(local_source.client(ENV), project, ENV, scale=0.002, seed=5, as_of=AS_OF)
    return project, base


def _run_job(argv: list[str], env: dict[str, str], project: ProjectConfig) -> None:
    command = submit_command(project.environment(ENV))
    done = subprocess.run([*command, *argv], env={**os.environ, **env, "PYSPARK_PYTHON": sys.executable},
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])


def _materialize(launch_fn) -> dict[str, dict[str, Any]]:  # noqa: ANN001
    @dg.asset(key=["hims_billing", "bills"])
    def _bills(context):  # noqa: ANN001, ANN202 - Dagster reads the annotation, a string under __future__
        outcome = launch_fn(context)
        assert outcome.failures == []
        yield from outcome.results

    result = dg.materialize([_bills], instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return {m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()}
            for m in result.asset_materializations_for_node("hims_billing__bills")}


def _check_lake(project: ProjectConfig, meta: dict[str, Any]) -> None:
    files = list((Path(project.lake_root(project.environment(ENV))) / ENV / "hims_billing" / "bills").rglob("*.parquet"))
    assert files and meta["rows"] == sum(pq.read_metadata(f).num_rows for f in files) > 0
    assert meta["files"] == len(files)


@pytest.mark.slow
@pytest.mark.spark
def test_glue_launch_runs_the_job_through_pipes_over_s3(moto_server: MotoServer, seeded, monkeypatch) -> None:
    project, base = seeded
    for key, value in moto_server.env().items():  # the job's boto3 (Pipes over S3) reaches moto too
        monkeypatch.setenv(key, value)
    launch = _glue_launch(_bucket(moto_server))
    glue, s3 = moto_server.client("glue"), moto_server.client("s3")
    glue_log, s3_log = RequestLog(glue), RequestLog(s3)
    glue_requests.ensure_job(glue, glue_requests.job_definition(launch, ENV))
    ran: list[list[str]] = []

    def glue_runtime(model: Any, **_: Any) -> None:
        if model.name != "StartJobRun":
            return
        params = glue_log.params("StartJobRun")[-1]  # the API parameters, as recorded (and checked)
        defaults = glue.get_job(JobName=params["JobName"])["Job"]["DefaultArguments"]
        argv = ["--JOB_NAME", params["JobName"]]
        for key, value in {**defaults, **params["Arguments"]}.items():
            argv += [key, value]
        ran.append(argv)
        _run_job(argv, moto_server.env(), project)

    glue.meta.events.register("before-call.glue.StartJobRun", glue_runtime)
    request = SyncRequest.build(project, ENV, [project.collection("bills")], [AS_OF.replace(day=1), AS_OF],
                                local_home=True)
    meta = _materialize(lambda context: launch_glue(context, request, launch, glue_client(launch, glue, s3)))
    assert len(ran) == 1 and "--dagster-pipes-context" in ran[0] and "--dagster-pipes-messages" in ran[0]
    _check_lake(project, meta["hims_billing/bills"])
    assert glue_log.operations()["StartJobRun"] == 1 and glue_log.problems == [] and s3_log.problems == []
    start = glue_log.params("StartJobRun")[0]
    assert start["JobName"] == launch.job_name


@pytest.mark.slow
@pytest.mark.spark
def test_emr_launch_runs_the_job_through_pipes_over_s3(moto_server: MotoServer, seeded, monkeypatch) -> None:
    project, base = seeded
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    bucket = _bucket(moto_server)
    launch = EmrLaunch(artifacts=f"s3://{bucket}/kx-lake/env1", log_uri=f"s3://{bucket}/emr-logs/")
    emr, s3 = moto_server.client("emr"), moto_server.client("s3")
    emr_log = RequestLog(emr)
    described = []

    def emr_runtime(model: Any, **_: Any) -> None:
        # PipesEMRClient: DescribeCluster (log readers), waiter "cluster_running", then waiter
        # "cluster_terminated": before its first poll the step runs here and the cluster ends.
        if model.name != "DescribeCluster":
            return
        params = emr_log.params("DescribeCluster")[-1]
        described.append(params["ClusterId"])
        if len(described) != 3:
            return
        (run_flow,) = emr_log.params("RunJobFlow")
        spark_env = next(c for c in run_flow["Configurations"] if c["Classification"] == "spark-env")
        exported = next(c for c in spark_env["Configurations"] if c["Classification"] == "export")["Properties"]
        # PYSPARK_PYTHON points at the cluster's Python 3.11; the stand-in keeps this interpreter
        _run_job([], {**moto_server.env(), **{k: v for k, v in exported.items() if not k.startswith("PYSPARK_")}},
                 project)
        moto_server.client("emr").terminate_job_flows(JobFlowIds=[params["ClusterId"]])  # the step's end

    emr.meta.events.register("before-call.emr.DescribeCluster", emr_runtime)
    request = SyncRequest.build(project, ENV, [project.collection("bills")], [AS_OF.replace(day=1), AS_OF],
                                local_home=True)
    meta = _materialize(lambda context: launch_emr(context, request, launch, emr_client(launch, emr, s3)))
    _check_lake(project, meta["hims_billing/bills"])
    assert emr_log.operations()["RunJobFlow"] == 1 and emr_log.problems == []
