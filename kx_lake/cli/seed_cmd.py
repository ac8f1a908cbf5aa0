"""`kx-lake seed --env ENV [--scale S] [--seed N] [--as-of YYYY-MM-DD] [--mutate --days D]`: fill an
environment's MongoDB with a year of deterministic synthetic HIMS data, or simulate D more days.

A thin wrapper over kx_lake.lib.synth: the source is whatever `resolve_mongo_uri` picks (the
environment's URI variable, else its running local FerretDB), progress is a rich bar over simulated
days, and the summary is one row per collection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Optional

import typer
from pymongo import MongoClient
from pymongo.errors import PyMongoError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kx_lake.cli.common import console, print_error, project, user_errors
from kx_lake.lib.scrub import redact_uri
from kx_lake.lib.source.uri import MongoUriUnavailable, resolve_mongo_uri
from kx_lake.lib.synth import MutateReport, SeedReport, SynthError, mutate_environment, seed_environment


@contextmanager
def _seed_errors() -> Iterator[None]:
    with user_errors():
        try:
            yield
        except (MongoUriUnavailable, SynthError, PyMongoError) as exc:
            print_error(exc)
            raise typer.Exit(code=1) from exc


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {value!r}", param_hint="--as-of") from exc


def seed(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", "-e", help="Environment to fill (must be active).")],
    scale: Annotated[float, typer.Option(help="Volume: 1 is about a million documents per environment.")] = 0.01,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, scale, day and env -> same data.")] = 42,
    mutate: Annotated[bool, typer.Option("--mutate", help="Simulate more days on a seeded environment "
                                         "instead of re-seeding it.")] = False,
    days: Annotated[int, typer.Option(help="With --mutate: how many days to simulate.", min=1)] = 1,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Last simulated midnight, YYYY-MM-DD "
                                                 "(default: today in the environment's timezone).")] = None,
) -> None:
    """Seed an environment with synthetic HIMS data (drops and recreates its collections), or --mutate it."""
    cfg = project(ctx)
    with user_errors():
        spec = cfg.environment(env)
    as_of_day = _as_of(as_of)
    with _seed_errors():
        uri = resolve_mongo_uri(cfg, spec.name)
        client: MongoClient = MongoClient(uri)
        try:
            action = f"mutating {spec.name} by {days} day(s)" if mutate else f"seeding {spec.name} at scale {scale}"
            console.print(f"{action} -> {redact_uri(uri)}")
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[docs]:,} docs"), TimeElapsedColumn(), console=console,
                          transient=True) as bar:
                task = bar.add_task("masters", total=None, docs=0)

                def progress(stage: str, done: int, total: int, docs: int) -> None:
                    bar.update(task, description=f"{stage}", completed=done, total=total, docs=docs)

                report: SeedReport | MutateReport
                if mutate:
                    report = mutate_environment(client, cfg, spec.name, days=days, seed=seed, progress=progress)
                else:
                    report = seed_environment(client, cfg, spec.name, scale=scale, seed=seed, as_of=as_of_day,
                                              progress=progress)
        finally:
            client.close()
    _summary(report)


def _summary(report: SeedReport | MutateReport) -> None:
    mutated = isinstance(report, MutateReport)
    table = Table(title=f"{report.env}: {report.first_day} .. {report.last_day}")
    table.add_column("collection")
    for name in ("inserted", "updated") if mutated else ("inserted",):
        table.add_column(name, justify="right")
    for coll in sorted(set(report.inserted) | set(report.updated)):
        row = [coll, f"{report.inserted.get(coll, 0):,}"]
        if mutated:
            row.append(f"{report.updated.get(coll, 0):,}")
        table.add_row(*row)
    console.print(table)
    inserted = sum(report.inserted.values())
    line = f"{inserted:,} documents inserted in {report.seconds:.1f}s ({inserted / max(report.seconds, 1e-9):,.0f}/s)"
    if mutated:
        line += f", {sum(report.updated.values()):,} updated, {report.resolved_items:,} open items resolved"
    console.print(line + f"; {report.open_items:,} items still open")
