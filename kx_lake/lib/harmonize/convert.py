"""Conversion: documents -> one Arrow record batch whose schema is exactly the lake schema's.

Why compiled, columnar builders: the schema is fixed for a run, so each lake type is compiled once
into a closure turning a column of Python values into an Arrow array (builders.py). Objects are
transposed into per-key columns (columns.py) and assembled into struct arrays bottom-up, in row
order; the top level becomes the record batch. Nothing is written as null that wasn't null: a value
the schema can't hold raises HarmonizeError naming the field and the document's `_id` (inference
didn't see it - the schema is stale), found by re-running the failed batch one document at a time.
Top-level keys follow the reserved-column rule of names.py (`reserved_columns`, as at inference).
"""

from __future__ import annotations

from itertools import repeat
from operator import is_
from typing import Any, Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

import pyarrow as pa
from bson import Int64

from kx_lake.lib.config.collections import TimestampEncoding
from kx_lake.lib.harmonize import builders
from kx_lake.lib.harmonize.builders import Build
from kx_lake.lib.harmonize.clock import LocalClock
from kx_lake.lib.harmonize.columns import split_objects
from kx_lake.lib.harmonize.errors import HarmonizeError, ValueProblem
from kx_lake.lib.harmonize.names import ID_FIELD, NO_RESERVED, OVERFLOW_FIELD, VALUE_FIELD, mapped_path, reserved_names
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
from kx_lake.lib.harmonize.values import DICT_TYPES, EXT_TYPES, TEXT_TYPES, doc_label, id_text, text_or_none

NoneType = type(None)
# Documents are converted (and inferred) in slices of this many: the working set of a slice stays
# in the CPU caches, which made both ~1.5x faster than 10k-document slices (benchmarks/).
CHUNK = 1000
_PLAIN: dict[type, frozenset[type]] = {
    NullType: frozenset({NoneType}),
    BoolType: frozenset({bool, NoneType}),
    IntType: frozenset({int, Int64, NoneType}),
    DoubleType: frozenset({float, int, Int64, NoneType}),
}


class Converter:
    """Converts documents to record batches of one fixed lake schema.

    `reserved_columns` must be those the schema was inferred with (SchemaAccumulator): a top-level
    key mapping to a reserved name goes to the column `<name>_` (names.py).
    """

    def __init__(
        self,
        schema: StructType,
        tz: ZoneInfo,
        timestamp_column: str,
        timestamp_encoding: TimestampEncoding | str = TimestampEncoding.DATE,
        *,
        reserved_columns: Iterable[str] = (),
    ):
        self.schema = schema
        self.arrow_schema = schema.to_arrow_schema()
        self.clock = LocalClock(tz)
        self.timestamp_column = timestamp_column
        self.timestamp_encoding = TimestampEncoding(timestamp_encoding)
        self.reserved_columns = reserved_names(reserved_columns)
        self._ts_path = mapped_path(timestamp_column, self.reserved_columns)
        self._ts_key = timestamp_column.split(".")[-1]
        self._root = _StructBuilder(self, schema, ())

    def convert(self, docs: Sequence[Mapping[str, Any]]) -> pa.RecordBatch:
        """One record batch, rows in `docs` order, schema == `schema.to_arrow_schema()` exactly."""
        docs = docs if isinstance(docs, list) else list(docs)
        for doc in docs:
            if type(doc) not in DICT_TYPES:
                raise HarmonizeError(f"document is a {type(doc).__name__}, not a mapping", field="<document>", doc_id=None)
        try:
            if len(docs) <= CHUNK:
                return self._convert(docs)
            parts = [self._convert(docs[i : i + CHUNK]) for i in range(0, len(docs), CHUNK)]
            return pa.concat_batches(parts)
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
        """The builder of the column at `path` (column names; "[]" for list elements)."""
        if path == self._ts_path:
            if not isinstance(typ, TimestampType):
                raise HarmonizeError(f"schema has {typ} for the timestamp column", field=self.timestamp_column, doc_id=None)
            return builders.timestamp_column(path, self.clock, self.timestamp_encoding, self.timestamp_column)
        if path == (ID_FIELD,):
            return builders.text(typ, path, id_text, EXT_TYPES)
        if isinstance(typ, StructType):
            return _StructBuilder(self, typ, path) if typ.fields else builders.empty_struct(typ, path)
        if isinstance(typ, ListType):
            return builders.list_of(typ, path, self.compile(typ.element, (*path, "[]")))
        if isinstance(typ, StringType):
            return builders.text(typ, path, text_or_none, TEXT_TYPES | {NoneType})
        if isinstance(typ, JsonType):
            return builders.json_text(typ, path)
        if isinstance(typ, TimestampType):
            return builders.timestamp(typ, path, self.clock)
        if isinstance(typ, DecimalType):
            return builders.decimal(typ, path)
        return builders.plain(typ, path, _PLAIN[type(typ)])


class _StructBuilder:
    """Builds a struct column (or, at the top level, the batch's columns) from mappings."""

    def __init__(self, conv: Converter, typ: StructType, path: tuple[str, ...]):
        self.typ, self.path = typ, path
        self.arrow_fields = [pa.field(n, t.to_arrow()) for n, t in typ.fields]
        self.names = typ.names
        self.builders = [conv.compile(t, (*path, n)) for n, t in typ.fields]
        self.prefer = conv._ts_key if path == conv._ts_path[:-1] else None
        self.reserved = NO_RESERVED if path else conv.reserved_columns  # the documents' own keys only

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
        columns, overflow = split_objects(values, self.prefer, plain=not types & _OTHER_DICTS, reserved=self.reserved)
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
