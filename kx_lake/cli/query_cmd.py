"""`kx-lake query` and `kx-lake catalog refresh`: the catalog from the command line.

Queries are written in Athena SQL (the production dialect) and run transpiled on the embedded DuckDB
catalog, or as written on the self-hosted Trino (`--engine trino`, Athena's own engine), so what
works here works in Athena and in the dashboards' datasets. `catalog refresh` runs
the Dagster job `refresh_catalog` (never a second code path), in whichever backend the environment
is configured with.
"""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import Annotated, Optional

import typer
from rich.table import Table

from kx_lake.cli.common import console, fail, print_error, project, user_errors

catalog_app = typer.Typer(help="The catalog: tables, dedup views and datasets (DuckDB embedded, or Glue + Athena).",
                          no_args_is_help=True)


class Engine(StrEnum):
    duckdb = "duckdb"
    trino = "trino"


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def search_every_database(con) -> None:
    """Let a query name a table without its database (`select count(*) from bills_latest`): every
    catalog database goes on DuckDB's search path (collection names are unique across databases)."""
    schemas = [r[0] for r in con.execute(
        "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = current_database() "
        "AND schema_name NOT IN ('information_schema', 'pg_catalog') ORDER BY schema_name").fetchall()]
    if schemas:
        con.execute("SET search_path = " + "'" + ",".join(schemas).replace("'", "''") + "'")


def query(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(help="Athena (Trino) SQL, e.g. \"SELECT count(*) FROM kx_env1_hims_billing.bills_latest\".")],
    env: Annotated[str, typer.Option("--env", help="Environment whose catalog to query.")],
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
    max_rows: Annotated[int, typer.Option("--max-rows", help="Rows shown by --format table (0: all).")] = 200,
    engine: Annotated[Optional[Engine], typer.Option(
        "--engine", help="duckdb (the embedded catalog) or trino (`kx-lake trino up`); default: trino when the "
        "env's catalog is trino, else duckdb.")] = None,
) -> None:
    """Run Athena SQL on the environment's DuckDB catalog (transpiled with sqlglot) or on Trino."""
    cfg = project(ctx)
    with user_errors():
        env_spec = cfg.environment(env)
    chosen = engine or (Engine.trino if env_spec.catalog == "trino" else Engine.duckdb)
    columns, rows = (_on_trino if chosen is Engine.trino else _on_duckdb)(cfg, env, sql)
    if not columns:
        return
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


def _on_duckdb(cfg, env: str, sql: str) -> tuple[list[str], list[tuple]]:
    from kx_lake.lib.catalog.duckdb_catalog import CatalogError, connect
    from kx_lake.lib.catalog.views import ViewSqlError, execute_athena_sql_on_duckdb

    try:
        con = connect(cfg, env, read_only=True)
    except CatalogError as exc:
        fail(str(exc), 2)
    try:
        search_every_database(con)
        result = execute_athena_sql_on_duckdb(con, sql, source="query")
        if result.description is None:
            return [], []
        return [d[0] for d in result.description], result.fetchall()
    except ViewSqlError as exc:
        fail(str(exc), 2)
    except Exception as exc:  # duckdb.Error and friends: the engine's message is the useful part
        fail(f"{env}: {exc}", 1)
    finally:
        con.close()


def _on_trino(cfg, env: str, sql: str) -> tuple[list[str], list[tuple]]:
    """On the running Trino, whose catalog must hold this env (`kx-lake catalog refresh --engine trino`)."""
    from kx_lake.lib.catalog.objects import CatalogError
    from kx_lake.lib.catalog.trino_catalog import TrinoCatalog
    from kx_lake.lib.trino import client, server

    try:
        info = server.require(cfg.settings.home)
    except server.TrinoServerError as exc:
        fail(str(exc), 2)
    con = client.connect(info)
    try:
        catalog = TrinoCatalog(cfg, env, con)
        if not catalog.relations():
            fail(f"{env}: Trino has no catalog for this environment yet; run "
                 f"`kx-lake catalog refresh --env {env} --engine trino`", 2)
        result = catalog.query(sql)
        return result.columns, result.rows
    except CatalogError as exc:
        fail(str(exc), 1)
    finally:
        con.close()


@catalog_app.command("refresh")
def refresh(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", help="Environment whose catalog to refresh.")],
    collections: Annotated[Optional[str], typer.Option("--collections", help="Comma-separated subset.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="Dagster console log level.")] = "WARNING",
    engine: Annotated[Optional[Engine], typer.Option(
        "--engine", help="Refresh this engine's catalog instead of the env's configured one (trino: starts "
        "`kx-lake trino up` if needed).")] = None,
) -> None:
    """Run the `refresh_catalog` job: tables, *_latest views, sql/views and sql/datasets, in the
    environment's catalog backend (embedded DuckDB by default; Glue + Athena when configured)."""
    from kx_lake.cli.sync_cmd import dagster_instance, load_definitions, select_collections
    from kx_lake.builders.catalog_runner import run_catalog_refresh
    from kx_lake.defs.catalog import CATALOG_JOB
    from kx_lake.lib.catalog import duckdb_catalog
    from kx_lake.lib.scrub import Scrubber

    cfg = project(ctx)
    with user_errors():
        env_spec = cfg.environment(env)
    specs = select_collections(cfg, collections)
    done = run_catalog_refresh(load_definitions(cfg), CATALOG_JOB, env, specs, instance=dagster_instance(cfg),
                               log_level=log_level.upper(), engine=engine.value if engine else None)
    if as_json:
        errors = [Scrubber.for_project(cfg)(e) for e in done.errors]  # print_error's scrubbing, for the JSON
        print(json.dumps({"run_id": done.run_id, "success": done.success, "errors": errors,
                          "objects": [o.__dict__ for o in done.objects]}, indent=1))
    else:
        mode = engine.value if engine else env_spec.catalog
        where = {"duckdb": str(duckdb_catalog.catalog_path(cfg, env))}.get(mode, mode)
        table = Table("kind", "name", "status", "reason", title=f"catalog {env}: {where}")
        for o in done.objects:
            if o.status == "created" or collections:
                table.add_row(o.kind, o.name, o.status, o.reason)
        console.print(table)
        created = sum(o.status == "created" for o in done.objects)
        console.print(f"{env}: {created} created, {len(done.objects) - created} skipped (no data yet or missing "
                      f"inputs); run {done.run_id[:8]}")
    for error in done.errors:
        print_error(error.splitlines()[0] if error else error)
    if not done.success:
        raise typer.Exit(code=1)
