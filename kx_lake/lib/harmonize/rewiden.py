"""Rewriting lake rows to a widened schema from the rows themselves, not from the source.

When a collection's schema widens (`merge`), files written under the old schema must be rewritten
under the new one. Re-reading MongoDB for that would empty a date whose documents were purged at the
source, so `widen_batch` maps rows as the Converter wrote them under `old` to exactly the rows it
would write from the same documents under `new` - column by column, in Arrow, recursively:

  * unchanged types pass through untouched (the common case costs nothing); all-null -> null of `new`;
  * int64 -> double / decimal, decimal -> wider decimal: Arrow casts (exact by the merge rules);
  * scalar -> string, anything -> json: the canonical text / Extended JSON (lake_render.py);
  * struct -> struct: field by field, added fields null; a non-object -> struct{.., _kx_value}: the
    value moves to `_kx_value`; `{}` (struct{}) -> a struct of nulls; list<A> -> list<B> elementwise.

Where the old value doesn't determine the new rendering (lake_render.py lists the cases: integral
doubles, decimals and ambiguous text rendered as text/json, objects as json, DST folds), it raises
`NotWidenableFromLake` naming the column, so the caller re-extracts that date instead. It raises
only for values actually present; `widening_risks` says up front which columns might.
"""

from __future__ import annotations

from typing import Iterable, TypeVar
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from kx_lake.lib.config.collections import TimestampEncoding
from kx_lake.lib.harmonize import lake_render
from kx_lake.lib.harmonize.clock import LocalClock
from kx_lake.lib.harmonize.errors import format_path
from kx_lake.lib.harmonize.lake_render import Lossy
from kx_lake.lib.harmonize.names import VALUE_FIELD, mapped_path, reserved_names
from kx_lake.lib.harmonize.types import (
    TIMESTAMP,
    DecimalType,
    DoubleType,
    IntType,
    JsonType,
    LakeType,
    ListType,
    NullType,
    StringType,
    StructType,
    TimestampType,
)
from kx_lake.lib.harmonize.widen import is_widening

Batch = TypeVar("Batch", pa.RecordBatch, pa.Table)
Path = tuple[str, ...]


class NotWidenableFromLake(ValueError):
    """Column `column` can't be rewritten from `old` to `new` from the lake value alone (`reason`)."""

    def __init__(self, column: str, old: LakeType, new: LakeType, reason: str):
        self.column, self.old, self.new, self.reason = column, old, new, reason
        super().__init__(f"column '{column}': {old} -> {new} can't be rewritten from the lake files: {reason}")


class LakeBatchMismatch(ValueError):
    """The batch doesn't hold the old schema's representation of column `column`."""

    def __init__(self, column: str, message: str):
        self.column = column
        super().__init__(f"column '{column}': {message}")


def widen_batch(
    batch: Batch,
    old: StructType,
    new: StructType,
    *,
    tz: ZoneInfo,
    timestamp_column: str,
    timestamp_encoding: TimestampEncoding | str = TimestampEncoding.DATE,
    reserved_columns: Iterable[str] = (),
) -> Batch:
    """Rows the Converter wrote under `old` -> the rows it writes from the same documents under `new`.

    `tz`, `timestamp_column`, `reserved_columns`: as given to the Converter. `reserved_columns` (the
    partition columns) are also left out of the result, as the storage layer leaves them out of the
    files: the result's schema is `new.to_arrow_schema()` without the fields so named, in order
    (`storage.parquet.data_schema`). Batch columns are matched by name; a reserved one is ignored,
    a missing one (or a struct field missing from a column, as in files written before fields were
    added) is null. The timestamp column is `timestamp` in both schemas, so its encoding never
    matters. Raises NotWidenableFromLake (caller: re-extract the date) or LakeBatchMismatch.
    """
    TimestampEncoding(timestamp_encoding)
    reserved = frozenset(reserved_columns)
    if not is_widening(old, new):
        raise ValueError(f"the new schema is not a widening of the old one: {old} -> {new}")
    _check_timestamp_column(new, mapped_path(timestamp_column, reserved_names(reserved)), timestamp_column)
    fields = [(name, typ) for name, typ in new.fields if name not in reserved]
    schema = pa.schema([pa.field(name, typ.to_arrow()) for name, typ in fields])
    widener = _Widener(LocalClock(tz), old, fields, schema, reserved)
    if isinstance(batch, pa.Table):
        return pa.Table.from_batches([widener.batch(b) for b in batch.to_batches()], schema)
    return widener.batch(batch)


def widening_risks(old: StructType, new: StructType) -> dict[str, str]:
    """Column paths whose rewrite from `old` to `new` raises NotWidenableFromLake if they hold certain
    values (the reason says which); a column not listed always rewrites exactly."""
    risks: dict[str, str] = {}
    _risks(old, new, (), risks)
    return risks


class _Widener:
    """Rewrites the batches of one widening: `fields` (of `new`, minus reserved) make `schema`."""

    def __init__(
        self, clock: LocalClock, old: StructType, fields: list[tuple[str, LakeType]], schema: pa.Schema, reserved: frozenset[str]
    ):
        self.clock, self.old, self.fields, self.schema, self.reserved = clock, old, fields, schema, reserved

    def batch(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        present = {name for name in batch.schema.names if name not in self.reserved}
        if extra := sorted(present - set(self.old.names)):
            raise LakeBatchMismatch(extra[0], "not in the old schema")
        arrays = []
        for name, typ in self.fields:
            source = self.old.get(name)
            if name in present and source is not None:
                arrays.append(self.array(batch.column(name), source, typ, (name,)))
            else:
                arrays.append(pa.nulls(batch.num_rows, typ.to_arrow()))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def array(self, arr: pa.Array, old: LakeType, new: LakeType, path: Path) -> pa.Array:
        if old == new and arr.type == new.to_arrow():
            return arr
        if isinstance(old, StructType) and old.fields:  # struct fields are checked one by one
            fits = isinstance(arr.type, pa.StructType)
        else:
            fits = isinstance(arr.type, pa.ListType) if isinstance(old, ListType) else arr.type == old.to_arrow()
        if not fits:
            raise LakeBatchMismatch(format_path(path), f"Arrow type {arr.type} is not the type of {old}")
        if isinstance(old, NullType) and arr.null_count != len(arr):
            raise LakeBatchMismatch(format_path(path), "a null column holds values")
        if arr.null_count == len(arr):
            return pa.nulls(len(arr), new.to_arrow())
        try:
            return self._widen(arr, old, new, path)
        except Lossy as lossy:
            raise NotWidenableFromLake(format_path(path), old, new, lossy.reason) from None

    def _widen(self, arr: pa.Array, old: LakeType, new: LakeType, path: Path) -> pa.Array:
        if isinstance(new, StructType) and new.fields:
            if isinstance(old, StructType) and old.fields:
                return self._struct(arr, old, new, path)
            kept = None  # struct{} (stored as "{}"): objects, all of whose fields are null
            if not isinstance(old, StructType):  # a non-object: its value moves to _kx_value
                kept = self.array(arr, old, new.get(VALUE_FIELD), (*path, VALUE_FIELD))  # type: ignore[arg-type]
            children = [pa.nulls(len(arr), t.to_arrow()) for _, t in new.fields]
            if kept is not None:
                children[new.names.index(VALUE_FIELD)] = kept
            return pa.StructArray.from_arrays(children, fields=list(new.to_arrow()), mask=arr.is_null())
        if isinstance(new, ListType) and isinstance(old, ListType):
            return _list_like(arr, self.array(arr.flatten(), old.element, new.element, (*path, "[]")), new)
        if isinstance(new, JsonType):
            return lake_render.as_json(arr, old, self.clock)
        if isinstance(new, StringType):
            return lake_render.as_text(arr, old, self.clock)
        if isinstance(new, (DoubleType, DecimalType)) and isinstance(old, (IntType, DecimalType)):
            return arr.cast(new.to_arrow())  # safe cast: exact, as the merge rules guarantee
        if isinstance(new, IntType) and isinstance(old, IntType):
            return arr
        raise ValueError(f"{format_path(path)}: {old} -> {new} is not a widening")

    def _struct(self, arr: pa.StructArray, old: StructType, new: StructType, path: Path) -> pa.Array:
        have = dict(zip((f.name for f in arr.type), arr.flatten()))  # flatten: children null where arr is
        if extra := sorted(have.keys() - set(old.names)):
            raise LakeBatchMismatch(format_path((*path, extra[0])), "field not in the old schema")
        children = []
        for name, typ in new.fields:
            source, child = old.get(name), have.get(name)
            if source is None or child is None:
                children.append(pa.nulls(len(arr), typ.to_arrow()))
            else:
                children.append(self.array(child, source, typ, (*path, name)))
        return pa.StructArray.from_arrays(children, fields=list(new.to_arrow()), mask=arr.is_null())


def _list_like(arr: pa.ListArray, values: pa.Array, new: ListType) -> pa.Array:
    """A list array with `arr`'s lengths and nulls over `values` (the widened `arr.flatten()`)."""
    lengths = pc.fill_null(pc.list_value_length(arr), 0)
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(lengths).cast(pa.int32())])
    return pa.ListArray.from_arrays(offsets, values, type=new.to_arrow(), mask=arr.is_null())


def _check_timestamp_column(new: StructType, path: Path, configured: str) -> None:
    typ: LakeType | None = new
    for name in path:
        typ = typ.get(name) if isinstance(typ, StructType) else None
    if typ is not None and typ != TIMESTAMP:
        raise ValueError(f"schema has {typ} for the timestamp column {configured!r}")


def _risks(old: LakeType, new: LakeType, path: Path, out: dict[str, str]) -> None:
    if old == new or isinstance(old, NullType):
        return
    if isinstance(new, StructType) and new.fields:
        if isinstance(old, StructType):
            for name, typ in old.fields:
                _risks(typ, new.get(name), (*path, name), out)  # type: ignore[arg-type]
        else:
            _risks(old, new.get(VALUE_FIELD), (*path, VALUE_FIELD), out)  # type: ignore[arg-type]
    elif isinstance(new, ListType) and isinstance(old, ListType):
        _risks(old.element, new.element, (*path, "[]"), out)
    elif isinstance(new, (StringType, JsonType)):
        reason = _render_risk(old, isinstance(new, JsonType))
        if reason:
            out[format_path(path)] = reason


def _render_risk(old: LakeType, json: bool) -> str | None:
    if isinstance(old, DoubleType):
        return lake_render.INTEGRAL_DOUBLE
    if isinstance(old, DecimalType):
        return lake_render.DECIMAL_TEXT
    if isinstance(old, TimestampType):
        return lake_render.DST_FOLD
    if json and isinstance(old, StringType):
        return lake_render.AMBIGUOUS_TEXT
    if json and isinstance(old, StructType) and not set(old.names) <= lake_render.KEYLESS:
        return lake_render.OBJECT_KEYS
    if json and isinstance(old, StructType) and old.get(VALUE_FIELD) is not None:
        return _render_risk(old.get(VALUE_FIELD), json)  # type: ignore[arg-type]
    if json and isinstance(old, ListType):
        return _render_risk(old.element, json)
    return None
