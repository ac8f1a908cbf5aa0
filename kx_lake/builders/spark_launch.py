"""Dagster Pipes clients that run an environment's Spark sync outside this process, and the launch.

Per `spark.launcher` (kx_lake.lib.spark_launch.config):
  submit  PipesSubprocessClient: `spark-submit --master <spark.master> kx_lake/spark_job.py` (the
          spark-submit of the pyspark wheel), for any Spark master a machine can reach — local[N],
          spark://, yarn, k8s://.
  glue    dagster-aws's PipesGlueClient: StartJobRun of the environment's Glue 5.0 job, context and
          messages exchanged through S3 under the launcher's artifacts prefix.
  emr     dagster-aws's PipesEMRClient: RunJobFlow of a transient cluster with one step; context in
          the step's environment, messages through S3.
Each returns the job script's materializations (one per synced collection, metadata from the
cluster) and the collections it reports as failed, so the caller fails the step listing them, as the
local engine does.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_aws.pipes import (
    PipesEMRClient,
    PipesGlueClient,
    PipesS3ContextInjector,
    PipesS3MessageReader,
)

from kx_lake.lib.config import EnvironmentSpec
from kx_lake.lib.spark.java import spark_java_env
from kx_lake.lib.spark.session import session_config
from kx_lake.lib.spark_launch import emr as emr_requests
from kx_lake.lib.spark_launch import glue as glue_requests
from kx_lake.lib.spark_launch.config import EmrLaunch, GlueLaunch
from kx_lake.lib.spark_launch.request import SyncRequest

JOB_SCRIPT = Path(__file__).resolve().parents[1] / "spark_job.py"


@dataclass
class LaunchOutcome:
    results: list[dg.MaterializeResult]
    failures: list[dict[str, str]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)  # the launcher's (job run id, cluster id, …)


def spark_submit_command(master: str, conf: dict[str, Any] | None = None, *, script: Path = JOB_SCRIPT,
                         spark_submit: str | None = None) -> list[str]:
    """`spark-submit` of the job script; the pyspark wheel's spark-submit sits beside this interpreter."""
    exe = spark_submit or str(Path(sys.executable).parent / "spark-submit")
    cmd = [exe, "--master", master]
    for key, value in sorted((conf or {}).items()):
        cmd += ["--conf", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    return [*cmd, str(script)]


def submit_command(env: EnvironmentSpec) -> list[str]:
    """spark-submit of the job script with `env`'s master and the engine core's session settings."""
    conf = session_config(env)
    return spark_submit_command(conf.pop("spark.master"), conf)


def _outcome(invocation: Any, metadata: dict[str, Any] | None = None) -> LaunchOutcome:
    failures = [f for m in invocation.get_custom_messages() if isinstance(m, dict)
                for f in m.get("kx_lake_failures", [])]
    return LaunchOutcome(list(invocation.get_results()), failures, metadata or {})


def launch_submit(context: dg.AssetExecutionContext, request: SyncRequest, command: list[str],
                  env: dict[str, str] | None = None) -> LaunchOutcome:
    """Run the job script with spark-submit as a child process (Pipes: env vars, files); its driver JVM
    runs on a Java 17/21 (JAVA_HOME), whatever the default `java` is."""
    child_env = {"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
                 **spark_java_env(), **(env or {})}
    client = dg.PipesSubprocessClient(env=child_env, forward_termination=True)
    return _outcome(client.run(context=context, command=command, extras=request.to_extras()))


def glue_client(launch: GlueLaunch, glue: Any, s3: Any) -> PipesGlueClient:
    """PipesGlueClient over boto3 `glue` and `s3` clients; Pipes context and messages under the artifacts."""
    return PipesGlueClient(
        client=glue,
        context_injector=PipesS3ContextInjector(bucket=launch.bucket, client=s3, key_prefix=launch.pipes_prefix),
        message_reader=PipesS3MessageReader(bucket=launch.bucket, client=s3, interval=5),
    )


def launch_glue(context: dg.AssetExecutionContext, request: SyncRequest, launch: GlueLaunch,
                client: PipesGlueClient) -> LaunchOutcome:
    invocation = client.run(context=context, start_job_run_params=glue_requests.start_job_run_params(launch),
                            extras=request.to_extras())
    return _outcome(invocation, {"glue_job": launch.job_name})


def emr_client(launch: EmrLaunch, emr: Any, s3: Any) -> PipesEMRClient:
    """PipesEMRClient over boto3 `emr` and `s3` clients. The job's stdout/stderr travel in the Pipes
    messages (S3), so no container-log listing is needed after the cluster ends."""
    return PipesEMRClient(client=emr, message_reader=PipesS3MessageReader(
        bucket=launch.bucket, client=s3, interval=10, include_stdio_in_messages=True))


def launch_emr(context: dg.AssetExecutionContext, request: SyncRequest, launch: EmrLaunch,
               client: PipesEMRClient) -> LaunchOutcome:
    params = emr_requests.run_job_flow_params(launch, request.env)
    return _outcome(client.run(context=context, run_job_flow_params=params, extras=request.to_extras()))
