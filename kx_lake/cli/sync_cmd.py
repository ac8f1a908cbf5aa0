"""`kx-lake sync` and `kx-lake lake ls`: drive the Dagster definitions (never a second code path)
and show what the lake holds."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kx_lake.cli.common import console, err_console, fail, project, user_errors
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.extract.windows import parse_dates
from kx_lake.lib.lake.plan import plan_sync
from kx_lake.lib.lake.summary import SyncSummary
from kx_lake.lib.scrub import scrub

lake_app = typer.Typer(help="Inspect the lake.", no_args_is_help=True)
EXIT_LAKE_BUSY = 75  # EX_TEMPFAIL: another sync holds the environment's lease; try again later


def dagster_instance(cfg: ProjectConfig):
    """The Dagster instance the CLI records runs in: $DAGSTER_HOME, else <state home>/dagster."""
    import dagster as dg

    from kx_lake.builders.dagster_home import ensure_dagster_home

    home = ensure_dagster_home(Path(os.environ.get("DAGSTER_HOME") or cfg.settings.state_dir("dagster")))
    return dg.DagsterInstance.from_config(str(home))


def load_definitions(cfg: ProjectConfig):
    """The code location's definitions, pointed at this invocation's configuration (passed, not set
    in os.environ)."""
    from kx_lake.definitions import build_definitions

    return build_definitions(str(cfg.settings.config_dir))


def select_collections(cfg: ProjectConfig, names: str | None):
    if not names:
        return list(cfg.enabled_collections)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = {c.collection: c for c in cfg.collections}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise typer.BadParameter(f"unknown collection(s) {', '.join(unknown)} (see `kx-lake config show`)")
    return [known[n] for n in wanted]


def print_summary(summary: SyncSummary) -> None:
    table = Table("collection", "status", "rows", "rejected", "bytes", "error", title=f"sync {summary.env}")
    for r in summary.results:
        style = "green" if r.ok else "red"
        table.add_row(f"{r.database}.{r.collection}", f"[{style}]{r.status}[/]", str(r.rows),
                      f"[yellow]{r.rejected}[/]" if r.rejected else "0", str(r.bytes), scrub(r.error or "")[:120])
    console.print(table)
    for r in summary.results:  # a range that left a gap: its dates are published, synced_until did not move
        if r.coverage_gap:
            console.print(f"[yellow]warning: {r.env}/{r.database}.{r.collection}: {r.coverage_gap}[/]", highlight=False, soft_wrap=True)
    console.print(
        f"{summary.env}: {len(summary.succeeded)} succeeded, {len(summary.failed)} failed, "
        f"{summary.rows} rows, {summary.rejected} rejected (kx_rejects) in {summary.duration_s:.1f}s (runs: {', '.join(r[:8] for r in summary.run_ids)})"
    )


def sync(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", help="Environment to sync (env1, env2, ...).")],
    collections: Annotated[Optional[str], typer.Option("--collections", help="Comma-separated subset.")] = None,
    dates: Annotated[Optional[str], typer.Option("--dates", help="YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD.")] = None,
    all_dates: Annotated[bool, typer.Option("--all-dates", help="Reload every date (full load).")] = False,
    lookback_days: Annotated[int, typer.Option("--lookback-days", help="Incremental look-back for late writes.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="Dagster console log level.")] = "WARNING",
    engine: Annotated[Optional[str], typer.Option(
        "--engine", help="local or spark, for this run (default: the environment's `engine`).")] = None,
) -> None:
    """Extract collections into the lake through the Dagster assets (incremental by default)."""
    cfg = project(ctx)
    if engine not in (None, "local", "spark"):
        raise typer.BadParameter(f"--engine {engine!r}: expected local or spark")
    with user_errors():
        cfg.environment(env)
    if dates and all_dates:
        raise typer.BadParameter("--dates and --all-dates exclude each other")
    try:
        window = parse_dates(dates) if dates else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    specs = select_collections(cfg, collections)
    groups = plan_sync(cfg, env, specs, dates=window, all_dates=all_dates, lookback_days=lookback_days)
    from kx_lake.builders.run_lease import PrintingLog
    from kx_lake.builders.sync_runner import run_sync
    from kx_lake.lib.lake.lease import LeaseHeldError
    from kx_lake.defs.lake import SYNC_JOB

    defs = load_definitions(cfg)
    instance = dagster_instance(cfg)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[last]}"), console=err_console, transient=as_json) as bar:
        task = bar.add_task(f"sync {env}", total=len(specs), last="")
        try:
            summary = run_sync(defs, SYNC_JOB, groups, instance=instance, log_level=log_level.upper(),
                               progress=lambda name, status: bar.update(task, advance=1, last=f"{name} {status}"),
                               lease_log=PrintingLog(lambda m: err_console.print(m, markup=False, highlight=False)),
                               engine=engine)
        except LeaseHeldError as exc:  # another sync of this environment kept the lake past the wait
            fail(exc, code=EXIT_LAKE_BUSY)
        bar.update(task, completed=len(specs))
    if as_json:
        console.print_json(scrub(json.dumps(summary.to_dict())))
    else:
        print_summary(summary)
    if summary.failed:
        raise typer.Exit(code=1)


def dagster_home(ctx: typer.Context) -> None:
    """Create (if needed) and print the Dagster home the CLI and `make dev` share."""
    cfg = project(ctx)
    console.print(str(dagster_instance(cfg).root_directory), highlight=False, soft_wrap=True)


@lake_app.command("ls")
def lake_ls(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env")],
    collection: Annotated[Optional[str], typer.Option("--collection")] = None,
) -> None:
    """Tables (or one table's partitions) with rows, bytes and watermark."""
    from kx_lake.lib.lake.pipeline import storage_for
    from kx_lake.lib.lake.state import CollectionState, iso_ms

    cfg = project(ctx)
    with user_errors():
        env_spec = cfg.environment(env)
    storage = storage_for(cfg, env_spec)
    if collection:
        spec = select_collections(cfg, collection)[0]
        table = Table("date", "ids", "rows", "bytes", "file", title=f"{env}/{spec.database}.{spec.collection}")
        for p in storage.list_partitions(env, spec.database, spec.collection):
            table.add_row(p.date.isoformat(), "/".join(f"{k}={v}" for k, v in p.ids), str(p.rows), str(p.bytes),
                          p.path.rsplit("/", 1)[-1])
        console.print(table)
        return
    table = Table("table", "files", "rows", "bytes", "watermark", "schema v", title=f"lake {env}: {storage.root}")
    for spec in cfg.enabled_collections:
        parts = storage.list_partitions(env, spec.database, spec.collection)
        state = CollectionState.read(storage, env, spec.database, spec.collection)
        table.add_row(f"{spec.database}.{spec.collection}", str(len(parts)), str(sum(p.rows for p in parts)),
                      str(sum(p.bytes for p in parts)), iso_ms(state.watermark_ms) or "-", str(state.schema_version))
    console.print(table)
