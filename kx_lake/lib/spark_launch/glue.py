"""The Glue 5.0 job definition and job-run requests for an environment's Spark sync.

Why it is shaped this way:

* One Glue job per environment (`glue.job_name`), created or updated from config by
  `kx-lake spark glue-job --env E` (`ensure_job`), never by hand in the console, so the definition is
  reviewable and repeatable. `MaxConcurrentRuns: 1`: one writer per environment, as the lake lease.
* The script is kx_lake/spark_job.py copied to S3; the package comes as a wheel through
  `--additional-python-modules` with `--no-deps`, plus the exact pins of what the job imports
  (`CLUSTER_REQUIREMENTS`), so pip never replaces Glue's own pyspark, py4j or boto3.
* Dagster Pipes' bootstrap arguments (`--dagster-pipes-context`, `--dagster-pipes-messages`) are added
  to each run's Arguments by dagster-aws's PipesGlueClient; `start_job_run_params` is the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kx_lake.lib.spark_launch.config import GlueLaunch
from kx_lake.lib.spark_launch.requirements import cluster_requirements


def job_definition(launch: GlueLaunch, env: str, pins: Iterable[str] | None = None) -> dict[str, Any]:
    """The CreateJob request (UpdateJob takes the same fields without Name, as JobUpdate)."""
    modules = [launch.wheel_uri, *(cluster_requirements() if pins is None else pins)]
    return {
        "Name": launch.job_name,
        "Description": f"kx-lake Spark sync of environment {env} (kx_lake/spark_job.py, launched by Dagster Pipes)",
        "Role": launch.role_arn,
        "GlueVersion": launch.glue_version,
        "Command": {"Name": "glueetl", "ScriptLocation": launch.script_uri, "PythonVersion": "3"},
        "WorkerType": launch.worker_type,
        "NumberOfWorkers": launch.number_of_workers,
        "Timeout": launch.timeout_minutes,
        "ExecutionProperty": {"MaxConcurrentRuns": 1},
        "DefaultArguments": {
            "--job-language": "python",
            "--additional-python-modules": ",".join(modules),
            "--python-modules-installer-option": "--no-deps",
            "--enable-continuous-cloudwatch-log": "true",
        },
        "Tags": {"kx-lake:env": env},
    }


def job_update(definition: dict[str, Any]) -> dict[str, Any]:
    """UpdateJob's JobUpdate from a CreateJob request (no Name, no Tags: those are CreateJob-only)."""
    return {k: v for k, v in definition.items() if k not in ("Name", "Tags")}


def ensure_job(glue_client: Any, definition: dict[str, Any]) -> str:
    """Create the job, or update it when it exists; returns "created" or "updated"."""
    try:
        glue_client.get_job(JobName=definition["Name"])
    except glue_client.exceptions.EntityNotFoundException:
        glue_client.create_job(**definition)
        return "created"
    glue_client.update_job(JobName=definition["Name"], JobUpdate=job_update(definition))
    return "updated"


def start_job_run_params(launch: GlueLaunch) -> dict[str, Any]:
    """What PipesGlueClient.run sends with StartJobRun (it adds the Pipes bootstrap Arguments)."""
    return {"JobName": launch.job_name, "Arguments": {}}
