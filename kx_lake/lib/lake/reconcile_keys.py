"""The two sides of the reconcile diff, streamed as Arrow chunks of (id, type, timestamp, ...).

Source: every document's `_id` and timestamp only (a projection, raw batches), the timestamp turned
into the lake's convention (naive wall-clock ms in the environment's timezone, harmonize.clock) or
null when no partition can hold it, exactly as the sync decides (extract.timestamps, windows.Bounds,
and lake.placement's `timestamp_fallback`: such a document counts with its ObjectId time, on both sides,
since its lake rows hold a null timestamp).
Lake: every file's key columns only (`_id`, `_kx_id_type`, the timestamp column, `_kx_deleted`), with
its date and id-partition values from the path; the one-file-per-date×leaf layout makes most files
tiny, so they are read a few at a time on threads and handed on in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import bson
from bson import ObjectId
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pymongo import MongoClient

from kx_lake.lib.config import CollectionSpec
from kx_lake.lib.extract.reader import DICT_OPTIONS
from kx_lake.lib.extract.timestamps import MISSING, to_utc_ms
from kx_lake.lib.extract.windows import Bounds
from kx_lake.lib.harmonize.clock import LocalClock
from kx_lake.lib.harmonize.values import id_text
from kx_lake.lib.lake.identity import ID_TYPE_COLUMN, reserved_columns
from kx_lake.lib.lake.pipeline import CollectionSyncError
from kx_lake.lib.lake.placement import fallback_ms, objectid_ms
from kx_lake.lib.lake.reconcile_diff import SOURCE_SCHEMA
from kx_lake.lib.lake.rejects import id_type
from kx_lake.lib.lake.tombstones import DELETED_COLUMN, timestamp_path
from kx_lake.lib.storage import DataFile, LakeStorage

CHUNK = 50_000
_READERS, _READ_WINDOW = 4, 64  # lake files read at once, and submitted per window


def source_keys(
    client: MongoClient, spec: CollectionSpec, tz, bounds: Bounds, chunk: int = CHUNK,
) -> Iterator[pa.Table]:
    """(id, type, timestamp) of every source document, in Arrow chunks; only `_id` and the timestamp
    travel (a projection), read as raw batches. The timestamp is the lake's (wall-clock ms in `tz`),
    null when no partition can hold it (outside `bounds`, or not a usable timestamp)."""
    clock = LocalClock(tz)
    coll = client[spec.database][spec.collection]
    ids: list[str | None] = []
    types: list[str] = []
    stamps: list[int | None] = []
    cursor = coll.find_raw_batches({}, projection={spec.timestamp_column: 1}, batch_size=10_000)
    for raw in cursor:
        for doc in bson.decode_all(raw, DICT_OPTIONS):
            value = doc.get("_id")
            ids.append(id_text(value))
            types.append(id_type(value))
            ms = to_utc_ms(doc.get(spec.timestamp_column, MISSING), tz)
            if ms is None:
                ms = fallback_ms(doc, spec)
            stamps.append(clock.local_ms(ms) if ms is not None and bounds.start_ms <= ms < bounds.end_ms else None)
        if len(ids) >= chunk:
            yield pa.table([ids, types, stamps], schema=SOURCE_SCHEMA)
            ids, types, stamps = [], [], []
    if ids:
        yield pa.table([ids, types, stamps], schema=SOURCE_SCHEMA)


def lake_keys(
    storage: LakeStorage, env: str, spec: CollectionSpec, days: list[date] | None = None, chunk: int = CHUNK,
    tz=None,
) -> Iterator[pa.Table]:
    """(id, type, timestamp ms, deleted, day, leaf) of every row of the table (or of `days`), reading only
    those columns. Most files hold a few rows, so they are read a few at a time on threads (Parquet
    reads release the GIL) and handed on in chunks of about `chunk` rows."""
    ts_path = timestamp_path(spec, reserved_columns(spec))
    where = f"{env}/{spec.database}.{spec.collection}"
    fallback = spec.timestamp_fallback == "objectid"
    if fallback and tz is None:
        raise ValueError(f"{env}/{spec.database}.{spec.collection}: timestamp_fallback needs the environment's timezone")
    clock = LocalClock(tz) if fallback else None
    files = [f for d in days for f in storage.data_files(env, spec.database, spec.collection, d)] if days is not None \
        else storage.data_files(env, spec.database, spec.collection)
    pending: list[pa.Table] = []
    rows = 0
    with ThreadPoolExecutor(max_workers=_READERS, thread_name_prefix="kx-reconcile") as pool:
        for start in range(0, len(files), _READ_WINDOW):  # a bounded window: memory stays one window deep
            window = files[start:start + _READ_WINDOW]
            for table in pool.map(lambda f: _file_keys(storage, f, ts_path, where, clock), window):
                pending.append(table)
                rows += table.num_rows
                if rows >= chunk:
                    yield pa.concat_tables(pending)
                    pending, rows = [], 0
    if pending:
        yield pa.concat_tables(pending)


def _with_fallback(ids: pa.Array, types: pa.Array, ts: pa.Array, clock: LocalClock) -> pa.Array:
    """Null timestamps of ObjectId documents → their ObjectId time (wall-clock ms), as the source side."""
    out = ts.to_pylist()
    for i, (value, kind) in enumerate(zip(ids.to_pylist(), types.to_pylist(), strict=True)):
        if out[i] is None and kind == "objectId" and value is not None and ObjectId.is_valid(value):
            out[i] = clock.local_ms(objectid_ms(ObjectId(value)))
    return pa.array(out, pa.int64())


def _file_keys(storage: LakeStorage, file: DataFile, ts_path: tuple[str, ...], where: str,
               clock: LocalClock | None = None) -> pa.Table:
    """`clock`: given when the collection has timestamp_fallback (null timestamps → ObjectId time)."""
    path, _size, day, ids = file
    with storage.fs.open(path, "rb") as f:
        pf = pq.ParquetFile(f)
        names = pf.schema_arrow.names
        if ID_TYPE_COLUMN not in names:
            raise CollectionSyncError(f"{where}: a lake file has no {ID_TYPE_COLUMN} column (written by an older "
                                      "kx-lake); rebuild the table once (delete it and its state, then sync)")
        wanted = ["_id", ID_TYPE_COLUMN, ts_path[0], *([DELETED_COLUMN] if DELETED_COLUMN in names else [])]
        table = pf.read(columns=wanted)
    n = table.num_rows
    ts = table.column(ts_path[0])
    for step in ts_path[1:]:
        ts = pc.struct_field(ts, step)
    ts = ts.cast(pa.int64())
    if clock is not None and ts.null_count:
        ts = _with_fallback(table.column("_id").cast(pa.string()), table.column(ID_TYPE_COLUMN).cast(pa.string()),
                            ts, clock)
    deleted = table.column(DELETED_COLUMN) if DELETED_COLUMN in table.column_names else pa.nulls(n, pa.bool_())
    return pa.table({
        "id": table.column("_id").cast(pa.string()), "t": table.column(ID_TYPE_COLUMN).cast(pa.string()),
        "ts": ts, "deleted": deleted.cast(pa.bool_()),
        "day": pa.repeat(pa.scalar(day, pa.date32()), n),
        "leaf": pa.repeat(pa.scalar([v for _, v in ids], pa.list_(pa.string())), n),
    })
