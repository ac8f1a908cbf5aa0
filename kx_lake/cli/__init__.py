"""The `kx-lake` command line. Subcommands live in small modules and call kx_lake.lib (source, seed)
or the Dagster definitions (sync), never a second code path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kx_lake.cli import config_cmd, dashboards_cmd, query_cmd, reconcile_cmd, seed_cmd, source_cmd, spark_cmd, sync_cmd, trino_cmd

app = typer.Typer(
    name="kx-lake",
    help="MongoDB (HIMS) to an analytics lake, catalog and dashboards, orchestrated by Dagster.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config_dir: Annotated[
        Optional[Path],
        typer.Option("--config-dir", help="Directory with collections.csv and environments.yaml "
                     "(default: $KX_LAKE_CONFIG_DIR, else ./assets_config)."),
    ] = None,
) -> None:
    ctx.obj = {"config_dir": config_dir}


app.add_typer(source_cmd.app, name="source")
app.add_typer(trino_cmd.app, name="trino")
app.add_typer(spark_cmd.app, name="spark")
app.add_typer(config_cmd.app, name="config")
app.command("seed")(seed_cmd.seed)
app.command("sync")(sync_cmd.sync)
app.command("reconcile")(reconcile_cmd.reconcile)
app.add_typer(sync_cmd.lake_app, name="lake")
app.command("dagster-home", hidden=True)(sync_cmd.dagster_home)
app.command("query")(query_cmd.query)
app.add_typer(query_cmd.catalog_app, name="catalog")
app.add_typer(dashboards_cmd.dashboards_app, name="dashboards")


def main() -> None:
    app()
