"""One software-defined asset per configured collection, built from collections.csv.

Assets are keyed [database, collection] (where the data lives), grouped by database, and share the
env × date partitions. Collections of one database run as one multi-asset step (can_subset), which
keeps per-collection lineage and partitions while paying Dagster's per-step cost once per database
instead of once per collection. Inside a step each collection is isolated: a failing collection is
reported (log, observation, step failure listing it) and the others still materialize. The next
collection is staged on a worker thread while the current one is published, so the source's scan
and the client's Parquet writing overlap (the two halves are of similar size on a 2-core machine).

Backfills use BackfillPolicy.single_run(): Dagster groups a multi-partition range by environment,
so a full load is one run per environment, each collection reading its whole range in one query.
"""


import time
import traceback
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from kx_lake.builders.partitions import partition_scope
from kx_lake.builders.resources import MongoSourceResource, ProjectResource
from kx_lake.builders.run_lease import holds_environment_leases
from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.builders.lake_metadata import combined, staged_metadata
from kx_lake.lib.lake.pipeline import StagedCollection, stage_collection
from kx_lake.lib.scrub import Scrubber, errors_scrubbed
from kx_lake.builders.spark_remote import remote_launcher, remote_outcomes
from kx_lake.builders.spark_resource import SparkEngineResource, engine_for
from kx_lake.lib.spark_launch.request import PublishedRemotely

LAKE_IO_MANAGER = "lake_io_manager"


def collection_key(spec: CollectionSpec) -> dg.AssetKey:
    return dg.AssetKey([spec.database, spec.collection])


def _spec(spec: CollectionSpec, partitions: dg.PartitionsDefinition) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=collection_key(spec),
        description=spec.description or f"{spec.database}.{spec.collection} from MongoDB",
        group_name=spec.database,
        kinds={"mongodb", "parquet"},
        partitions_def=partitions,
        skippable=True,
        tags={"subject_area": spec.subject_area} if spec.subject_area else None,
        metadata={
            "timestamp_column": spec.timestamp_column,
            "timestamp_encoding": spec.timestamp_encoding.value,
            "partition_columns": ";".join(spec.partition_columns) or "(date only)",
        },
    ).with_io_manager_key(LAKE_IO_MANAGER)


def build_collection_assets(cfg: ProjectConfig, partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    by_db: dict[str, list[CollectionSpec]] = defaultdict(list)
    for spec in cfg.enabled_collections:
        by_db[spec.database].append(spec)
    return [_database_asset(db, specs, partitions) for db, specs in sorted(by_db.items())]


def _database_asset(
    database: str, specs: list[CollectionSpec], partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    by_key = {collection_key(s): s for s in specs}

    @dg.multi_asset(
        name=f"extract_{database}",
        specs=[_spec(s, partitions) for s in specs],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
    )
    @holds_environment_leases  # one writer per environment (builders/run_lease.py)
    def _extract(
        context: dg.AssetExecutionContext, kx_project: ProjectResource, mongo: MongoSourceResource,
        kx_spark: SparkEngineResource,
    ) -> Iterator[dg.MaterializeResult]:
        with errors_scrubbed(lambda: Scrubber.for_project(kx_project.project)):  # what else the step raises
            scope = partition_scope(context.partition_keys)
            project, staging_dir = kx_project.project, kx_project.staging_dir(context.run.run_id)
            keys = sorted(context.selected_asset_keys, key=lambda k: k.to_user_string())
            engines = {env: engine_for(project, env, context.run.tags) for env in scope}
            local = {env: dates for env, dates in scope.items() if engines[env] == "local"}
            # spark.launcher submit/glue/emr: the job script syncs and publishes (builders/spark_remote.py);
            # it reads MongoDB itself, so no client (nor URI) is needed here for those environments
            remote = {e: d for e, d in scope.items() if e not in local and remote_launcher(project, e)}
            clients = {env: mongo.client(env) for env in scope if env not in remote}
            on_spark = _spark_outcomes([by_key[k] for k in keys],
                                       {e: d for e, d in scope.items() if e not in local and e not in remote},
                                       kx_spark, mongo, clients, project, staging_dir)
            launched = remote_outcomes(context, [by_key[k] for k in keys], remote, project) if remote else {}
            failures: list[str] = []
            def stage(k: dg.AssetKey) -> _Outcome:
                return _stage_all(by_key[k], local, clients, project, staging_dir)

            for key, outcome in _staged_ahead(keys, stage):
                spec = by_key[key]
                outcome = outcome.joined(on_spark.get(key))
                published, failed = launched.get((spec.database, spec.collection), ([], []))
                outcome.remote, outcome.failures = published, outcome.failures + failed
                outcome.log.replay(context.log)
                for env, message, trace, duration in outcome.failures:
                    failures.append(f"{env}/{database}.{spec.collection}: {message}")
                    context.log.error(f"{env}/{database}.{spec.collection} failed: {message}\n{trace}")
                    context.log_event(
                        dg.AssetObservation(
                            asset_key=key,
                            metadata={"status": "failed", "env": env, "error": message, "duration_s": duration},
                        )
                    )
                if outcome.staged or outcome.remote:  # the IO manager publishes the staged, records the remote
                    metadata = _step_metadata(outcome)
                    yield dg.MaterializeResult(asset_key=key, value=[*outcome.staged, *outcome.remote],
                                               metadata=metadata)
            if failures:
                raise dg.Failure(
                    description=f"{len(failures)} collection(s) failed in {database}",
                    metadata={"failed": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures))},
                )

    return _extract


def _step_metadata(outcome: "_Outcome") -> dict:
    """Staging metadata; a Spark job's reported metadata is whole (it published too), so when the same
    collection is also published here, its publishing half is left to the IO manager's totals."""
    if not outcome.staged:
        return combined([r.metadata for r in outcome.remote])
    mine = staged_metadata(outcome.staged)
    return combined([mine, *({k: r.metadata[k] for k in mine if k in r.metadata} for r in outcome.remote)])


class _BufferedLog:
    """Stands in for context.log on the staging thread: Dagster's log manager writes events through the
    instance, so messages are kept and replayed on the step's own thread."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str]] = []

    def info(self, msg: str, *args: object) -> None:
        self.records.append(("info", msg % args if args else msg))

    def warning(self, msg: str, *args: object) -> None:
        self.records.append(("warning", msg % args if args else msg))

    def error(self, msg: str, *args: object) -> None:
        self.records.append(("error", msg % args if args else msg))

    def replay(self, log: dg.DagsterLogManager) -> None:
        for level, msg in self.records:
            getattr(log, level)(msg)


@dataclass
class _Outcome:
    staged: list[StagedCollection] = field(default_factory=list)
    failures: list[tuple[str, str, str, float]] = field(default_factory=list)  # env, message, trace, seconds
    log: _BufferedLog = field(default_factory=_BufferedLog)
    remote: list[PublishedRemotely] = field(default_factory=list)  # already published by a Spark job

    def joined(self, other: "_Outcome | None") -> "_Outcome":
        if other is None:
            return self
        self.log.records += other.log.records
        return _Outcome(self.staged + other.staged, self.failures + other.failures, self.log)


def _spark_outcomes(
    specs: list[CollectionSpec], scope: dict, spark: SparkEngineResource, mongo: MongoSourceResource,
    clients: dict, project: ProjectConfig, staging_dir: Path,
) -> dict[dg.AssetKey, _Outcome]:
    """The spark-engine environments of the run, staged and written in Spark (kx_lake.lib.spark);
    rejects and state are left to the IO manager, as for the local engine."""
    from kx_lake.lib.spark import sync_with_spark  # pyspark is imported by spark-engine runs only

    outcomes: dict[dg.AssetKey, _Outcome] = {collection_key(s): _Outcome() for s in specs} if scope else {}
    for env, dates in scope.items():
        log = _BufferedLog()
        result = sync_with_spark(spark.session(env), project, env, specs, dates, mongo_uri=mongo.uri(env),
                                 staging_dir=staging_dir, log=log, client=clients[env])
        first = outcomes[collection_key(specs[0])]
        first.log.records += log.records
        for staged in result.staged:
            outcomes[collection_key(staged.spec)].staged.append(staged)
        for f in result.failures:
            spec = next(s for s in specs if (s.database, s.collection) == (f.database, f.collection))
            outcomes[collection_key(spec)].failures.append((f.env, f.message, f.trace, f.duration_s))
    return outcomes


def _stage_all(spec: CollectionSpec, scope: dict, clients: dict, project: ProjectConfig, staging_dir: Path) -> _Outcome:
    """Stage one collection for every environment in scope; failures are recorded, never raised."""
    out = _Outcome()
    scrub = Scrubber.for_project(project)
    for env, dates in scope.items():
        started = time.monotonic()
        try:
            out.staged.append(
                stage_collection(client=clients[env], project=project, env=env, spec=spec, dates=dates,
                                 staging_dir=staging_dir, log=out.log)
            )
        except Exception as exc:  # isolation: one collection never stops the others
            message = scrub(f"{type(exc).__name__}: {exc}")
            trace = scrub("".join(traceback.format_exception(exc)[-6:]))
            out.failures.append((env, message, trace, round(time.monotonic() - started, 3)))
    return out


def _staged_ahead(keys: list[dg.AssetKey], stage: Callable[[dg.AssetKey], _Outcome]) -> Iterator[tuple[dg.AssetKey, _Outcome]]:
    """Yield (key, outcome) in order while the next collection is already being staged on a worker
    thread: its source scan (server-bound) overlaps this collection's publication (client-bound),
    which Dagster runs on this thread when the MaterializeResult is yielded. One collection ahead at
    most, so at most two collections' spools wait on disk. Spools of outcomes never handed out (the
    step was aborted) are removed."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kx-stage")
    pending: deque[tuple[dg.AssetKey, Future[_Outcome]]] = deque()
    remaining = iter(keys)

    def submit() -> None:
        key = next(remaining, None)
        if key is not None:
            pending.append((key, pool.submit(stage, key)))

    try:
        submit()
        while pending:
            key, future = pending.popleft()
            submit()  # starts as soon as the worker is free: while this one is published
            yield key, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for _, future in pending:
            if future.done() and not future.cancelled() and future.exception() is None:
                for staged in future.result().staged:
                    staged.spool.remove()
