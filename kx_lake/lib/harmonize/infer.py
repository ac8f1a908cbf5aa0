"""Schema inference: the lake type of every value in every document seen, merged with `widen.merge`.

Why columnar: per-document type inference would build and merge one struct type per document.
Instead a batch is transposed column by column (columns.py) and each column's Python types are
collected with `set(map(type, values))` - one C-level pass - and turned into lake types by a dict
keyed by exact type (`_STATIC`), with a small per-type check only where the type alone isn't
enough (`_DYNAMIC`: int range, sub-millisecond datetimes, decimal fit, binary subtype).

The schema is therefore a function of the set of documents seen, never of batch order or the first
batch, and merging with a previously stored schema only widens. Two columns are fixed by contract:
`_id` is always string, and the configured timestamp column is always timestamp (see clock.py; a
value that isn't a timestamp of the configured encoding is an error naming the field and `_id`).
Top-level keys follow the reserved-column rule of names.py (`reserved_columns`).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from itertools import chain, repeat
from operator import attrgetter
from typing import Any, Callable, Iterable, Mapping, Sequence

from bson import Binary, Code, DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.datetime_ms import DatetimeMS
from zoneinfo import ZoneInfo

from kx_lake.lib.config.collections import TimestampEncoding
from kx_lake.lib.harmonize.clock import MAX_MS, MIN_MS, timestamp_column_ms
from kx_lake.lib.harmonize.columns import split_objects
from kx_lake.lib.harmonize.errors import HarmonizeError, ValueProblem, format_path
from kx_lake.lib.harmonize.names import ID_FIELD, NO_RESERVED, OVERFLOW_FIELD, mapped_path, reserved_names
from kx_lake.lib.harmonize.types import (
    BOOL,
    DECIMAL,
    DOUBLE,
    INT64,
    INT64_WIDE,
    JSON,
    NULL,
    STRING,
    TIMESTAMP,
    LakeType,
    ListType,
    StructType,
)
from kx_lake.lib.harmonize.decimals import decimal128_scaled, decimal_fits
from kx_lake.lib.harmonize.values import DICT_TYPES, LIST_TYPES, doc_label
from kx_lake.lib.harmonize.widen import merge

UTC_ZONE = ZoneInfo("UTC")  # whether a value is a timestamp does not depend on the zone naive text is read in

NoneType = type(None)
CHUNK = 1000  # documents per inference pass: a cache-sized working set (see convert.CHUNK)
SAFE_INT = 2**53  # every integer of magnitude <= 2^53 is exactly a double
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_STATIC: dict[type, LakeType] = {
    bool: BOOL,
    float: DOUBLE,
    str: STRING,
    ObjectId: STRING,
    uuid.UUID: STRING,
    bytes: STRING,
    Regex: JSON,
    re.Pattern: JSON,
    Timestamp: JSON,
    MinKey: JSON,
    MaxKey: JSON,
    Code: JSON,
    DBRef: JSON,
}


def _ints(values: Sequence[int]) -> LakeType:
    lo, hi = min(values), max(values)
    if lo < INT64_MIN or hi > INT64_MAX:
        return STRING  # only plain Python ints can get here; BSON has no wider integer
    return INT64_WIDE if lo < -SAFE_INT or hi > SAFE_INT else INT64


def _datetimes(values: Sequence[datetime]) -> LakeType:
    sub_ms = any(us % 1000 for us in set(map(attrgetter("microsecond"), values)))
    return STRING if sub_ms else TIMESTAMP  # BSON dates are ms; finer Python datetimes stay text


def _datetime_ms(values: Sequence[DatetimeMS]) -> LakeType:
    return TIMESTAMP if all(MIN_MS <= int(v) <= MAX_MS for v in values) else JSON


def _decimals(values: Sequence[Decimal128 | Decimal]) -> LakeType:
    if type(values[0]) is Decimal128:
        fits = None not in map(decimal128_scaled, values, repeat(DECIMAL.scale), repeat(DECIMAL.precision))
    else:
        fits = all(map(decimal_fits, values))
    return DECIMAL if fits else STRING


def _binaries(values: Sequence[Binary]) -> LakeType:
    subtypes = set(map(attrgetter("subtype"), values))
    if subtypes <= {0} or (subtypes <= {0, 4} and all(len(v) == 16 for v in values if v.subtype == 4)):
        return STRING
    return JSON


_DYNAMIC: dict[type, Callable[[Sequence[Any]], LakeType]] = {
    int: _ints,
    Int64: _ints,
    datetime: _datetimes,
    DatetimeMS: _datetime_ms,
    Decimal128: _decimals,
    Decimal: _decimals,
    Binary: _binaries,
}
MAX_TYPE_CHARS = 131_072  # Glue's limit on one column's type string (catalog/glue.py refuses longer ones)
MAX_NESTING = 32  # levels of object/array types a column may have; deeper values are stored as JSON text
SUPPORTED_TYPES = frozenset(_STATIC) | frozenset(_DYNAMIC) | DICT_TYPES | LIST_TYPES | {NoneType}


class _Inferrer:
    """One walk over a batch; knows where the timestamp column is."""

    def __init__(
        self, ts_path: tuple[str, ...], ts_key: str, ts_field: str, encoding: TimestampEncoding, reserved: frozenset[str]
    ):
        self.ts_path, self.ts_parent, self.ts_key = ts_path, ts_path[:-1], ts_key
        self.ts_field, self.encoding, self.reserved = ts_field, encoding, reserved

    def values(self, values: Sequence[Any], path: tuple[str, ...]) -> LakeType:
        types = set(map(type, values))
        result: LakeType = NULL
        for kind in types:
            lake = _STATIC.get(kind)
            if lake is None:
                if kind is NoneType:
                    continue
                of_kind = values if len(types) == 1 else [v for v in values if type(v) is kind]
                if kind in DICT_TYPES | LIST_TYPES and len(path) >= MAX_NESTING:
                    # deeper than Arrow (64) and the engines nest types: the object or array is JSON text
                    self.values(list(chain.from_iterable(v.values() if kind in DICT_TYPES else v for v in of_kind)),
                                (*path, "[]"))  # only to reject unsupported types inside
                    lake = JSON
                elif kind in DICT_TYPES:
                    lake = self.struct(of_kind, path, plain=kind is dict)
                elif kind in LIST_TYPES:
                    lake = ListType(self.values(list(chain.from_iterable(of_kind)), (*path, "[]")))
                elif kind in _DYNAMIC:
                    lake = _DYNAMIC[kind](of_kind)
                else:
                    raise ValueProblem(path, f"unsupported value type {kind.__module__}.{kind.__qualname__}")
            result = merge(result, lake)
        return result

    def struct(self, dicts: Sequence[Mapping[str, Any]], path: tuple[str, ...], plain: bool | None = None) -> StructType:
        prefer = self.ts_key if path == self.ts_parent else None
        reserved = NO_RESERVED if path else self.reserved  # reserved columns: the documents' own keys only
        columns, overflow = split_objects(dicts, prefer, plain=plain, reserved=reserved)
        # losers are only validated (json takes any supported value): their values, not the objects,
        # whose reserved keys would lose again
        losers = [] if overflow is None else list(chain.from_iterable(v.values() for v in overflow if v is not None))
        fields: dict[str, LakeType] = {}
        for name, column in columns.items():
            sub = (*path, name)
            if sub == self.ts_path:
                fields[name] = self.timestamps(column, sub)
            elif sub == (ID_FIELD,):
                self.values(column, sub)  # only to reject unsupported types; `_id` is always text
                fields[name] = STRING
            else:
                fields[name] = self.values(column, sub)
        if losers:
            self.values(losers, (*path, OVERFLOW_FIELD))
            fields[OVERFLOW_FIELD] = JSON
        return StructType.of(fields)

    def timestamps(self, values: Sequence[Any], path: tuple[str, ...]) -> LakeType:
        types = set(map(type, values)) - {NoneType}
        if not types:
            return NULL
        if types != {datetime}:
            for value in values:
                if value is not None:
                    try:
                        timestamp_column_ms(value, self.encoding, UTC_ZONE)
                    except ValueError as exc:
                        raise ValueProblem(path, f"timestamp column: {exc}", field=self.ts_field) from None
        return TIMESTAMP


def _cap_type_lengths(schema: StructType, before: StructType) -> StructType:
    """A column whose catalog type string would exceed MAX_TYPE_CHARS (e.g. an object with 10,000
    distinct keys) becomes JSON text: Glue refuses longer type strings, JSON holds the same values."""
    capped = {name: JSON for name, typ in schema.fields
              if isinstance(typ, StructType | ListType) and typ != before.get(name) and len(typ.to_hive()) > MAX_TYPE_CHARS}
    return StructType.of({**schema.as_dict(), **capped}) if capped else schema


def seed_schema(timestamp_column: str, reserved: frozenset[str] = NO_RESERVED) -> StructType:
    """The columns every schema has: `_id` (string) and the timestamp column (timestamp)."""
    typ: LakeType = TIMESTAMP
    for name in reversed(mapped_path(timestamp_column, reserved)):
        typ = StructType.of({name: typ})
    assert isinstance(typ, StructType)
    return merge(StructType.of({ID_FIELD: STRING}), typ)  # type: ignore[return-value]


class SchemaAccumulator:
    """Accumulates the lake schema (a struct of top-level columns) of every document observed.

    `reserved_columns`: top-level column names the data may not use (the table's partition columns);
    a top-level key mapping to one is stored in `<name>_` (names.py). Converter and check_round_trip
    must be given the same. A stored `schema` is only widened, so a reserved column it already has
    (from before the rule) stays in it - all null from now on, as no key maps to it any more.
    """

    def __init__(
        self,
        timestamp_column: str,
        timestamp_encoding: TimestampEncoding | str = TimestampEncoding.DATE,
        *,
        schema: StructType | None = None,
        reserved_columns: Iterable[str] = (),
    ):
        self.timestamp_column = timestamp_column
        self.timestamp_encoding = TimestampEncoding(timestamp_encoding)
        self.reserved_columns = reserved = reserved_names(reserved_columns)
        self._ts_path = ts_path = mapped_path(timestamp_column, reserved)
        self._inferrer = _Inferrer(
            ts_path, timestamp_column.split(".")[-1], timestamp_column, self.timestamp_encoding, reserved
        )
        self.documents = 0
        self._schema = seed_schema(timestamp_column, reserved)
        if schema is not None:
            self._widen(schema)

    @property
    def schema(self) -> StructType:
        return self._schema

    def observe(self, doc: Mapping[str, Any]) -> None:
        self.observe_many([doc])

    def observe_many(self, docs: Iterable[Mapping[str, Any]]) -> None:
        batch = docs if isinstance(docs, list) else list(docs)
        if not batch:
            return
        for doc in batch:
            if type(doc) not in DICT_TYPES:
                raise HarmonizeError(f"document is a {type(doc).__name__}, not a mapping", field="<document>", doc_id=None)
        observed: LakeType = NULL
        for start in range(0, len(batch), CHUNK):  # cache-sized slices, see convert.CHUNK
            chunk = batch[start : start + CHUNK]
            try:
                observed = merge(observed, self._inferrer.struct(chunk, ()))
            except ValueProblem as problem:
                raise self._locate(chunk, problem) from None  # the schema is left as it was
        assert isinstance(observed, StructType)
        self._widen(observed)
        self.documents += len(batch)

    def absorb(self, other: StructType) -> None:
        """Widen by a schema another accumulator inferred (ranges read apart, e.g. in Spark tasks):
        the result is the schema of both document sets, as merging is commutative and associative."""
        self._widen(other)

    def _widen(self, other: StructType) -> None:
        merged = merge(self._schema, other)
        assert isinstance(merged, StructType)
        merged = _cap_type_lengths(merged, self._schema)
        for path, want in ((self._ts_path, TIMESTAMP), ((ID_FIELD,), STRING)):
            got: LakeType | None = merged
            for name in path:
                got = got.get(name) if isinstance(got, StructType) else None
            if got != want:
                raise HarmonizeError(f"column would become {got}, must stay {want}", field=format_path(path), doc_id=None)
        self._schema = merged

    def _locate(self, batch: list[Mapping[str, Any]], problem: ValueProblem) -> HarmonizeError:
        for doc in batch:
            try:
                self._inferrer.struct([doc], ())
            except ValueProblem as found:
                return HarmonizeError(found.message, field=found.field, doc_id=doc_label(doc))
        return HarmonizeError(problem.message, field=problem.field, doc_id=None)
