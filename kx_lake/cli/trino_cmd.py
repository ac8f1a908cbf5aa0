"""`kx-lake trino up|down|status|install`: the self-hosted Trino, one server per KX_LAKE_HOME.

Thin wrappers over kx_lake.lib.trino (the same functions the catalog resource and the tests call).
`up` installs Trino from Maven Central into the shared cache on first use (scripts/setup.sh
prefetches it), finds a Java 22+ and starts one coordinator on loopback; a missing Maven or Java or a
server that will not start exits 1 with the reason and no traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.table import Table

from kx_lake.cli.common import console, err_console, print_error, project, user_errors
from kx_lake.lib.trino import config as trino_config
from kx_lake.lib.trino import install, server
from kx_lake.lib.trino.java import JavaNotFound, find_java

app = typer.Typer(help="Run the self-hosted Trino (Athena's engine) over the local lake.", no_args_is_help=True)


@contextmanager
def _trino_errors() -> Iterator[None]:
    with user_errors():
        try:
            yield
        except (install.TrinoInstallError, server.TrinoServerError, JavaNotFound) as exc:
            print_error(exc)
            raise typer.Exit(code=1) from exc


def _log(message: str) -> None:
    err_console.print(message, highlight=False, soft_wrap=True)


@app.command("install")
def install_cmd() -> None:
    """Download and unpack Trino into the cache (idempotent) and print where it is."""
    with _trino_errors():
        typer.echo(str(install.ensure_installed(log=_log).home))


@app.command("up")
def up(ctx: typer.Context) -> None:
    """Start Trino for this KX_LAKE_HOME (installing it first if needed); no-op if already running."""
    with _trino_errors():
        home = project(ctx).settings.home
        info = server.up(home, log=_log)
        console.print(f"trino: running at {info.url} (pid {info.pid}, catalog {trino_config.CATALOG}, "
                      f"metastore {trino_config.metastore_dir(home)}, log {server.log_file(home)})",
                      highlight=False, soft_wrap=True)


@app.command("down")
def down(ctx: typer.Context) -> None:
    """Stop this home's Trino; no-op if it is not running."""
    with _trino_errors():
        stopped = server.down(project(ctx).settings.home)
        console.print(f"trino: {'stopped' if stopped else 'was not running'}", highlight=False)


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Show whether Trino runs, where, and which install and Java it uses."""
    with _trino_errors():
        home = project(ctx).settings.home
        info = server.running(home)
        table = Table("running", "pid", "url", "java", "install", "metastore")
        table.columns[4].overflow = "fold"
        table.columns[5].overflow = "fold"
        found = install.installed()
        try:
            java = str(find_java().executable) if info is None else info.java
        except JavaNotFound:
            java = "(none: Java 22+ not found)"
        answering = info is not None and server.ready(info)
        table.add_row("yes" if answering else ("not answering" if info else "no"),
                      str(info.pid) if info else "", info.url if info else "", java,
                      str(found.home) if found else "(not installed)", str(trino_config.metastore_dir(home)))
        console.print(table)
