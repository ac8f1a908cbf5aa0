"""Stage and publish one collection × environment for a set of partition dates.

stage_collection (in the asset step; every collection-level failure happens here, every document-level
  one sends that document to the rejects table, scan.py):
  one query for the window spanning the dates, (timestamp, _id) order → each document routed to its
  partition date in the environment's timezone → raw BSON spooled per date, the document observed
  by the schema accumulator (seeded with the stored lake schema, so types only widen) → checks: the
  partition columns exist, the watermark guard. If an existing column's type changed, every other
  date already in the lake is re-extracted too, so after publication every file of the table has
  exactly the catalog's column types (added columns alone rewrite nothing: files are read by name).
  It is three steps — open_stage, scan_window (lake/scan.py), close_stage — because the Spark engine
  (lib/spark) runs the same open and close on its driver and the scans in tasks, one per date range.
publish_staged (in the IO manager; deterministic): per date, spool → dicts → convert with the final
  schema, chunk by chunk into per-leaf files on local disk (leaves.py: memory bounded by bytes) → one
  Parquet file per leaf (publish_date, which the Spark engine's tasks call too; LakeStorage.write_partition
  replaces the date atomically per file and removes stale leaves; a date with no documents left is
  emptied; a date with nothing new under an unchanged schema is left as it is, and so is a date whose
  documents and files are exactly those it was last published from, unchanged.py) → state (schema,
  watermark, those dates' records) written last, so the watermark only advances once the data is safe.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pymongo import MongoClient

from kx_lake.lib import faults
from kx_lake.lib.config import CollectionSpec, EnvironmentSpec, ProjectConfig
from kx_lake.lib.extract.reader import ReadStats
from kx_lake.lib.extract.windows import Bounds, Window
from kx_lake.lib.harmonize import Converter, SchemaAccumulator, StructType, columns_to_rewrite
from kx_lake.lib.harmonize.rewiden import widening_risks
from kx_lake.lib.lake.coverage import advance
from kx_lake.lib.lake.guard import check_watermark
from kx_lake.lib.lake.identity import ID_TYPE_COLUMN, reserved_columns, with_id_type
from kx_lake.lib.lake.leaves import spill_date
from kx_lake.lib.lake.merge import keep_existing
from kx_lake.lib.lake.placement import pii_tokenizer
from kx_lake.lib.lake.rejects import RejectsOutcome, RejectSpool, existing_keys, publish_rejects
from kx_lake.lib.lake.scan import BatchSource, scan_window
from kx_lake.lib.lake.spool import DateSpool
from kx_lake.lib.lake.state import CollectionState, capped_watermark
from kx_lake.lib.lake.unchanged import PublishedDates, forget
from kx_lake.lib.pii import PiiTokenizer
from kx_lake.lib.storage import LakeStorage, WrittenFile
from kx_lake.lib.storage.paths import date_segment

_LOG = logging.getLogger(__name__)


class CollectionSyncError(ValueError):
    """A collection that cannot be synced as configured; the message names env and collection."""


@dataclass
class StagedCollection:
    env: str
    spec: CollectionSpec
    requested_dates: list[date]
    rewrite_dates: list[date]
    spool: DateSpool
    schema: StructType
    schema_changed: bool
    state_before: CollectionState
    watermark_ms: int | None
    synced_until_ms: int | None = None
    coverage_gap: str | None = None
    rejects: RejectSpool | None = None
    tokenizer: PiiTokenizer | None = None  # pii_columns → keyed tokens, applied before anything is written
    open_rejects: set = field(default_factory=set)  # keys already in the rejects table
    landed_rejects: set = field(default_factory=set)  # ... whose document lands now
    rows_by_date: dict[date, int] = field(default_factory=dict)
    # timestamp_fallback documents placed on a date outside this run: counted, landed by a run over it
    fallback_deferred: int = 0
    min_ts_ms: int | None = None
    max_ts_ms: int | None = None
    source_filter: dict = field(default_factory=dict)
    read: ReadStats = field(default_factory=ReadStats)
    duration_s: float = 0.0
    published: list[WrittenFile] | None = None  # the dates' files, when an engine wrote them (Spark)

    @property
    def name(self) -> str:
        return f"{self.env}/{self.spec.database}.{self.spec.collection}"

    @property
    def dates(self) -> list[date]:
        return sorted(set(self.requested_dates) | set(self.rewrite_dates))

    @property
    def rows(self) -> int:
        return sum(self.rows_by_date.values())


@dataclass(frozen=True)
class PublishedCollection:
    staged: StagedCollection
    files: list[WrittenFile]
    schema_version: int
    duration_s: float
    rejects: RejectsOutcome = RejectsOutcome(0, 0, 0)
    unchanged_dates: int = 0  # dates whose documents and files were those last published: not rewritten

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)


@dataclass(frozen=True)
class LakeTableRef:
    """Where a collection's table lives in one environment (for catalog and query layers)."""

    env: str
    database: str
    collection: str
    table_dir: str
    partition_columns: tuple[str, ...]
    schema: StructType | None


def needs_rewrite(old: StructType, new: StructType) -> bool:
    """Whether files written under `old` no longer have exactly the catalog's column types under `new`.

    Added top-level columns need nothing (files are read by name; the column is null in older files).
    Any column whose type changed — another Arrow type, a struct that gained fields, or the same
    Arrow type under another convention (text → json) — makes every older partition be rewritten.
    """
    old_arrow, new_arrow = old.to_arrow_schema(), new.to_arrow_schema()
    for name in old.names:
        if old_arrow.field(name).type != new_arrow.field(name).type:
            return True
    return bool(columns_to_rewrite(old, new))


def storage_for(project: ProjectConfig, env: EnvironmentSpec) -> LakeStorage:
    return LakeStorage.from_root(project.lake_root(env))


@dataclass
class OpenStage:
    """A collection being staged: what is known before reading, and the accumulators reading fills."""

    staged: StagedCollection
    acc: SchemaAccumulator
    window: Window
    wanted: set[date]
    bounds: Bounds
    extracted_at_ms: int
    storage: LakeStorage
    started: float


def open_stage(
    *, project: ProjectConfig, env: str, spec: CollectionSpec, dates: list[date], staging_dir: Path,
    now_ms: Callable[[], int] | None = None,
) -> OpenStage:
    """Read the collection's state, refuse what cannot be synced, and prepare the spools (nothing read yet)."""
    started = time.monotonic()
    env_spec = project.environment(env)
    storage = storage_for(project, env_spec)
    state = CollectionState.read(storage, env, spec.database, spec.collection)
    wanted = set(dates)
    window = Window(min(wanted), max(wanted), env_spec.tz)
    extracted_at_ms = now_ms() if now_ms else int(time.time() * 1000)
    if state.schema is not None and ID_TYPE_COLUMN not in state.schema.names:
        raise CollectionSyncError(
            f"{env}/{spec.database}.{spec.collection}: the lake table was written by an older kx-lake (no "
            f"{ID_TYPE_COLUMN} column, so ObjectId('…') and the text '…' could share one _id); rebuild it once: "
            f"delete {storage.table_dir(env, spec.database, spec.collection)} and its state file, then sync"
        )
    acc = SchemaAccumulator(
        spec.timestamp_column, spec.timestamp_encoding, schema=state.schema, reserved_columns=reserved_columns(spec),
    )
    tokenizer = pii_tokenizer(project, env, spec)  # a missing key fails the collection before anything is spooled
    spool = DateSpool(staging_dir / env / spec.database / spec.collection, keep=staging_dir.parent)
    staged = StagedCollection(env, spec, sorted(wanted), [], spool, acc.schema, False, state, state.watermark_ms)
    staged.rejects = RejectSpool(spool.directory / "rejects.bson")
    staged.tokenizer = tokenizer
    staged.open_rejects = existing_keys(storage, env, spec.database, spec.collection)
    tomorrow = Window(project.partitions_start, project.partitions_start, env_spec.tz).date_of_ms(extracted_at_ms)
    tomorrow += timedelta(days=1)
    bounds = Bounds(Window(project.partitions_start, project.partitions_start, env_spec.tz),
                    Window(tomorrow, tomorrow, env_spec.tz))
    return OpenStage(staged, acc, window, wanted, bounds, extracted_at_ms, storage, started)


Reextract = Callable[[Window, set[date]], None]


def close_stage(
    stage: OpenStage, client: MongoClient, project: ProjectConfig, seen: dict[str, int], reextract: Reextract,
    log: logging.Logger | None = None,
) -> StagedCollection:
    """After reading: the checks (partition columns, watermark guard), the older dates a widening
    rewrites (`reextract(window, dates)` reads them again from the source when the lake files cannot
    be rewritten alone), the final schema, watermark and coverage. Removes the spool on failure."""
    log = log or _LOG
    staged, acc, window, wanted, storage = stage.staged, stage.acc, stage.window, stage.wanted, stage.storage
    spec, env, state = staged.spec, staged.env, staged.state_before
    env_spec = project.environment(env)
    try:
        if spec.partition_columns and staged.rows and not any(seen.values()):
            raise CollectionSyncError(
                f"{env}/{spec.database}.{spec.collection}: none of the configured partition columns "
                f"{list(spec.partition_columns)} exist in the data ({staged.rows} documents read)"
            )
        check_watermark(client, spec, window, wanted, staged, env)
        if state.schema is not None and needs_rewrite(state.schema, acc.schema):
            existing = {p.date for p in storage.list_partitions(env, spec.database, spec.collection)}
            rewrite = sorted(existing - wanted)
            risks = widening_risks(state.schema, with_id_type(acc.schema)) if rewrite else {}
            if rewrite and not risks:
                log.info(f"{staged.name}: schema widened; rewriting {len(rewrite)} older partition(s) from the lake files")
            elif rewrite:  # some old values may not determine their new rendering: take what the source still has
                log.info(f"{staged.name}: schema widened ({', '.join(sorted(risks))} may not rewrite from the files); "
                         f"re-extracting {len(rewrite)} older partition(s), keeping every version already in the lake")
                filt = staged.source_filter
                reextract(Window(rewrite[0], rewrite[-1], env_spec.tz), set(rewrite))
                staged.source_filter = filt
            staged.rewrite_dates = rewrite
        staged.spool.close()
        staged.rejects.close()
    except BaseException:
        staged.spool.remove()
        raise
    staged.schema = with_id_type(acc.schema)
    staged.schema_changed = state.schema is None or acc.schema.fingerprint != state.schema.fingerprint
    if staged.max_ts_ms is not None:
        staged.watermark_ms = max(staged.max_ts_ms, state.watermark_ms or staged.max_ts_ms)
    staged.watermark_ms = capped_watermark(staged.watermark_ms, stage.extracted_at_ms)
    coverage = advance(state.synced_until_ms, wanted, window, stage.extracted_at_ms, project.partitions_start)
    staged.synced_until_ms, staged.coverage_gap = coverage.synced_until_ms, coverage.gap
    if coverage.gap:
        log.warning(f"{staged.name}: {coverage.gap}")
    staged.duration_s = time.monotonic() - stage.started
    if staged.fallback_deferred:
        log.warning(f"{staged.name}: {staged.fallback_deferred} document(s) without a timestamp are placed "
                    "(timestamp_fallback) on dates outside this run; a run over those dates or `reconcile` lands them")
    if staged.rejects.count:
        log.warning(f"{staged.name}: {staged.rejects.count} document(s) rejected (undecodable, no usable or "
                    f"placeable {spec.timestamp_column!r}, or values that cannot be harmonized); see the kx_rejects table")
    log.info(f"{staged.name}: staged {staged.rows} documents over {len(staged.rows_by_date)} date(s)")
    return staged


def stage_collection(
    *, client: MongoClient, project: ProjectConfig, env: str, spec: CollectionSpec, dates: list[date],
    staging_dir: Path, log: logging.Logger | None = None, now_ms: Callable[[], int] | None = None,
    source: BatchSource | None = None,
) -> StagedCollection:
    """The local engine's staging: one query for the whole window. `now_ms`: the clock (UTC epoch ms)
    that caps `synced_until`; injected by tests. `source`: the window's raw batches instead of the
    server's (documents a test server cannot store)."""
    stage = open_stage(project=project, env=env, spec=spec, dates=dates, staging_dir=staging_dir, now_ms=now_ms)
    staged, acc = stage.staged, stage.acc
    try:
        seen = scan_window(client, spec, stage.window, stage.wanted, staged.spool, acc, staged, stage.bounds, source)
    except BaseException:
        staged.spool.remove()
        raise

    def reextract(window: Window, dates: set[date]) -> None:
        scan_window(client, spec, window, dates, staged.spool, acc, staged, source=source)

    return close_stage(stage, client, project, seen, reextract, log)


def converter_for(project: ProjectConfig, staged: StagedCollection) -> Converter:
    spec = staged.spec
    return Converter(
        staged.schema, project.environment(staged.env).tz, spec.timestamp_column, spec.timestamp_encoding,
        reserved_columns=reserved_columns(spec),
    )


Reject = Callable[[str, bytes | None, dict], None]


def publish_date(
    project: ProjectConfig, staged: StagedCollection, conv: Converter, day: date,
    pairs: Iterable[tuple[list[bytes], list[dict]]], spill_dir: Path, reject: Reject,
) -> list[WrittenFile]:
    """Replace one date of the table with the converted documents (chunks of (raw BSON, dicts)) merged
    with the rows that stay; a document the converter refuses goes to `reject(why, raw, doc)`."""
    spec, env = staged.spec, staged.env
    env_spec = project.environment(env)
    try:
        leaves = spill_date(pairs, conv, spec.partition_columns, spill_dir, reject)
        return storage_for(project, env_spec).write_partition(
            env, spec.database, spec.collection, day, leaves,
            conv.arrow_schema, id_columns=spec.partition_columns,
            keep_existing=keep_existing(staged, env_spec.tz, leaves),
        )
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)


def _dates_to_write(staged: StagedCollection, existing: Callable[[], set[str]]) -> list[date]:
    """The dates whose files change. A requested date with no document staged would be rewritten from
    its own files into the same rows (re-materializing merges and never drops a version): skipped
    under an unchanged schema — a cycle with nothing new rewrote every leaf of its look-back dates,
    for every collection — and, under a changed one, skipped when it has no files (`existing`: the
    table's `date=` directory names; half the dates of a full load hold no document)."""
    rewrite = set(staged.rewrite_dates)
    changed = [d for d in staged.dates if d in rewrite or staged.rows_by_date.get(d)]
    if not staged.schema_changed or len(changed) == len(staged.dates):
        return changed
    on_disk = existing()
    return [d for d in staged.dates if d in rewrite or staged.rows_by_date.get(d) or date_segment(d) in on_disk]


def publish_staged(project: ProjectConfig, staged: StagedCollection, log: logging.Logger | None = None) -> PublishedCollection:
    """Write the dates (unless an engine already did: `staged.published`), then rejects, then state."""
    log = log or _LOG
    started = time.monotonic()
    spec, env = staged.spec, staged.env
    storage = storage_for(project, project.environment(env))
    unchanged: list[date] = []
    try:
        if staged.published is None:
            conv = converter_for(project, staged)
            files: list[WrittenFile] = []
            records = PublishedDates(staged, storage, project.environment(env).timezone)
            dates = _dates_to_write(staged, lambda: storage.date_dirs(env, spec.database, spec.collection))
            unchanged = records.skippable(dates)
            skipped = set(unchanged)
            written = [d for d in dates if d not in skipped]
            for day in written:
                def reject(why: str, raw: bytes | None, doc: dict, day: date = day) -> None:
                    staged.rejects.append(why, raw, doc)
                    staged.rows_by_date[day] -= 1
                files += publish_date(project, staged, conv, day, staged.spool.read_pairs(day),
                                      staged.spool.directory / "leaves" / day.isoformat(), reject)
            published_dates = records.after(written)
        else:
            files = list(staged.published)
            published_dates = forget(staged, staged.dates)
        rejects = publish_rejects(storage, env, spec.database, spec.collection, staged.rejects, staged.landed_rejects) \
            if staged.rejects is not None else RejectsOutcome(0, 0, 0)
        version = staged.state_before.schema_version + (1 if staged.schema_changed else 0)
        faults.reached("before_state")
        CollectionState(staged.schema, version, staged.watermark_ms, staged.synced_until_ms,
                        published_dates=published_dates).write(storage, env, spec.database, spec.collection)
    finally:
        staged.spool.remove()
    same = f", {len(unchanged)} unchanged (same documents and files as last published, not rewritten)" \
        if unchanged else ""
    log.info(f"{staged.name}: published {len(files)} file(s), {staged.rows} rows, {len(staged.dates)} date(s){same}")
    return PublishedCollection(staged, files, version, time.monotonic() - started, rejects, len(unchanged))


def table_ref(project: ProjectConfig, env: str, spec: CollectionSpec) -> LakeTableRef:
    storage = storage_for(project, project.environment(env))
    state = CollectionState.read(storage, env, spec.database, spec.collection)
    return LakeTableRef(
        env, spec.database, spec.collection, storage.table_dir(env, spec.database, spec.collection),
        spec.partition_columns, state.schema,
    )
