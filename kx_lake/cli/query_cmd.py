"""`kx-lake query` and `kx-lake catalog refresh`: the embedded DuckDB catalog from the command line.

Queries are written in Athena SQL (the production dialect) and transpiled, so what works here works
in Athena and in the dashboards' datasets. Both commands only call kx_lake.lib.catalog.
"""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import Annotated, Optional

import typer
from rich.table import Table

from kx_lake.cli.common import console, fail, project, user_errors

catalog_app = typer.Typer(help="The embedded DuckDB catalog (Glue's part on a laptop).", no_args_is_help=True)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def query(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(help="Athena (Trino) SQL, e.g. \"SELECT count(*) FROM kx_env1_hims_billing.bills_latest\".")],
    env: Annotated[str, typer.Option("--env", help="Environment whose catalog to query.")],
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
    max_rows: Annotated[int, typer.Option("--max-rows", help="Rows shown by --format table (0: all).")] = 200,
) -> None:
    """Run Athena SQL on the environment's DuckDB catalog (transpiled with sqlglot)."""
    from kx_lake.lib.catalog.duckdb_catalog import CatalogError, connect
    from kx_lake.lib.catalog.views import ViewSqlError, execute_athena_sql_on_duckdb

    cfg = project(ctx)
    with user_errors():
        cfg.environment(env)
    try:
        con = connect(cfg, env, read_only=True)
    except CatalogError as exc:
        fail(str(exc), 2)
    try:
        result = execute_athena_sql_on_duckdb(con, sql, source="query")
        if result.description is None:
            return
        columns = [d[0] for d in result.description]
        rows = result.fetchall()
    except ViewSqlError as exc:
        fail(str(exc), 2)
    except Exception as exc:  # duckdb.Error and friends: the engine's message is the useful part
        fail(f"{env}: {exc}", 1)
    finally:
        con.close()
    if fmt is OutputFormat.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt is OutputFormat.json:
        print(json.dumps([dict(zip(columns, r)) for r in rows], default=str, ensure_ascii=False, indent=1))
    else:
        table = Table(*columns)
        shown = rows if max_rows <= 0 else rows[:max_rows]
        for r in shown:
            table.add_row(*("NULL" if v is None else str(v) for v in r))
        console.print(table)
        more = f" (showing {len(shown)})" if len(shown) < len(rows) else ""
        console.print(f"{len(rows)} row(s){more}")


@catalog_app.command("refresh")
def refresh(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", help="Environment whose catalog to refresh.")],
    collections: Annotated[Optional[str], typer.Option("--collections", help="Comma-separated subset.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Create or replace the tables, the *_latest views and the sql/views for every collection with data."""
    from kx_lake.cli.sync_cmd import select_collections
    from kx_lake.lib.catalog import duckdb_catalog
    from kx_lake.lib.catalog.views import ViewSqlError

    cfg = project(ctx)
    with user_errors():
        cfg.environment(env)
    specs = select_collections(cfg, collections)
    try:
        done = duckdb_catalog.refresh(cfg, env, specs)
    except (duckdb_catalog.CatalogError, ViewSqlError) as exc:
        fail(str(exc), 1)
    if as_json:
        print(json.dumps([o.__dict__ for o in done], indent=1))
        return
    table = Table("kind", "name", "status", "reason", title=f"catalog {env}: {duckdb_catalog.catalog_path(cfg, env)}")
    for o in done:
        if o.status == "created" or collections:
            table.add_row(o.kind, o.name, o.status, o.reason)
    console.print(table)
    created = sum(o.status == "created" for o in done)
    console.print(f"{env}: {created} created, {len(done) - created} skipped (no data yet or missing inputs)")
