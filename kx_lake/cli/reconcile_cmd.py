"""`kx-lake reconcile`: run the reconcile Dagster job (the same definitions as the UI and schedule)
and print its per-collection summary."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.table import Table

from kx_lake.cli.common import console, err_console, fail, project, user_errors
from kx_lake.cli.sync_cmd import EXIT_LAKE_BUSY, dagster_instance, load_definitions, select_collections

COLUMNS = ("source_documents", "latest_ids", "missing", "stale", "deleted", "tombstoned", "repaired", "rejected",
           "rejects_cleared")


def reconcile(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", help="Environment to reconcile (env1, env2, ...).")],
    collections: Annotated[Optional[str], typer.Option("--collections", help="Comma-separated subset.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Compare source and lake: tombstone deleted documents, re-sync missing or stale ones."""
    cfg = project(ctx)
    with user_errors():
        cfg.environment(env)
    specs = select_collections(cfg, collections)
    from kx_lake.builders.reconcile_job import run_reconcile
    from kx_lake.builders.run_lease import PrintingLog
    from kx_lake.lib.lake.lease import LeaseHeldError

    defs = load_definitions(cfg)
    instance = dagster_instance(cfg)
    with err_console.status(f"reconciling {env} ({len(specs)} collection(s))", spinner="dots"):
        try:
            results, run_id = run_reconcile(
                defs, env, [s.collection for s in specs] if collections else None, instance=instance,
                lease_log=PrintingLog(lambda m: err_console.print(m, markup=False, highlight=False)))
        except LeaseHeldError as exc:  # a sync (or another reconcile) of this environment kept the lake
            fail(exc, code=EXIT_LAKE_BUSY)
        except RuntimeError as exc:
            err_console.print(f"[red]{exc}[/]")
            raise typer.Exit(code=1) from exc
    if as_json:
        console.print_json(json.dumps({"env": env, "run_id": run_id, "collections": results}))
    else:
        table = Table("collection", "policy", *COLUMNS, "status", title=f"reconcile {env}")
        for r in results:
            style = "green" if r["status"] == "ok" and not r["error"] else "red"
            table.add_row(f"{r['database']}.{r['collection']}", r["policy"], *(str(r[c]) for c in COLUMNS),
                          f"[{style}]{r['status']}[/]" + (f" {r['error'][:100]}" if r["error"] else ""))
        console.print(table)
    if any(r["status"] != "ok" or r["error"] for r in results):
        raise typer.Exit(code=1)
