"""Conversion: documents -> one Arrow record batch whose schema is exactly the lake schema's.

Why compiled, columnar builders: the schema is fixed for a run, so each lake type is compiled once
into a closure turning a column of Python values into an Arrow array. Columns whose values are
already what Arrow needs (str, int, float, bool, lists, dicts) go to pyarrow unchanged and are built
in C++; only values needing a canonical rendering (mixed string columns, json, decimals) are
touched in Python, through exact-type dispatch. Structs are assembled from child arrays built
from per-key columns (columns.py), in row order.

Every builder checks the Python types it receives against what its column may hold and raises
rather than writing null or letting pyarrow coerce (pyarrow would silently take True as 1.0, bytes
as text, and truncate microseconds). A value the schema can't hold means the schema is stale
(inference didn't see it): the error names the field and the document's `_id`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from itertools import accumulate, chain, repeat
from operator import attrgetter, is_, methodcaller
from typing import Any, Callable, Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

import pyarrow as pa
from bson import Decimal128, Int64
from bson.datetime_ms import DatetimeMS

from kx_lake.lib.config.collections import TimestampEncoding
from kx_lake.lib.harmonize.clock import TIMESTAMP_MS, LocalClock, timestamp_column_ms, utc_ms
from kx_lake.lib.harmonize.columns import split_objects
from kx_lake.lib.harmonize.errors import HarmonizeError, ValueProblem
from kx_lake.lib.harmonize.names import ID_FIELD, OVERFLOW_FIELD, VALUE_FIELD, mapped_path
from kx_lake.lib.harmonize.types import (
    BoolType,
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
from kx_lake.lib.harmonize.values import (
    DICT_TYPES,
    EXT_TYPES,
    LIST_TYPES,
    TEXT_TYPES,
    UnsupportedValue,
    decimal128_scaled,
    decimal128_value,
    doc_label,
    id_text,
    json_or_none,
    text_or_none,
)

NoneType = type(None)
Build = Callable[[Sequence[Any]], pa.Array]
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, UnsupportedValue, ValueError, TypeError)
_TO_DECIMAL: dict[type, Callable[[Any], Any]] = {
    Decimal128: decimal128_value,
    Decimal: lambda v: v,  # as is: unary plus would round to the context precision
    int: Decimal,
    Int64: Decimal,
    NoneType: lambda v: None,
}


def _check(types: set[type], allowed: frozenset[type], path: tuple[str, ...], typ: LakeType) -> None:
    if not types <= allowed:
        bad = ", ".join(sorted(t.__name__ for t in types - allowed))
        raise ValueProblem(path, f"{bad} value can't be stored in a {typ} column (stale schema?)")


def _array(values: Iterable[Any], arrow: pa.DataType, path: tuple[str, ...]) -> pa.Array:
    try:
        return pa.array(values if isinstance(values, (list, tuple)) else list(values), arrow)
    except _ARROW_ERRORS as exc:
        raise ValueProblem(path, f"can't store value as {arrow}: {exc}") from None


class Converter:
    """Converts documents to record batches of one fixed lake schema."""

    def __init__(
        self,
        schema: StructType,
        tz: ZoneInfo,
        timestamp_column: str,
        timestamp_encoding: TimestampEncoding | str = TimestampEncoding.DATE,
    ):
        self.schema = schema
        self.arrow_schema = schema.to_arrow_schema()
        self.clock = LocalClock(tz)
        self.timestamp_column = timestamp_column
        self.timestamp_encoding = TimestampEncoding(timestamp_encoding)
        self._ts_path = mapped_path(timestamp_column)
        self._ts_key = timestamp_column.split(".")[-1]
        self._root = _StructBuilder(self, schema, ())

    def convert(self, docs: Sequence[Mapping[str, Any]]) -> pa.RecordBatch:
        """One record batch, rows in `docs` order, schema == `schema.to_arrow_schema()` exactly."""
        docs = docs if isinstance(docs, list) else list(docs)
        for doc in docs:
            if type(doc) not in DICT_TYPES:
                raise HarmonizeError(f"document is a {type(doc).__name__}, not a mapping", field="<document>", doc_id=None)
        try:
            return self._convert(docs)
        except ValueProblem as problem:
            for doc in docs:
                try:
                    self._convert([doc])
                except ValueProblem as found:
                    raise HarmonizeError(found.message, field=found.field, doc_id=doc_label(doc)) from None
            raise HarmonizeError(problem.message, field=problem.field, doc_id=None) from None

    def _convert(self, docs: list[Mapping[str, Any]]) -> pa.RecordBatch:
        arrays, _ = self._root.children(docs)
        return pa.RecordBatch.from_arrays(arrays, schema=self.arrow_schema)

    def compile(self, typ: LakeType, path: tuple[str, ...]) -> Build:
        if path == self._ts_path:
            return self._timestamp_column(typ, path)
        if path == (ID_FIELD,):
            return self._text(typ, path, id_text, EXT_TYPES)
        kind = type(typ)
        if kind is StructType:
            assert isinstance(typ, StructType)
            return _StructBuilder(self, typ, path) if typ.fields else self._empty_struct(typ, path)
        if kind is ListType:
            assert isinstance(typ, ListType)
            return self._list(typ, path)
        if kind is StringType:
            return self._text(typ, path, text_or_none, TEXT_TYPES | {NoneType})
        if kind is JsonType:
            return self._json(typ, path)
        if kind is TimestampType:
            return self._timestamp(typ, path)
        if kind is DecimalType:
            return self._decimal(typ, path)
        allowed = {
            NullType: frozenset({NoneType}),
            BoolType: frozenset({bool, NoneType}),
            IntType: frozenset({int, Int64, NoneType}),
            DoubleType: frozenset({float, int, Int64, NoneType}),
        }[kind]
        return self._plain(typ, path, allowed)

    def _plain(self, typ: LakeType, path: tuple[str, ...], allowed: frozenset[type]) -> Build:
        arrow = typ.to_arrow()

        def build(values: Sequence[Any]) -> pa.Array:
            _check(set(map(type, values)), allowed, path, typ)
            return _array(values, arrow, path)

        return build

    def _text(self, typ: LakeType, path: tuple[str, ...], render: Callable[[Any], Any], allowed: frozenset[type]) -> Build:
        plain = frozenset({str, NoneType})

        def build(values: Sequence[Any]) -> pa.Array:
            types = set(map(type, values))
            if types <= plain:
                return _array(values, pa.string(), path)
            _check(types, allowed, path, typ)
            return _array(map(render, values), pa.string(), path)

        return build

    def _json(self, typ: LakeType, path: tuple[str, ...]) -> Build:
        return lambda values: _array(map(json_or_none, values), pa.string(), path)

    def _empty_struct(self, typ: StructType, path: tuple[str, ...]) -> Build:
        def build(values: Sequence[Any]) -> pa.Array:
            if any(v is not None and (type(v) not in DICT_TYPES or v) for v in values):
                raise ValueProblem(path, "only {} fits a struct column with no fields (stale schema?)")
            return _array([None if v is None else "{}" for v in values], pa.string(), path)

        return build

    def _decimal(self, typ: DecimalType, path: tuple[str, ...]) -> Build:
        arrow, allowed = typ.to_arrow(), frozenset(_TO_DECIMAL)
        scale, precision = typ.scale, typ.precision

        def build(values: Sequence[Any]) -> pa.Array:
            types = set(map(type, values))
            _check(types, allowed, path, typ)
            if not types <= {Decimal128, NoneType}:
                return _array([_TO_DECIMAL[type(v)](v) for v in values], arrow, path)  # pyarrow checks the fit
            scaled = [None if v is None else decimal128_scaled(v, scale, precision) for v in values]
            if scaled.count(None) != values.count(None):
                raise ValueProblem(path, f"a decimal doesn't fit {typ} exactly (stale schema?)")
            return _decimal_array(scaled, arrow)

        return build

    def _timestamp(self, typ: LakeType, path: tuple[str, ...]) -> Build:
        allowed = frozenset({datetime, DatetimeMS, NoneType})

        def build(values: Sequence[Any]) -> pa.Array:
            types = set(map(type, values))
            _check(types, allowed, path, typ)
            if DatetimeMS in types:
                utc = _array([v if v is None else int(v) if type(v) is DatetimeMS else utc_ms(v) for v in values], pa.int64(), path)
            else:
                if any(us % 1000 for us in set(map(attrgetter("microsecond"), filter(None, values)))):
                    raise ValueProblem(path, "sub-millisecond datetime in a timestamp column (stale schema?)")
                utc = _array(values, TIMESTAMP_MS, path)
            return self.clock.to_local(utc)

        return build

    def _timestamp_column(self, typ: LakeType, path: tuple[str, ...]) -> Build:
        if not isinstance(typ, TimestampType):
            raise HarmonizeError(f"schema has {typ} for the timestamp column", field=self.timestamp_column, doc_id=None)
        encoding, field = self.timestamp_encoding, self.timestamp_column

        def build(values: Sequence[Any]) -> pa.Array:
            types = set(map(type, values)) - {NoneType}
            if types <= {datetime} and not any(us % 1000 for us in set(map(attrgetter("microsecond"), filter(None, values)))):
                return self.clock.to_local(_array(values, TIMESTAMP_MS, path))
            try:
                utc = [None if v is None else timestamp_column_ms(v, encoding) for v in values]
            except ValueError as exc:
                raise ValueProblem(path, f"timestamp column: {exc}", field=field) from None
            return self.clock.to_local(_array(utc, pa.int64(), path))

        return build

    def _list(self, typ: ListType, path: tuple[str, ...]) -> Build:
        arrow, element = typ.to_arrow(), self.compile(typ.element, (*path, "[]"))
        allowed = LIST_TYPES | {NoneType}

        def build(values: Sequence[Any]) -> pa.Array:
            types = set(map(type, values))
            _check(types, allowed, path, typ)
            mask = None
            if NoneType in types:
                mask = pa.array(list(map(is_, values, repeat(None))), pa.bool_())
                values = [() if v is None else v for v in values]
            offsets = pa.array([0, *accumulate(map(len, values))], pa.int32())
            items = element(list(chain.from_iterable(values)))
            return pa.ListArray.from_arrays(offsets, items, type=arrow, mask=mask)

        return build


def _decimal_array(scaled: list[int | None], arrow: pa.DataType) -> pa.Array:
    """A decimal128 array from unscaled ints (16-byte little-endian two's complement, built once)."""
    nulls = scaled.count(None)
    validity = None
    if nulls:
        validity = pa.array([v is not None for v in scaled], pa.bool_()).buffers()[1]
        scaled = [0 if v is None else v for v in scaled]
    data = b"".join(map(_TO_16_BYTES, scaled))
    return pa.Array.from_buffers(arrow, len(scaled), [validity, pa.py_buffer(data)], null_count=nulls)


_TO_16_BYTES = methodcaller("to_bytes", 16, "little", signed=True)


class _StructBuilder:
    """Builds a struct column (or, at the top level, the batch's columns) from mappings."""

    def __init__(self, conv: Converter, typ: StructType, path: tuple[str, ...]):
        self.typ, self.path = typ, path
        self.arrow_fields = [pa.field(n, t.to_arrow()) for n, t in typ.fields]
        self.names = typ.names
        self.builders = [conv.compile(t, (*path, n)) for n, t in typ.fields]
        self.prefer = conv._ts_key if path == conv._ts_path[:-1] else None

    def __call__(self, values: Sequence[Any]) -> pa.Array:
        children, mask = self.children(values)
        null_mask = None if mask is None else pa.array(mask, pa.bool_())
        return pa.StructArray.from_arrays(children, fields=self.arrow_fields, mask=null_mask)

    def children(self, values: Sequence[Any]) -> tuple[list[pa.Array], list[bool] | None]:
        """One array per field, in row order, and the struct's null mask (None: no nulls)."""
        n = len(values)
        types = set(map(type, values))
        mask = lifted = None
        if not types <= DICT_TYPES:
            if not types - {NoneType} <= DICT_TYPES and VALUE_FIELD not in self.names:
                raise ValueProblem(self.path, "non-object value in an object column (stale schema?)")
            mask = list(map(is_, values, repeat(None)))
            if VALUE_FIELD in self.names:
                lifted = [None if type(v) in DICT_TYPES else v for v in values]
            values = [v if type(v) in DICT_TYPES else _EMPTY for v in values]
        columns, overflow = split_objects(values, self.prefer, plain=not types & _OTHER_DICTS)
        if lifted is not None:
            columns[VALUE_FIELD] = lifted
        if overflow is not None:
            columns[OVERFLOW_FIELD] = overflow
        if not columns.keys() <= set(self.names):
            extra = sorted(columns.keys() - set(self.names))[0]
            raise ValueProblem((*self.path, extra), "field is not in the schema (stale schema?)")
        children = []
        for name, build in zip(self.names, self.builders):
            column = columns.get(name)
            children.append(build([None] * n if column is None else column))
        return children, (mask if mask is not None and any(mask) else None)


_EMPTY: dict[str, Any] = {}
_OTHER_DICTS = DICT_TYPES - {dict}
