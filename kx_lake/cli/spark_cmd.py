"""`kx-lake spark java|jars|glue-job`: the production side of the Spark engine.

Thin wrappers: `java` prints the Java 17/21 home Spark will start on (kx_lake.lib.spark.java; the
set-up installs one when it exits 1); over kx_lake.lib.spark_launch, `jars` fetches the s3a jars into the shared cache (the
set-up runs it); `glue-job` creates or updates an environment's Glue 5.0 job definition (or prints
the request with --dry-run). A missing Maven or an AWS error exits 1 with the reason, no traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from kx_lake.cli.common import console, err_console, fail, print_error, project, user_errors
from kx_lake.lib.spark.java import SparkJavaNotFound, find_spark_java
from kx_lake.lib.spark_launch import glue, jars
from kx_lake.lib.spark_launch.config import SCRIPT_NAME

JOB_SCRIPT = Path(__file__).resolve().parents[1] / "spark_job.py"

app = typer.Typer(help="Spark engine: jars for s3a, cluster job definitions (Glue/EMR).", no_args_is_help=True)


def _log(message: str) -> None:
    err_console.print(message, highlight=False, soft_wrap=True)


@app.command("java")
def java_cmd() -> None:
    """Print the Java 17 or 21 home Spark runs on (exit 1, listing the versions found, if none fits)."""
    try:
        found = find_spark_java()
    except SparkJavaNotFound as exc:
        print_error(exc)
        raise typer.Exit(code=1) from exc
    typer.echo(f"{found.home} (Java {found.major}, from {found.source})")


@app.command("jars")
def jars_cmd() -> None:
    """Fetch hadoop-aws + the AWS SDK bundle from Maven Central into the cache (idempotent); print them."""
    try:
        for path in jars.ensure_jars(log=_log):
            typer.echo(str(path))
    except jars.SparkJarsError as exc:
        print_error(exc)
        raise typer.Exit(code=1) from exc


@app.command("glue-job")
def glue_job_cmd(
    ctx: typer.Context,
    env: str = typer.Option(..., "--env", help="The environment whose spark.glue block defines the job."),
    wheel: Path | None = typer.Option(None, "--wheel", help="Upload this wheel (uv build --wheel) to the artifacts."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the CreateJob request; send nothing."),
) -> None:
    """Create or update the environment's Glue 5.0 job, uploading the job script (and the wheel)."""
    with user_errors():
        project_config = project(ctx)
        spec = project_config.environment(env)
        launch = spec.spark.glue
        if launch is None:
            fail(f"environment {env!r} has no spark.glue block in {project_config.settings.environments_file}", 2)
        definition = glue.job_definition(launch, env)
        if dry_run:
            typer.echo(json.dumps(definition, indent=2))
            return
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        session = boto3.Session(region_name=spec.aws_region)
        try:
            s3 = session.client("s3")
            s3.upload_file(str(JOB_SCRIPT), launch.bucket, launch.prefix + SCRIPT_NAME)
            if wheel is not None:
                s3.upload_file(str(wheel), launch.bucket, launch.prefix + launch.wheel)
            action = glue.ensure_job(session.client("glue"), definition)
        except (BotoCoreError, ClientError) as exc:
            fail(f"{env}: Glue job {launch.job_name}: {exc}", 1)
        console.print(f"{env}: Glue job {launch.job_name} {action} (script {launch.script_uri})", highlight=False)
