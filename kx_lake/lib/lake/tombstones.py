"""Tombstones: the lake's record that a document is gone from the source.

A tombstone is one extra row of the collection's table: the document's `_id` and `_kx_id_type`,
`_kx_deleted` = true, the timestamp column = when the reconcile pass noticed the deletion, every
other data column null. It goes into the detection date's partition, in the leaf of the document's
last version, merged with the rows already there (LakeStorage.write_partition keep_existing), so no
version is ever removed: the history keeps the document, and `_latest` (catalog.views) hides an
identity whose newest row is a tombstone. A document that comes back with a newer timestamp is
newer than its tombstone and shows again.

`_kx_deleted` is an added top-level column: older files are not rewritten (they read it as null),
which is why `conform_to` fills the columns a file lacks when its rows are merged back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pyarrow as pa

from kx_lake.lib.config import CollectionSpec
from kx_lake.lib.harmonize.names import mapped_path, reserved_names
from kx_lake.lib.harmonize.types import BOOL, StructType
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.storage import LakeStorage

DELETED_COLUMN = "_kx_deleted"


@dataclass(frozen=True)
class Tombstone:
    id: str
    id_type: str
    leaf: tuple[str | None, ...]  # the id partition values of the document's last version
    ts_ms: int  # the lake's (wall-clock) ms: the detection time, or just after the last version if later


@dataclass(frozen=True)
class Withdrawal:
    """A tombstone to take back: its document is at the source again, with a timestamp not newer than it."""

    id: str
    id_type: str
    ts_ms: int
    day: date


def with_deleted(schema: StructType) -> StructType:
    """The lake schema plus `_kx_deleted` (true only on tombstones)."""
    if DELETED_COLUMN in schema.names:
        return schema
    return StructType.of({**dict(schema.fields), DELETED_COLUMN: BOOL})


def conform_to(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with every top-level column of `schema` it lacks added as nulls (files written before a
    column was added, e.g. `_kx_deleted`, merged back into a re-written date)."""
    for f in schema:
        if f.name not in table.column_names:
            table = table.append_column(f, pa.nulls(table.num_rows, f.type))
    return table


def timestamp_path(spec: CollectionSpec, reserved: Iterable[str]) -> tuple[str, ...]:
    return mapped_path(spec.timestamp_column, reserved_names(tuple(reserved)))


def _column(typ: pa.DataType, path: tuple[str, ...], values: pa.Array, n: int) -> pa.Array:
    """A column of `typ` whose value at `path` (inside structs) is `values`, everything else null."""
    if not path:
        if pa.types.is_timestamp(typ):  # `values` are epoch ms whatever the column's unit
            values = values.cast(pa.timestamp("ms", tz=typ.tz))
        return values.cast(typ)
    children = [_column(f.type, path[1:], values, n) if f.name == path[0] else pa.nulls(n, f.type) for f in typ]
    return pa.StructArray.from_arrays(children, fields=list(typ))


def tombstone_batch(schema: pa.Schema, ts_path: tuple[str, ...], stones: list[Tombstone]) -> pa.RecordBatch:
    n = len(stones)
    ts = pa.array([s.ts_ms for s in stones], pa.int64())
    arrays = []
    for f in schema:
        if f.name == "_id":
            arrays.append(pa.array([s.id for s in stones], pa.string()).cast(f.type))
        elif f.name == "_kx_id_type":
            arrays.append(pa.array([s.id_type for s in stones], pa.string()))
        elif f.name == DELETED_COLUMN:
            arrays.append(pa.array([True] * n, pa.bool_()))
        elif f.name == ts_path[0]:
            arrays.append(_column(f.type, ts_path[1:], ts, n))
        else:
            arrays.append(pa.nulls(n, f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def write_tombstones(
    storage: LakeStorage, env: str, spec: CollectionSpec, reserved: Iterable[str], stones: list[Tombstone],
    day: date, withdrawals: list[Withdrawal] = (),
) -> int:
    """Write `stones` into `day`'s partition and drop the `withdrawals` from theirs; return the rows
    written. The stored schema gains `_kx_deleted` first (an added column: readers see null in older
    files), then the data is merged, so a failure leaves at worst an unused column."""
    if not stones and not withdrawals:
        return 0
    state = CollectionState.read(storage, env, spec.database, spec.collection)
    if state.schema is None:
        raise ValueError(f"{env}/{spec.database}.{spec.collection}: no lake schema (never synced)")
    schema = with_deleted(state.schema)
    if schema != state.schema:
        CollectionState(schema, state.schema_version + 1, state.watermark_ms, state.synced_until_ms).write(
            storage, env, spec.database, spec.collection)
    arrow = schema.to_arrow_schema()
    ts_path = timestamp_path(spec, reserved)
    dropped: dict[date, set[tuple[str, str, int]]] = defaultdict(set)
    for w in withdrawals:
        dropped[w.day].add((w.id, w.id_type, w.ts_ms))
    days = sorted(set(dropped) | ({day} if stones else set()))
    for d in days:
        leaves: dict[tuple, list[pa.RecordBatch]] = defaultdict(list)
        if d == day:
            by_leaf: dict[tuple, list[Tombstone]] = defaultdict(list)
            for s in stones:
                by_leaf[s.leaf].append(s)
            for leaf, group in by_leaf.items():
                leaves[leaf].append(tombstone_batch(arrow, ts_path, group))
        storage.write_partition(env, spec.database, spec.collection, d, dict(leaves), arrow,
                                id_columns=spec.partition_columns,
                                keep_existing=_keeper(arrow, ts_path, dropped.get(d, set())))
    return len(stones)


def _keeper(arrow: pa.Schema, ts_path: tuple[str, ...], drop: set[tuple[str, str, int]]):
    def keep(table: pa.Table) -> pa.Table:
        table = conform_to(table, arrow)
        if not drop:
            return table
        ts = table.column(ts_path[0])
        for step in ts_path[1:]:
            ts = pa.chunked_array([c.field(step) for c in ts.chunks], ts.type.field(step).type)
        keys = zip(table.column("_id").to_pylist(), table.column("_kx_id_type").to_pylist(),
                   ts.cast(pa.int64()).to_pylist(), table.column(DELETED_COLUMN).to_pylist(), strict=True)
        mask = [not (deleted and (i, t, ms) in drop) for i, t, ms, deleted in keys]
        return table.filter(pa.array(mask, pa.bool_()))

    return keep
