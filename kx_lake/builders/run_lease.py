"""The environment lease around Dagster work: one sync writes an environment at a time.

Every writer of an environment's lake holds its lease (lib/lake/lease.py), with the Dagster run id
as holder id, so the steps of one run share it and any other run waits, then fails naming the holder:
* each collection multi-asset step holds the lease of every environment it syncs (the decorator
  below), whatever launched the run — the UI, a schedule, a sensor, a backfill, the CLI;
* the CLI's runner also holds it around the whole in-process run (sync_runner), so no other sync
  slips in between two steps, and a busy environment fails before a run is even recorded.
* the reconcile job holds it for its whole pass (builders/reconcile_job.py); the sync runs it
  launches for repairs carry its run id in the LEASE_HOLDER_TAG tag and join its lease instead of
  waiting for it, so reconcile and sync never overlap and a reconcile never blocks on itself.
The run queue's tag limit (dagster_home) keeps daemon-launched syncs of one environment from even
starting together; the lease is what binds in-process runs, which never pass through the queue.
Environments are always locked in sorted order, so two multi-environment runs cannot deadlock.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from typing import Any

import dagster as dg

from kx_lake.builders.partitions import partition_scope
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.lake.lease import EnvironmentLease, LeaseHolder
from kx_lake.lib.lake.pipeline import storage_for
from kx_lake.lib.ops.config import OperationsConfig

LEASE_HOLDER_TAG = "kx_lake/lease_holder"  # a run that joins the lease of this holder id (its launcher's run)


def lease_holder(run: Any) -> str:
    """The holder id a run's steps take the lease as: its launcher's (LEASE_HOLDER_TAG), else its own run id."""
    return run.tags.get(LEASE_HOLDER_TAG) or run.run_id


def environment_lease(project: ProjectConfig, env: str, run_id: str, log: Any = None) -> EnvironmentLease:
    """The lease of `env` for `run_id`, timed by operations.yaml (`lease:`); `log` gets the waiting notice."""
    settings = OperationsConfig.load(project.settings.config_dir).lease
    return EnvironmentLease(
        storage_for(project, project.environment(env)), env, run_id,
        ttl=timedelta(seconds=settings.ttl_seconds), wait=timedelta(seconds=settings.wait_seconds), log=log,
    )


@contextmanager
def hold_leases(project: ProjectConfig, envs: Iterable[str], run_id: str, log: Any = None,
                instance: dg.DagsterInstance | None = None) -> Iterator[None]:
    """Hold the lease of every environment in `envs` (sorted) for `run_id`; released on exit. With
    `instance`, a run whose expired lease this takes over is closed there (close_dead_run)."""
    with ExitStack() as stack:
        for env in sorted(set(envs)):
            lease = stack.enter_context(environment_lease(project, env, run_id, log))
            if instance is not None and lease.taken_over is not None:
                close_dead_run(instance, env, lease.taken_over, run_id, log)
        yield


def close_dead_run(instance: dg.DagsterInstance, env: str, holder: LeaseHolder, taker: str, log: Any = None) -> None:
    """Mark failed the run whose lease expired and was taken over, if the instance still shows it running.

    It stopped renewing for a whole ttl: killed (SIGKILL, OOM, a lost machine) or hung — and a hung run
    finds its lease lost and fails anyway. Left as STARTED, it would hold the run queue's one-per-
    environment slot (dagster_home) for ever, so no scheduled or sensor sync of `env` would start again."""
    run = instance.get_run_by_id(holder.run_id)
    if run is None or run.is_finished:
        return
    message = (f"{env}: run {holder.run_id} (host {holder.host}, pid {holder.pid}) stopped renewing the lake's "
               f"lease and is taken for dead: run {taker} took the lease over")
    instance.report_run_failed(run, message)
    if log is not None:
        log.warning(message)


def holds_environment_leases(compute: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Wrap a collection multi-asset's compute function so the step runs under its environments' leases
    (those of the run's partition keys). The signature Dagster inspects is the wrapped function's."""

    @functools.wraps(compute)
    def _step(context: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        project = (kwargs.get("kx_project") or context.resources.kx_project).project
        envs = partition_scope(context.partition_keys)
        with hold_leases(project, envs, lease_holder(context.run), context.log, context.instance):
            yield from compute(context, *args, **kwargs)

    return _step


class PrintingLog:
    """A logger stand-in for the CLI: the waiting notice goes to the terminal, not to a log file."""

    def __init__(self, emit: Callable[[str], None]):
        self.emit = emit

    def info(self, msg: str) -> None:
        self.emit(msg)

    warning = error = info

