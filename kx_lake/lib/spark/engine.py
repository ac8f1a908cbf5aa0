"""The Spark engine's driver: stage every collection in Spark tasks, merge on the driver, write in Spark.

1. The driver opens each collection exactly as the local engine does (`open_stage`: state, refusals,
   PII tokenizer, open rejects) and splits its dates into a few contiguous ranges (units).
2. `extract` tasks read the units from MongoDB (tasks.py); their rows are persisted (DISK_ONLY) so
   the source is read once. The driver collects the small `unit`/`error` rows and merges them per
   collection in range order: schemas by `SchemaAccumulator.absorb` (merging is commutative, so the
   widened schema is the one a single scan would infer), counts, rejects (first sighting wins).
3. `close_stage` runs on the driver as in the local engine (checks, watermark guard, widening
   rewrites; a re-extraction for a widening is one more `extract` job over those dates).
4. `publish` tasks get whole dates (`date` markers make empty and rewritten dates appear too) and
   write them with the local engine's `publish_date`; the driver records the files and leaves the
   rejects and the state to `finish_collections` (= the IO manager's `publish_staged`).
"""

from __future__ import annotations

import logging
import pickle
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pyspark import StorageLevel

from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.lib.extract.windows import Window, window_filter
from kx_lake.lib.lake.pipeline import OpenStage, PublishedCollection, StagedCollection, close_stage, open_stage, publish_staged
from kx_lake.lib.scrub import Scrubber
from kx_lake.lib.spark.tasks import ROWS_DDL, UNITS_DDL, TaskError, UnitResult, extract, publish, replay_rejects
from kx_lake.lib.spark.units import split_dates

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectionFailure:
    env: str
    database: str
    collection: str
    message: str  # scrubbed
    trace: str  # scrubbed
    duration_s: float


@dataclass
class SparkSyncResult:
    staged: list[StagedCollection] = field(default_factory=list)
    failures: list[CollectionFailure] = field(default_factory=list)


class _Job:
    """One sync's collections, indexed by key; failures recorded once per collection."""

    def __init__(self, project: ProjectConfig, env: str, log: Any) -> None:
        self.project, self.env, self.log = project, env, log
        self.stages: dict[int, OpenStage] = {}
        self.failures: dict[int, CollectionFailure] = {}
        self.scrub = Scrubber.for_project(project)
        self.started: dict[int, float] = {}

    def fail(self, key: int, spec: CollectionSpec, exc_type: str, message: str, trace: str) -> None:
        if key in self.failures:
            return
        stage = self.stages.pop(key, None)
        if stage is not None:
            stage.staged.spool.remove()
        self.failures[key] = CollectionFailure(self.env, spec.database, spec.collection,
                                               self.scrub(f"{exc_type}: {message}"), self.scrub(trace),
                                               round(time.monotonic() - self.started.get(key, time.monotonic()), 3))


def _units(spark, stages: dict[int, OpenStage], ranges: int, *, rewrite: dict[int, list[date]] | None = None):
    rows = []
    for key, stage in stages.items():
        dates = rewrite[key] if rewrite is not None else sorted(stage.wanted)
        for i, part in enumerate(split_dates(dates, ranges)):
            # the requested scan sweeps the unplaceable documents in its first range only; a
            # re-extraction for a widening neither sweeps nor bounds (as the local engine's)
            first_scan = rewrite is None
            sweep = first_scan and i == 0
            rows.append((key, i, part[0], part[-1], part, sweep, first_scan, dates if sweep else []))
    rdd = spark.sparkContext.parallelize(rows, max(1, len(rows)))
    return spark.createDataFrame(rdd, UNITS_DDL)


def _extract(spark, job: _Job, stages: dict[int, OpenStage], mongo_uri: str, ranges: int, rewrite=None):
    templates = {k: replace(s.staged, spool=None, rejects=None) for k, s in stages.items()}
    bounds = {k: s.bounds for k, s in stages.items()}
    rows = _units(spark, stages, ranges, rewrite=rewrite).mapInArrow(
        extract(job.project, mongo_uri, templates, bounds), ROWS_DDL).persist(StorageLevel.DISK_ONLY)
    found = rows.where("kind != 'doc'").select("kind", "key", "seq", "meta").collect()
    return rows, sorted(found, key=lambda r: (r["key"], r["seq"]))


def _merge(job: _Job, key: int, stage: OpenStage, found: list) -> dict[str, int]:
    """Fold the units' results into the collection's stage, in range order; {partition column: seen}."""
    staged, seen = stage.staged, dict.fromkeys(stage.staged.spec.partition_columns, 0)
    rejected: set[tuple[str, str]] = set()
    for row in found:
        result: UnitResult = pickle.loads(row["meta"])
        stage.acc.absorb(result.schema)
        for col, n in result.seen.items():
            seen[col] = seen.get(col, 0) + n
        for day, n in result.rows_by_date.items():
            staged.rows_by_date[day] = staged.rows_by_date.get(day, 0) + n
        for name in ("min_ts_ms", "max_ts_ms"):
            ours, theirs = getattr(staged, name), getattr(result, name)
            pick = min if name == "min_ts_ms" else max
            setattr(staged, name, theirs if ours is None else ours if theirs is None else pick(ours, theirs))
        staged.landed_rejects |= result.landed_rejects
        staged.fallback_deferred += result.fallback_deferred
        for stat in ("documents", "bytes", "batches", "resumes"):
            setattr(staged.read, stat, getattr(staged.read, stat) + getattr(result.read, stat))
        staged.read.filters.extend(result.read.filters)
        replay_rejects(result.rejects, staged.rejects, rejected)
    return seen


def sync_with_spark(
    spark, project: ProjectConfig, env: str, specs: list[CollectionSpec], dates: list[date], *,
    mongo_uri: str, staging_dir: Path, log: Any = None, now_ms=None, client: MongoClient | None = None,
) -> SparkSyncResult:
    """Stage and write `specs` × `dates` of `env` in Spark (see the package docstring for the contract).
    `client`: the driver's MongoDB client for the watermark guard (opened from `mongo_uri` if None)."""
    log = log or _LOG
    job = _Job(project, env, log)
    ranges = project.environment(env).spark.ranges_per_collection
    own_client = client is None
    client = client or MongoClient(mongo_uri, serverSelectionTimeoutMS=20_000, appname="kx-lake", tz_aware=True)
    persisted = []
    try:
        for key, spec in enumerate(specs):
            job.started[key] = time.monotonic()
            try:
                job.stages[key] = open_stage(project=project, env=env, spec=spec, dates=dates,
                                             staging_dir=staging_dir, now_ms=now_ms)
            except Exception as exc:  # noqa: BLE001 - isolation, as in the local engine
                job.fail(key, spec, type(exc).__name__, str(exc), "")
        docs, found = _extract(spark, job, dict(job.stages), mongo_uri, ranges)
        persisted.append(docs)
        by_key: dict[int, list] = {}
        for row in found:
            by_key.setdefault(row["key"], []).append(row)
        staged_ok: dict[int, StagedCollection] = {}
        for key, stage in list(job.stages.items()):
            spec = specs[key]
            errors = [r for r in by_key.get(key, []) if r["kind"] == "error"]
            if errors:
                err: TaskError = pickle.loads(errors[0]["meta"])
                job.fail(key, spec, err.type_name, err.message, err.trace)
                continue
            try:
                seen = _merge(job, key, stage, [r for r in by_key.get(key, []) if r["kind"] == "unit"])
                stage.staged.source_filter = window_filter(spec.timestamp_column, stage.window, stage.bounds)

                def reextract(window: Window, days: set[date], key=key, stage=stage) -> None:
                    more, more_found = _extract(spark, job, {key: stage}, mongo_uri, ranges,
                                                rewrite={key: sorted(days)})
                    persisted.append(more)
                    bad = [r for r in more_found if r["kind"] == "error"]
                    if bad:
                        err = pickle.loads(bad[0]["meta"])
                        raise RuntimeError(f"{err.type_name}: {err.message}")
                    _merge(job, key, stage, [r for r in more_found if r["kind"] == "unit"])

                staged_ok[key] = close_stage(stage, client, project, seen, reextract, log)
            except Exception as exc:  # noqa: BLE001
                job.fail(key, spec, type(exc).__name__, str(exc), "")
        _write(spark, job, staged_ok, persisted)
        result = SparkSyncResult()
        for key in sorted(staged_ok):
            if key not in job.failures:
                result.staged.append(staged_ok[key])
        result.failures = [job.failures[k] for k in sorted(job.failures)]
        return result
    finally:
        for frame in persisted:
            frame.unpersist()
        if own_client:
            client.close()


def _write(spark, job: _Job, staged: dict[int, StagedCollection], frames: list) -> None:
    if not staged:
        return
    markers = [("date", key, day, -1, None, None) for key, s in staged.items() for day in s.dates]
    keys = sorted(staged)
    docs = frames[0]
    for more in frames[1:]:
        docs = docs.unionByName(more)
    docs = docs.where(f"kind = 'doc' and key in ({','.join(map(str, keys))})")
    work = docs.unionByName(spark.createDataFrame(markers, ROWS_DDL))
    parts = max(1, min(len(markers), spark.sparkContext.defaultParallelism * 4))
    finals = {k: replace(s, spool=None, rejects=None, tokenizer=None) for k, s in staged.items()}
    out = work.repartition(parts, "key", "day").sortWithinPartitions("key", "day", "seq") \
        .mapInArrow(publish(job.project, finals), ROWS_DDL).select("kind", "key", "day", "meta").collect()
    files: dict[int, list] = {k: [] for k in staged}
    for row in sorted(out, key=lambda r: (r["key"], r["day"])):
        if row["kind"] == "error":
            err: TaskError = pickle.loads(row["meta"])
            job.fail(row["key"], staged[row["key"]].spec, err.type_name, err.message, err.trace)
        else:
            written, refused = pickle.loads(row["meta"])  # refused: documents the converter would not take
            files[row["key"]].extend(written)
            s = staged[row["key"]]
            if refused:
                s.rows_by_date[row["day"]] -= replay_rejects(refused, s.rejects, set())
    for key, s in staged.items():
        s.published = files[key]


def finish_collections(project: ProjectConfig, staged: list[StagedCollection], log: Any = None) -> list[PublishedCollection]:
    """Rejects, then state, per collection (the dates are already written): the IO manager's step."""
    return [publish_staged(project, s, log=log) for s in staged]
