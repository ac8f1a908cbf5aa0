"""Where an environment's Spark sync runs, from environments.yaml (`spark.launcher` and its block).

    spark:
      master: local[2]          # the engine core's session settings (kx_lake.lib.spark)
      launcher: session         # session: the Dagster step's own SparkSession (dagster-pyspark)
                                # submit: `spark-submit --master <master>` of kx_lake/spark_job.py
                                # glue / emr: a Glue 5.0 job run / an EMR cluster, launched by Dagster Pipes
      glue: {job_name: kx-lake-env1, role_arn: arn:aws:iam::…, artifacts: s3://bucket/kx-lake/}
      emr: {log_uri: s3://bucket/emr-logs/, artifacts: s3://bucket/kx-lake/}

Every remote launcher exchanges the Pipes context and messages through S3 (`pipes` prefix below the
`artifacts` location), which works the same on Glue, EMR and a local stand-in. The artifacts prefix
also holds the job script (kx_lake/spark_job.py) and the package wheel the cluster installs.
Secrets are never here: the cluster reads the MongoDB URI from AWS Secrets Manager with its own role.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

S3_PREFIX = r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$"
SCRIPT_NAME = "spark_job.py"


def _slash(value: str) -> str:
    return value if value.endswith("/") else value + "/"


class _RemoteLaunch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # s3://bucket/prefix/: the job script, the wheel and the Pipes exchange live below it
    artifacts: str = Field(pattern=S3_PREFIX)
    # the package wheel's file name under artifacts (build it with `uv build --wheel`)
    wheel: str = Field(default="kx_lake-0.1.0-py3-none-any.whl", pattern=r"^[A-Za-z0-9_.\-]+\.whl$")
    # the cluster reads `<secrets_prefix><mongodb_uri_secret>` from Secrets Manager with its role
    secrets_prefix: str = Field(default="kx-lake/", pattern=r"^[A-Za-z0-9/_+=.@\-]*$")

    @field_validator("artifacts")
    @classmethod
    def _ends_with_slash(cls, value: str) -> str:
        return _slash(value)

    @property
    def bucket(self) -> str:
        return self.artifacts.removeprefix("s3://").split("/", 1)[0]

    @property
    def prefix(self) -> str:
        return self.artifacts.removeprefix("s3://").split("/", 1)[1]

    @property
    def script_uri(self) -> str:
        return self.artifacts + SCRIPT_NAME

    @property
    def wheel_uri(self) -> str:
        return self.artifacts + self.wheel

    @property
    def pipes_prefix(self) -> str:
        return self.prefix + "pipes"


class GlueLaunch(_RemoteLaunch):
    """An AWS Glue 5.0 job (Spark 3.5.4, Python 3.11, Java 17: what pyspark==3.5.4 matches)."""

    job_name: str = Field(min_length=1, max_length=255, pattern=r"^[\w\-. ]+$")
    role_arn: str = Field(pattern=r"^arn:aws[a-z\-]*:iam::\d{12}:role/.+$")
    glue_version: Literal["5.0"] = "5.0"
    worker_type: Literal["G.1X", "G.2X", "G.4X", "G.8X"] = "G.1X"
    number_of_workers: int = Field(default=2, ge=2, le=299)
    timeout_minutes: int = Field(default=120, ge=1, le=10080)


class EmrLaunch(_RemoteLaunch):
    """A transient EMR cluster per run (RunJobFlow with one spark-submit step, then it terminates)."""

    # EMR 7.x ships Spark 3.5.x; its system Python is 3.9, so the bootstrap installs Python 3.11
    release_label: str = Field(default="emr-7.7.0", pattern=r"^emr-7\.\d+\.\d+$")
    log_uri: str = Field(pattern=S3_PREFIX)
    instance_type: str = Field(default="m5.xlarge", min_length=1)
    instance_count: int = Field(default=3, ge=1, le=256)
    service_role: str = "EMR_DefaultRole"
    job_flow_role: str = "EMR_EC2_DefaultRole"
