"""Run a planned sync through the Dagster definitions — the same job, assets, IO manager and
resources as the UI — recording runs in the Dagster instance so they appear in `dagster dev`.

Each SyncGroup becomes one run over env × [first, last] (the partition-range tags a single-run
backfill uses). Execution is in-process: the collection steps share one interpreter, which keeps
Dagster's per-step cost small on a laptop.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from kx_lake.builders.collection_assets import collection_key
from kx_lake.builders.partitions import SOURCE_TAG, range_tags
from kx_lake.builders.resources import load_project
from kx_lake.builders.run_lease import LEASE_HOLDER_TAG, hold_leases
from kx_lake.builders.run_summary import results_from_events
from kx_lake.builders.spark_resource import ENGINE_TAG
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.lake.summary import CollectionResult, SyncSummary
from kx_lake.lib.scrub import scrub

ProgressFn = Callable[[str, str], None]  # (collection, status)
_WATCHED = {dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_OBSERVATION}
_READ_WHOLE_LOG_BELOW = 2000  # partition materializations in a run


def _watch(instance: dg.DagsterInstance, run_id: str, stop: threading.Event, progress: ProgressFn) -> None:
    """Report each collection once as its first materialization or failure lands (reads new events only:
    a full load writes hundreds of events per collection, so re-reading the log would grow quadratically)."""
    reported: set[tuple[str, str]] = set()
    cursor: str | None = None
    while True:
        done = stop.wait(0.5)
        while True:
            try:
                conn = instance.get_records_for_run(run_id, cursor=cursor, of_type=_WATCHED, limit=2000)
            except Exception:  # noqa: BLE001 - the run's event store may not exist yet; progress is best effort
                break
            cursor = conn.cursor
            for result in results_from_events("", (r.event_log_entry for r in conn.records)):
                if (result.database, result.collection) not in reported:
                    reported.add((result.database, result.collection))
                    progress(f"{result.database}.{result.collection}", result.status)
            if not conn.has_more:
                break
        if done:
            return


def run_sync(
    defs: dg.Definitions,
    job_name: str,
    groups: list[SyncGroup],
    *,
    instance: dg.DagsterInstance,
    progress: ProgressFn | None = None,
    log_level: str = "INFO",
    lease_log: Any = None,
    lease_holder: str | None = None,
    engine: str | None = None,
) -> SyncSummary:
    """Run each group; the environment's lease is held around each whole run (builders/run_lease.py):
    LeaseHeldError if another sync keeps it past the configured wait. `lease_log` hears the waiting.
    `lease_holder`: the runs join the lease this holder id already holds (a reconcile's repairs).
    `engine` (local|spark) overrides the environment's engine for these runs (a run tag the assets read)."""
    if not groups:
        raise ValueError("nothing to sync: no collections selected")
    env = groups[0].env
    summary = SyncSummary(env=env, started_at=datetime.now(UTC))
    job = defs.resolve_job_def(job_name)
    for group in groups:
        run_id = str(uuid.uuid4())
        stop = threading.Event()
        watcher = None
        if progress is not None:
            watcher = threading.Thread(target=_watch, args=(instance, run_id, stop, progress), daemon=True)
        try:
            holder = {LEASE_HOLDER_TAG: lease_holder} if lease_holder else {}
            # taken before any run is recorded
            with hold_leases(load_project(), [group.env], lease_holder or run_id, lease_log, instance):
                if watcher is not None:
                    watcher.start()
                result = job.execute_in_process(
                    instance=instance,
                    run_id=run_id,
                    tags={**range_tags(group.env, group.first, group.last), SOURCE_TAG: "cli", **holder,
                          **({ENGINE_TAG: engine} if engine else {})},
                    asset_selection=[collection_key(s) for s in group.collections],
                    run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
                    raise_on_error=False,
                )
        finally:
            stop.set()
            if watcher is not None and watcher.is_alive():
                watcher.join()
        summary.run_ids.append(run_id)
        # the instance's event log is authoritative (the in-process result omits events logged by ops)
        dates = (group.last - group.first).days + 1
        if dates * len(group.collections) > _READ_WHOLE_LOG_BELOW:
            events = _summary_events(instance, run_id, group.collections)
        else:  # an incremental cycle: a few hundred events, one read is cheaper than a query per asset
            events = list(instance.all_logs(run_id, of_type=_WATCHED))
        results = results_from_events(env, events)
        done = {(r.database, r.collection) for r in results}
        for spec in group.collections:  # a step that died before reporting still shows as failed
            if (spec.database, spec.collection) not in done:
                results.append(_missing(env, spec.database, spec.collection, result))
        summary.results.extend(results)
    summary.finished_at = datetime.now(UTC)
    return summary


def _summary_events(instance: dg.DagsterInstance, run_id: str, collections) -> list:  # noqa: ANN001
    """The events the summary needs: the fast path, or the run's whole log when it cannot answer."""
    fast = first_materializations(instance, run_id, collections)
    return fast if fast is not None else list(instance.all_logs(run_id, of_type=_WATCHED))


def first_materializations(instance: dg.DagsterInstance, run_id: str, collections) -> list | None:  # noqa: ANN001
    """The run's failure observations, then each collection's first materialization since the run started;
    None when one of those belongs to another run (a shared instance): read the whole log then.

    Only one materialization per asset is read (they all carry the run's metadata): a full load records
    one per partition date, ~40k for 102 collections, and reading every one back cost ~10% of the load.
    The asset index is filtered by the run's start *time*: a run's own event records are numbered in its
    own SQLite shard and the asset index in another, so their storage ids do not compare. Failure
    observations come first so a failure still wins, as in event order."""
    first = instance.get_records_for_run(run_id, limit=1).records
    if not first:
        return []
    started = first[0].event_log_entry.timestamp
    observations = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_OBSERVATION).records
    events = [r.event_log_entry for r in observations]
    for spec in collections:
        found = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=collection_key(spec), after_timestamp=started),
            limit=1, ascending=True,
        ).records
        if found and found[0].run_id == run_id:
            events.append(found[0].event_log_entry)
        elif found:
            return None
    return events


def step_error(error: Any) -> str:
    """A step failure's own message: Dagster wraps what an op or the IO manager raised ("Error occurred
    while executing op / handling output ..."); the cause is the one naming the collection and file."""
    chain = []
    while error is not None:
        chain.append(error.message.strip())
        error = error.cause
    return next((m for m in chain if not m.startswith("dagster.")), chain[0])


def _missing(env: str, database: str, collection: str, result: dg.ExecuteInProcessResult) -> CollectionResult:
    errors = [scrub(step_error(e.event_specific_data.error)) for e in result.all_events
              if e.event_type_value == "STEP_FAILURE" and e.event_specific_data.error]
    return CollectionResult(env, database, collection, "failed",
                            error=(errors[0][:500] if errors else "no materialization recorded"))
