"""The reconcile pass: make the lake agree with the source, per collection × environment.

The incremental sync reads by modified timestamp, so it cannot see a deletion, nor a write
backdated before `synced_until` minus the look-back. This pass compares everything (reconcile_diff:
the source's `_id`s and timestamps, streamed with a projection, against the newest version of each
document in the Parquet files, both spilled into DuckDB) and then:

1. writes a tombstone for each identity gone from the source (policy `on_source_delete = tombstone`;
   `keep` only counts them) and takes back tombstones whose document is at the source again;
2. hands the dates of missing or stale documents (env timezone, contiguous runs) to `repair` — the
   caller runs the ordinary sync over them (the same Dagster job; re-materializing a date merges,
   so nothing already in the lake is lost);
3. reads those dates back and counts the documents now at least as new as the source: `repaired`;
4. takes out of kx_rejects the documents deleted from the source or landed since (fixed at the source:
   the repair sync lands them, or an earlier sync did): `rejects_cleared`.

Memory stays bounded: both sides arrive in chunks, DuckDB spills, and only the diff's small results
come back to Python. The caller holds the environment's writer lease around the pass (the reconcile
job does: builders/reconcile_job.py), so no sync writes the environment meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pymongo import MongoClient

from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.lib.extract.windows import Bounds, Window
from kx_lake.lib.harmonize.clock import EPOCH, MS, LocalClock
from kx_lake.lib.lake.coverage import contiguous_prefix
from kx_lake.lib.lake.identity import reserved_columns
from kx_lake.lib.lake.pipeline import CollectionSyncError, storage_for
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.lake.reconcile_diff import KeyDiff
from kx_lake.lib.lake.reconcile_keys import lake_keys, source_keys
from kx_lake.lib.lake.rejects import UNDECODABLE, drop_rejects, existing_keys
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.scrub import Scrubber
from kx_lake.lib.lake.tombstones import Tombstone, Withdrawal, write_tombstones

_LOG = logging.getLogger(__name__)
TOMBSTONES_PER_WRITE = 200_000
RepairFn = Callable[[list[SyncGroup]], dict[tuple[str, str], str] | None]  # -> errors by (database, collection)


@dataclass
class ReconcileResult:
    env: str
    database: str
    collection: str
    policy: str
    status: str = "ok"  # ok | failed
    source_documents: int = 0
    latest_ids: int = 0  # identities visible in _latest before the pass
    missing: int = 0
    stale: int = 0
    deleted: int = 0
    tombstoned: int = 0
    withdrawn: int = 0
    repaired: int = 0
    rejected: int = 0
    rejects_cleared: int = 0  # kx_rejects rows settled by the pass: document deleted at the source, or landed
    repair_dates: list[str] = field(default_factory=list)
    error: str | None = None
    duration_s: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def bounds_for(project: ProjectConfig, env: str, now_ms: int) -> Bounds:
    """Where a placeable timestamp falls, as the sync computes it (pipeline.stage_collection)."""
    tz = project.environment(env).tz
    first = Window(project.partitions_start, project.partitions_start, tz)
    tomorrow = first.date_of_ms(now_ms) + timedelta(days=1)
    return Bounds(first, Window(tomorrow, tomorrow, tz))


def date_runs(days: set[date]) -> list[tuple[date, date]]:
    """Contiguous runs of `days`, as (first, last)."""
    runs, rest = [], set(days)
    while rest:
        run = contiguous_prefix(rest)
        runs.append((run[0], run[-1]))
        rest -= set(run)
    return runs


def repair_groups(env: str, wanted: dict[CollectionSpec, set[date]]) -> list[SyncGroup]:
    """One sync group per contiguous run of dates; collections with the same run share its group."""
    by_run: dict[tuple[date, date], list[CollectionSpec]] = {}
    for spec, days in wanted.items():
        for run in date_runs(days):
            by_run.setdefault(run, []).append(spec)
    return [SyncGroup(env, first, last, tuple(specs), False) for (first, last), specs in sorted(by_run.items(),
                                                                                               key=lambda kv: kv[0])]


def _wall_date(local_ms: int) -> date:
    return (EPOCH + local_ms * MS).date()


def _diff_one(
    client: MongoClient, project: ProjectConfig, env: str, spec: CollectionSpec, workdir: Path, now_ms: int,
    result: ReconcileResult, log: logging.Logger,
) -> set[date]:
    """Compare, write tombstones (by policy) and withdrawals; return the dates to repair."""
    env_spec = project.environment(env)
    storage = storage_for(project, env_spec)
    state = CollectionState.read(storage, env, spec.database, spec.collection)
    if state.schema is None:
        raise CollectionSyncError(f"{env}/{spec.database}.{spec.collection}: never synced: run `kx-lake sync` first")
    diff = KeyDiff(workdir)
    try:
        counts = diff.load(source_keys(client, spec, env_spec.tz, bounds_for(project, env, now_ms)),
                           lake_keys(storage, env, spec, tz=env_spec.tz))
        diff.add_rejects([k for k in existing_keys(storage, env, spec.database, spec.collection)
                          if k[1] != UNDECODABLE])
        for name, value in asdict(counts).items():
            setattr(result, name, value)
        local_now = LocalClock(env_spec.tz).local_ms(now_ms)
        day, reserved = _wall_date(local_now), reserved_columns(spec)
        if spec.on_source_delete == "tombstone":
            batch: list[Tombstone] = []
            for i, t, ts, leaf in diff.gone():  # in bounded batches: a purge may remove millions
                batch.append(Tombstone(i, t, tuple(leaf), max(local_now, ts + 1)))  # newer than its last version
                if len(batch) >= TOMBSTONES_PER_WRITE:
                    result.tombstoned += write_tombstones(storage, env, spec, reserved, batch, day)
                    batch = []
            result.tombstoned += write_tombstones(storage, env, spec, reserved, batch, day)
        withdrawals = [Withdrawal(i, t, ts, d) for i, t, ts, d in diff.withdrawals()]
        write_tombstones(storage, env, spec, reserved, [], day, withdrawals)
        if result.tombstoned or withdrawals:
            log.info(f"{result.env}/{spec.database}.{spec.collection}: {result.tombstoned} tombstone(s) written, "
                     f"{len(withdrawals)} withdrawn")
        return {_wall_date(b * 900_000) for b in diff.repair_buckets()}
    finally:
        diff.close(remove=False)


def _count_repaired(project: ProjectConfig, env: str, spec: CollectionSpec, workdir: Path, days: set[date],
                    result: ReconcileResult) -> None:
    """`repaired`, and `rejects_cleared` (settled rejects leave kx_rejects; the repair sync may have
    removed some already, as any sync does when a document lands)."""
    storage = storage_for(project, project.environment(env))
    diff = KeyDiff(workdir, fresh=False)
    try:
        for chunk in lake_keys(storage, env, spec, sorted(days), tz=project.environment(env).tz):
            diff.add_after(chunk)
        result.repaired = diff.repaired()
        settled = diff.settled_rejects()
        drop_rejects(storage, env, spec.database, spec.collection, settled)
        result.rejects_cleared = len(settled)
    finally:
        diff.close()


def reconcile_env(
    *, client: MongoClient, project: ProjectConfig, env: str, specs: list[CollectionSpec], workdir: Path,
    repair: RepairFn, now_ms: Callable[[], int] | None = None, log: logging.Logger | None = None,
) -> list[ReconcileResult]:
    """Reconcile `specs` in `env`; `repair` syncs the dates it is given (one group per contiguous run).
    `now_ms`: the clock (UTC epoch ms) for tombstone times and the detection date; injected by tests."""
    log = log or _LOG
    clock = now_ms or (lambda: int(time.time() * 1000))
    scrub = Scrubber.for_project(project)  # errors are scrubbed before they are logged or returned
    results: dict[CollectionSpec, ReconcileResult] = {}
    wanted: dict[CollectionSpec, set[date]] = {}
    started: dict[CollectionSpec, float] = {}
    for spec in specs:
        started[spec] = time.monotonic()
        result = results[spec] = ReconcileResult(env, spec.database, spec.collection, spec.on_source_delete)
        try:
            days = _diff_one(client, project, env, spec, workdir / spec.database / spec.collection, clock(), result,
                             log)
        except Exception as exc:  # isolation: one collection never stops the others
            result.status, result.error = "failed", scrub(f"{type(exc).__name__}: {exc}")[:500]
            log.error(f"{env}/{spec.database}.{spec.collection}: reconcile failed: {result.error}")
            continue
        result.repair_dates = [d.isoformat() for d in sorted(days)]
        if days:
            wanted[spec] = days
    if wanted:
        try:
            for (database, collection), error in (repair(repair_groups(env, wanted)) or {}).items():
                for spec in wanted:
                    if spec.key == (database, collection):
                        results[spec].error = scrub(f"repair sync failed: {error}")[:500]
        except Exception as exc:  # noqa: BLE001 - the repair's collections report it; `repaired` stays honest
            log.error(scrub(f"{env}: repair sync failed: {type(exc).__name__}: {exc}"))
            for spec in wanted:
                results[spec].error = scrub(f"repair failed: {type(exc).__name__}: {exc}")[:500]
    for spec, result in results.items():
        if result.status == "ok":
            try:
                _count_repaired(project, env, spec, workdir / spec.database / spec.collection,
                                wanted.get(spec, set()), result)
            except Exception as exc:  # noqa: BLE001 - reported per collection
                result.status, result.error = "failed", scrub(f"{type(exc).__name__}: {exc}")[:500]
        result.duration_s = round(time.monotonic() - started[spec], 3)
    return list(results.values())
