"""`kx-lake source build|up|down|status|uri`: the local FerretDB source, one server per environment.

Thin wrappers over kx_lake.lib.source (the same functions tests and pipelines call). Configuration and
environment mistakes exit 2 via `user_errors`; a missing Go, a failed build or a server that will not
start exit 1 with the reason and no traceback. Only local URIs are printed (they carry no password);
a configured remote URI is named by its variable, never shown.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from kx_lake.cli.common import console, err_console, print_error, project, user_errors
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.source import ferretdb_build, local_server
from kx_lake.lib.source.uri import MongoUriUnavailable

app = typer.Typer(help="Run the local MongoDB-compatible source (FerretDB + SQLite), one per environment.",
                  no_args_is_help=True)

EnvOption = Annotated[Optional[str], typer.Option("--env", "-e", help="Environment (default: every active one).")]


@contextmanager
def _source_errors() -> Iterator[None]:
    with user_errors():
        try:
            yield
        except (ferretdb_build.BuildError, local_server.LocalServerError, MongoUriUnavailable) as exc:
            print_error(exc)
            raise typer.Exit(code=1) from exc


def _envs(cfg: ProjectConfig, env: str | None) -> list[str]:
    if env is not None:
        return [cfg.environment(env).name]
    return [e.name for e in cfg.active_environments]


def _binary(cfg: ProjectConfig, force: bool = False) -> Path:
    path = ferretdb_build.binary_path(cfg.settings)
    if force or not path.is_file():
        err_console.print("building the local FerretDB server (a first build downloads Go modules, ~1 min)...")
    return ferretdb_build.ensure_binary(cfg.settings, force=force)


@app.command("build")
def build(ctx: typer.Context,
          force: Annotated[bool, typer.Option("--force", help="Rebuild even if the binary exists.")] = False) -> None:
    """Build (or find in the cache) the FerretDB server binary and print its path."""
    with _source_errors():
        typer.echo(str(_binary(project(ctx), force=force)))


@app.command("up")
def up(ctx: typer.Context, env: EnvOption = None) -> None:
    """Start the local source for an environment (default: all active ones); no-op if already running."""
    with _source_errors():
        cfg = project(ctx)
        names = _envs(cfg, env)
        binary = _binary(cfg)
        for name in names:
            info = local_server.up(cfg, name, binary=binary)
            console.print(f"{name}: running at {info.uri} (pid {info.pid}, data {local_server.data_dir(cfg, name)})",
                          highlight=False, soft_wrap=True)
        _notes(cfg, names)


@app.command("down")
def down(ctx: typer.Context, env: EnvOption = None) -> None:
    """Stop the local source for an environment (default: all active ones); no-op if not running."""
    with _source_errors():
        cfg = project(ctx)
        for name in _envs(cfg, env):
            stopped = local_server.down(cfg, name)
            console.print(f"{name}: {'stopped' if stopped else 'was not running'}", highlight=False, soft_wrap=True)


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Show which local sources run, where, and which MongoDB the pipelines would use."""
    with _source_errors():
        cfg = project(ctx)
        table = Table("env", "running", "pid", "port", "uri", "data dir")
        table.columns[1].min_width = len("running")
        table.columns[4].no_wrap = True
        table.columns[5].overflow = "fold"
        rows = local_server.status(cfg)
        for row in rows:
            info = row.info
            table.add_row(
                row.env, "yes" if row.running else ("not answering" if info else "no"),
                str(info.pid) if info else "", str(info.port) if info else "", row.uri or "", str(row.data_dir),
            )
        console.print(table)
        _notes(cfg, [row.env for row in rows])


def _notes(cfg: ProjectConfig, names: list[str]) -> None:
    """Say when an environment's URI variable overrides its local source (naming it, never showing it)."""
    for name in names:
        variable = cfg.environment(name).mongodb_uri_secret
        if os.environ.get(variable, "").strip():
            console.print(f"note: {variable} is set, so pipelines for {name} read that MongoDB, not the local one",
                          highlight=False, soft_wrap=True)


@app.command("uri")
def uri(ctx: typer.Context, env: Annotated[str, typer.Option("--env", "-e", help="Environment.")]) -> None:
    """Print the local source's MongoDB URI for an environment (for pymongo, mongosh, Compass)."""
    with _source_errors():
        typer.echo(local_server.uri(project(ctx), env))
