"""Stage and publish one collection × environment for a set of partition dates.

stage_collection (in the asset step; every data-dependent failure happens here):
  one query for the window spanning the dates, (timestamp, _id) order → each document routed to its
  partition date in the environment's timezone → raw BSON spooled per date, the document observed
  by the schema accumulator (seeded with the stored lake schema, so types only widen) → checks: the
  partition columns exist, the watermark guard. If an existing column's type changed, every other
  date already in the lake is re-extracted too, so after publication every file of the table has
  exactly the catalog's column types (added columns alone rewrite nothing: files are read by name).
publish_staged (in the IO manager; deterministic): per date, spool → dicts → convert with the final
  schema → one Parquet file per leaf (LakeStorage.write_partition replaces the date atomically per
  file and removes stale leaves; a date with no documents left is emptied; a date with nothing new
  under an unchanged schema is left as it is) → state (schema,
  watermark) written last, so the watermark only advances once the data is safe.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import bson
import pyarrow as pa
from pymongo import MongoClient

from kx_lake.lib.config import CollectionSpec, EnvironmentSpec, ProjectConfig
from kx_lake.lib.extract.reader import DICT_OPTIONS, ReadStats, iter_window
from kx_lake.lib.extract.windows import Bounds, Window, window_filter
from kx_lake.lib.harmonize import Converter, SchemaAccumulator, StructType, columns_to_rewrite
from kx_lake.lib.harmonize.rewiden import widening_risks
from kx_lake.lib.lake.coverage import advance
from kx_lake.lib.lake.guard import check_watermark
from kx_lake.lib.lake.partition_values import LeafKey, split_leaf
from kx_lake.lib.lake.spool import DateSpool
from kx_lake.lib.lake.rejects import RejectsOutcome, RejectSpool, existing_keys, id_key, publish_rejects
from kx_lake.lib.lake.identity import ID_TYPE_COLUMN, fill_id_type, reserved_columns, with_id_type
from kx_lake.lib.lake.merge import keep_existing
from kx_lake.lib.lake.placement import pii_tokenizer, placement
from kx_lake.lib.lake.state import CollectionState
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
    min_ts_ms: int | None = None
    max_ts_ms: int | None = None
    source_filter: dict = field(default_factory=dict)
    read: ReadStats = field(default_factory=ReadStats)
    duration_s: float = 0.0

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


def _scan(
    client: MongoClient, spec: CollectionSpec, window: Window, wanted: set[date],
    spool: DateSpool, acc: SchemaAccumulator, staged: StagedCollection, env: str, bounds: Bounds | None = None,
) -> dict[str, int]:
    """Read a window, spool and observe the documents of the wanted dates; count partition columns seen.
    With `bounds`, documents no partition can hold are rejected (staged.rejects), never skipped."""
    coll = client[spec.database][spec.collection]
    filt = window_filter(spec.timestamp_column, window, bounds)
    staged.source_filter = filt
    seen = dict.fromkeys(spec.partition_columns, 0)
    tz, tokenize = window.tz, staged.tokenizer
    for batch in iter_window(coll, filt, spec.timestamp_column, stats=staged.read):
        kept = []
        for raw, doc in batch:
            raw_bytes = raw.raw
            if tokenize is not None:  # before anything is written, spool and rejects included
                doc = tokenize(doc)
                raw_bytes = bson.encode(doc, codec_options=DICT_OPTIONS)
            ts_ms, why = placement(doc, spec, tz, bounds)
            if ts_ms is None:
                if staged.rejects is not None:
                    staged.rejects.append(why, raw_bytes, doc)
                continue
            day = window.date_of_ms(ts_ms)
            if day not in wanted:
                continue
            for col in spec.partition_columns:
                if doc.get(col) is not None:
                    seen[col] += 1
            split_leaf(doc, spec.partition_columns)
            spool.append(day, raw_bytes)
            kept.append(doc)
            if staged.open_rejects:
                key = id_key(doc)
                if key in staged.open_rejects:
                    staged.landed_rejects.add(key)
            staged.rows_by_date[day] = staged.rows_by_date.get(day, 0) + 1
            staged.min_ts_ms = ts_ms if staged.min_ts_ms is None else min(staged.min_ts_ms, ts_ms)
            staged.max_ts_ms = ts_ms if staged.max_ts_ms is None else max(staged.max_ts_ms, ts_ms)
        acc.observe_many(kept)
    return seen


def stage_collection(
    *, client: MongoClient, project: ProjectConfig, env: str, spec: CollectionSpec, dates: list[date],
    staging_dir: Path, log: logging.Logger | None = None, now_ms: Callable[[], int] | None = None,
) -> StagedCollection:
    """`now_ms`: the clock (UTC epoch ms) that caps `synced_until`; injected by tests."""
    log = log or _LOG
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
    try:
        seen = _scan(client, spec, window, wanted, spool, acc, staged, env, bounds)
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
                rewrite_window = Window(rewrite[0], rewrite[-1], env_spec.tz)
                filt = staged.source_filter
                _scan(client, spec, rewrite_window, set(rewrite), spool, acc, staged, env)
                staged.source_filter = filt
            staged.rewrite_dates = rewrite
        spool.close()
        staged.rejects.close()
    except BaseException:
        spool.remove()
        raise
    staged.schema = with_id_type(acc.schema)
    staged.schema_changed = state.schema is None or acc.schema.fingerprint != state.schema.fingerprint
    if staged.max_ts_ms is not None:
        staged.watermark_ms = max(staged.max_ts_ms, state.watermark_ms or staged.max_ts_ms)
    coverage = advance(state.synced_until_ms, wanted, window, extracted_at_ms, project.partitions_start)
    staged.synced_until_ms, staged.coverage_gap = coverage.synced_until_ms, coverage.gap
    if coverage.gap:
        log.warning(f"{staged.name}: {coverage.gap}")
    staged.duration_s = time.monotonic() - started
    if staged.rejects.count:
        log.warning(f"{staged.name}: {staged.rejects.count} document(s) rejected (no usable or placeable "
                    f"{spec.timestamp_column!r}); see the kx_rejects table")
    log.info(f"{staged.name}: staged {staged.rows} documents over {len(staged.rows_by_date)} date(s)")
    return staged


def _leaves(staged: StagedCollection, conv: Converter, day: date) -> dict[LeafKey, list[pa.RecordBatch]]:
    """The date's rows per leaf: each spool chunk is converted once, reordered by leaf with one `take`,
    then cut into zero-copy slices (converting per leaf paid the converter's fixed cost per leaf, and a
    `take` per leaf its own: most leaves hold a few rows). Rows keep their spool order within a leaf."""
    leaves: dict[LeafKey, list[pa.RecordBatch]] = defaultdict(list)
    columns = staged.spec.partition_columns
    for chunk in staged.spool.read(day):
        keys = [split_leaf(doc, columns) for doc in chunk]
        batch = fill_id_type(conv.convert(chunk), chunk)
        rows: dict[LeafKey, list[int]] = defaultdict(list)
        for i, key in enumerate(keys):
            rows[key].append(i)
        if len(rows) == 1:
            leaves[keys[0]].append(batch)
            continue
        grouped = batch.take(pa.array([i for idx in rows.values() for i in idx], type=pa.int32()))
        start = 0
        for key, idx in rows.items():
            leaves[key].append(grouped.slice(start, len(idx)))
            start += len(idx)
    return leaves


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
    log = log or _LOG
    started = time.monotonic()
    spec, env = staged.spec, staged.env
    env_spec = project.environment(env)
    storage = storage_for(project, env_spec)
    conv = Converter(
        staged.schema, env_spec.tz, spec.timestamp_column, spec.timestamp_encoding,
        reserved_columns=reserved_columns(spec),
    )
    files: list[WrittenFile] = []
    try:
        for day in _dates_to_write(staged, lambda: storage.date_dirs(env, spec.database, spec.collection)):
            leaves = _leaves(staged, conv, day)
            files += storage.write_partition(
                env, spec.database, spec.collection, day, leaves,
                conv.arrow_schema, id_columns=spec.partition_columns,
                keep_existing=keep_existing(staged, env_spec.tz, leaves),
            )
        rejects = publish_rejects(storage, env, spec.database, spec.collection, staged.rejects, staged.landed_rejects) \
            if staged.rejects is not None else RejectsOutcome(0, 0, 0)
        version = staged.state_before.schema_version + (1 if staged.schema_changed else 0)
        CollectionState(staged.schema, version, staged.watermark_ms, staged.synced_until_ms).write(
            storage, env, spec.database, spec.collection
        )
    finally:
        staged.spool.remove()
    log.info(f"{staged.name}: published {len(files)} file(s), {staged.rows} rows, {len(staged.dates)} date(s)")
    return PublishedCollection(staged, files, version, time.monotonic() - started, rejects)


def table_ref(project: ProjectConfig, env: str, spec: CollectionSpec) -> LakeTableRef:
    storage = storage_for(project, project.environment(env))
    state = CollectionState.read(storage, env, spec.database, spec.collection)
    return LakeTableRef(
        env, spec.database, spec.collection, storage.table_dir(env, spec.database, spec.collection),
        spec.partition_columns, state.schema,
    )
