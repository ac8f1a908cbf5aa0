"""`kx-lake spark jars|glue-job`: the production side of the Spark engine.

Thin wrappers over kx_lake.lib.spark_launch: `jars` fetches the s3a jars into the shared cache (the
set-up runs it); `glue-job` creates or updates an environment's Glue 5.0 job definition (or prints
the request with --dry-run). A missing Maven or an AWS error exits 1 with the reason, no traceback.
"""

from __future__ import annotations

import typer

from kx_lake.cli.common import err_console, print_error
from kx_lake.lib.spark_launch import jars

app = typer.Typer(help="Spark engine: jars for s3a, cluster job definitions (Glue/EMR).", no_args_is_help=True)


def _log(message: str) -> None:
    err_console.print(message, highlight=False, soft_wrap=True)


@app.command("jars")
def jars_cmd() -> None:
    """Fetch hadoop-aws + the AWS SDK bundle from Maven Central into the cache (idempotent); print them."""
    try:
        for path in jars.ensure_jars(log=_log):
            typer.echo(str(path))
    except jars.SparkJarsError as exc:
        print_error(exc)
        raise typer.Exit(code=1) from exc
