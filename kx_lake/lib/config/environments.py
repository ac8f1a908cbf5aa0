"""Environments (env1, env2, env3) and the MongoDB databases they hold, from environments.yaml.

Secrets are referenced by name only (`mongodb_uri_secret`); resolving them is the source module's job,
so loading config never touches the process environment or the network.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kx_lake.lib.config.errors import ConfigError, ConfigErrors
from kx_lake.lib.config.files import load_yaml
from kx_lake.lib.spark_launch.config import EmrLaunch, GlueLaunch

ENV_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,30}$"


class SparkSettings(BaseModel):
    """The Spark engine's session for an environment (used when its `engine` is spark, or `--engine spark`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # local[N], spark://host:port, yarn, or sc://host (Spark Connect); Glue/EMR set their own
    master: str = Field(default="local[2]", min_length=1)
    # any Spark configuration, e.g. spark.driver.memory: 1g (values are passed as text)
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict)
    # contiguous date ranges each collection is read in (one Spark task each); few beat many on FerretDB
    ranges_per_collection: int = Field(default=2, ge=1, le=256)
    # where the sync runs (kx_lake.lib.spark_launch.config): the step's own session, spark-submit of
    # kx_lake/spark_job.py, or a Glue 5.0 job / EMR cluster launched by Dagster Pipes (block below)
    launcher: Literal["session", "submit", "glue", "emr"] = "session"
    glue: GlueLaunch | None = None
    emr: EmrLaunch | None = None

    @model_validator(mode="after")
    def _launcher_block(self) -> SparkSettings:
        if self.launcher in ("glue", "emr") and getattr(self, self.launcher) is None:
            raise ValueError(f"launcher {self.launcher!r} needs its '{self.launcher}:' block "
                             "(docs/spark.md, 'Glue and EMR')")
        return self

    @field_validator("conf")
    @classmethod
    def _spark_keys(cls, value: dict) -> dict:
        for key in value:
            if not key.startswith("spark."):
                raise ValueError(f"{key!r} is not a Spark setting (expected a key starting with 'spark.')")
            if key == "spark.master":
                raise ValueError("set the master with 'master', not conf 'spark.master'")
        return value


class EnvironmentSpec(BaseModel):
    """One deployment of the HIMS (its own MongoDB, lake location, AWS names and timezone)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=ENV_NAME_PATTERN)
    active: bool = True
    timezone: str = "Asia/Kolkata"
    mongodb_uri_secret: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_/.-]*$")
    # the variable holding the key of pii_columns tokens (kx_lake.lib.pii); default KX_LAKE_<ENV>_PII_KEY
    pii_key_secret: str | None = Field(default=None, min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    lake_root: str = "lake"
    glue_database_prefix: str = Field(pattern=r"^[a-z0-9_]*$")
    athena_workgroup: str = Field(min_length=1)
    athena_output_location: str = Field(pattern=r"^s3://")
    quicksight_namespace: str = "default"
    aws_region: str = "ap-south-1"
    # Where tables and views are registered: the embedded DuckDB file (default), Glue through the API
    # (tables, partitions; views on Athena), the original job's per-database Glue crawlers, or the
    # self-hosted Trino (`kx-lake trino up`; Hive connector over a local lake).
    catalog: Literal["duckdb", "glue", "crawler", "trino"] = "duckdb"
    # Which engine the dashboard site reads its datasets from: the DuckDB catalog or the Trino one.
    dashboards_engine: Literal["duckdb", "trino"] = "duckdb"
    # Which engine extracts and writes the collections: this process (local) or Spark (spark, below).
    engine: Literal["local", "spark"] = "local"
    spark: SparkSettings = Field(default_factory=SparkSettings)
    # Crawler mode: the crawler of each MongoDB database ({env} and {database} are filled in).
    glue_crawler_name: str = Field(default="kx-lake-{env}-{database}", min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def pii_key_variable(self) -> str:
        return self.pii_key_secret or f"KX_LAKE_{self.name.upper()}_PII_KEY"


class EnvironmentsFile(BaseModel):
    """The parsed environments.yaml."""

    model_config = ConfigDict(frozen=True)

    partitions_start: date
    databases: dict[str, str]
    environments: dict[str, EnvironmentSpec]


def load_environments(path: Path) -> EnvironmentsFile:
    """Parse environments.yaml; every problem names the file and the field."""
    try:
        raw = load_yaml(path)
    except FileNotFoundError as exc:
        raise ConfigError(path, "file not found") from exc
    if not isinstance(raw, dict):
        raise ConfigError(path, "expected a mapping with 'databases' and 'environments'")

    errors: list[ConfigError] = []
    databases = raw.get("databases")
    if not isinstance(databases, dict) or not databases:
        errors.append(ConfigError(path, "must map each MongoDB database name to a description", field="databases"))
        databases = {}
    envs_raw = raw.get("environments")
    if not isinstance(envs_raw, dict) or not envs_raw:
        errors.append(ConfigError(path, "must map each environment name to its settings", field="environments"))
        envs_raw = {}
    start = raw.get("partitions_start")
    try:
        start = date.fromisoformat(str(start))
    except ValueError:
        errors.append(ConfigError(path, f"expected a date YYYY-MM-DD, got {start!r}", field="partitions_start"))
    unknown = set(raw) - {"databases", "environments", "partitions_start"}
    for key in sorted(unknown):
        errors.append(ConfigError(path, "unknown top-level key", field=key))

    envs: dict[str, EnvironmentSpec] = {}
    for name, body in envs_raw.items():
        if not isinstance(body, dict):
            errors.append(ConfigError(path, "expected a mapping", field=f"environments.{name}"))
            continue
        if "name" in body:
            errors.append(ConfigError(
                path, f"an environment is named by its key ({name!r}); remove 'name' from its block",
                field=f"environments.{name}.name",
            ))
            continue
        try:
            envs[name] = EnvironmentSpec(name=name, **body)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                errors.append(ConfigError(path, err["msg"], field=f"environments.{name}.{loc}"))
    if errors:
        raise ConfigErrors(errors)
    return EnvironmentsFile(
        partitions_start=start, databases={str(k): str(v) for k, v in databases.items()}, environments=envs
    )
