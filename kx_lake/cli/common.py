"""Shared CLI plumbing: the global --config-dir option, loading config once, and turning
configuration/environment errors into one clear line and exit code 2 instead of a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from kx_lake.lib.config import ConfigError, ConfigErrors, ProjectConfig, Settings, UnknownEnvironmentError
from kx_lake.lib.scrub import scrub

console = Console()
# soft_wrap: an error line is never broken at the terminal width — paths and environment
# lists in it must survive copy-paste and grep (CI logs are 80 columns).
err_console = Console(stderr=True, soft_wrap=True)


def print_error(message: object) -> None:
    """One red `error:` line, scrubbed of secrets; escaped so brackets in it are not read as markup."""
    err_console.print(f"[bold red]error:[/] {escape(scrub(message))}", markup=True, highlight=False)


def fail(message: object, code: int) -> None:
    print_error(message)
    raise typer.Exit(code=code)


def project(ctx: typer.Context) -> ProjectConfig:
    """The project configuration for this invocation (loaded on first use, then cached)."""
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    root.obj = obj
    if "project" not in obj:
        with user_errors():
            obj["project"] = ProjectConfig.load(Settings.resolve(obj.get("config_dir")))
    return obj["project"]


@contextmanager
def user_errors() -> Iterator[None]:
    """Report errors a user can fix (bad config, unknown environment) without a traceback."""
    try:
        yield
    except (ConfigError, ConfigErrors, UnknownEnvironmentError) as exc:
        print_error(exc)
        raise typer.Exit(code=2) from exc
