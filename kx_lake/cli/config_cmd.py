"""`kx-lake config check|show`: validate the configuration and show what it declares."""

from __future__ import annotations

import typer
from rich.table import Table

from kx_lake.cli.common import console, project

app = typer.Typer(help="Validate and inspect the configuration.", no_args_is_help=True)


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Validate collections.csv and environments.yaml; exit 2 with every error located."""
    cfg = project(ctx)
    envs = ", ".join(e.name if e.active else f"{e.name} (inactive)" for e in cfg.environments.values())
    console.print(f"ok: {len(cfg.collections)} collections in {len(cfg.databases)} databases, environments: {envs}")


@app.command("show")
def show(ctx: typer.Context) -> None:
    """List the configured collections."""
    cfg = project(ctx)
    table = Table("collection", "database", "timestamp", "encoding", "partition columns", "enabled")
    for c in cfg.collections:
        table.add_row(c.collection, c.database, c.timestamp_column, c.timestamp_encoding.value,
                      ";".join(c.partition_columns), "yes" if c.enabled else "no")
    console.print(table)
