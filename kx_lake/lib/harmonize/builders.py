"""Column builders: a column of Python values -> one Arrow array of a lake type, compiled once.

Each factory returns a closure for one column of one schema. Values already in Arrow's form go to
pyarrow unchanged and are built in C++; only values needing a canonical rendering (mixed string
columns, json, decimals) are touched in Python, through exact-type dispatch.

Every builder checks the Python types it receives against what its column may hold and raises
rather than writing null or letting pyarrow coerce (pyarrow silently takes True as 1.0, bytes as
text, and truncates microseconds). A value the column can't hold means the schema is stale.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from itertools import accumulate, chain, repeat
from operator import attrgetter, is_, methodcaller
from typing import Any, Callable, Iterable, Sequence

import pyarrow as pa
from bson import Decimal128, Int64, ObjectId
from bson.datetime_ms import DatetimeMS

from kx_lake.lib.config.collections import TimestampEncoding
from kx_lake.lib.harmonize.clock import TIMESTAMP_MS, LocalClock, timestamp_column_ms, utc_ms
from kx_lake.lib.harmonize.decimals import decimal128_scaled, decimal128_value
from kx_lake.lib.harmonize.errors import ValueProblem
from kx_lake.lib.harmonize.types import DecimalType, LakeType, ListType
from kx_lake.lib.harmonize.values import DICT_TYPES, LIST_TYPES, UnsupportedValue, json_or_none

NoneType = type(None)
Path = tuple[str, ...]
Build = Callable[[Sequence[Any]], pa.Array]
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, UnsupportedValue, ValueError, TypeError)
_STRINGS = frozenset({str, NoneType})
_TO_DECIMAL: dict[type, Callable[[Any], Any]] = {
    Decimal128: decimal128_value,
    Decimal: lambda v: v,  # as is: unary plus would round to the context precision
    int: Decimal,
    Int64: Decimal,
    NoneType: lambda v: None,
}
_TO_16_BYTES = methodcaller("to_bytes", 16, "little", signed=True)


def check(types: set[type], allowed: frozenset[type], path: Path, typ: LakeType) -> None:
    if not types <= allowed:
        bad = ", ".join(sorted(t.__name__ for t in types - allowed))
        raise ValueProblem(path, f"{bad} value can't be stored in a {typ} column (stale schema?)")


def to_array(values: Iterable[Any], arrow: pa.DataType, path: Path) -> pa.Array:
    try:
        return pa.array(values if isinstance(values, (list, tuple)) else list(values), arrow)
    except _ARROW_ERRORS as exc:
        raise ValueProblem(path, f"can't store value as {arrow}: {exc}") from None


def plain(typ: LakeType, path: Path, allowed: frozenset[type]) -> Build:
    """Values pyarrow takes as they are (null, bool, int64, double), once their types are checked."""
    arrow = typ.to_arrow()

    def build(values: Sequence[Any]) -> pa.Array:
        check(set(map(type, values)), allowed, path, typ)
        return to_array(values, arrow, path)

    return build


def text(typ: LakeType, path: Path, render: Callable[[Any], Any], allowed: frozenset[type]) -> Build:
    """A string column: str as is, other allowed types through `render` (canonical text or JSON)."""

    def build(values: Sequence[Any]) -> pa.Array:
        types = set(map(type, values))
        if types <= _STRINGS:
            return to_array(values, pa.string(), path)
        check(types, allowed, path, typ)
        if types == {ObjectId}:  # the usual `_id` column: skip the per-value dispatch
            return to_array(map(ObjectId.__str__, values), pa.string(), path)
        return to_array(map(render, values), pa.string(), path)

    return build


def json_text(typ: LakeType, path: Path) -> Build:
    return lambda values: to_array(map(json_or_none, values), pa.string(), path)


def empty_struct(typ: LakeType, path: Path) -> Build:
    """struct{} (only {} seen): the JSON text "{}", since Parquet can't hold a field-less group."""

    def build(values: Sequence[Any]) -> pa.Array:
        if any(v is not None and (type(v) not in DICT_TYPES or v) for v in values):
            raise ValueProblem(path, "only {} fits a struct column with no fields (stale schema?)")
        return to_array([None if v is None else "{}" for v in values], pa.string(), path)

    return build


def decimal(typ: DecimalType, path: Path) -> Build:
    arrow, allowed = typ.to_arrow(), frozenset(_TO_DECIMAL)
    scale, precision = typ.scale, typ.precision

    def build(values: Sequence[Any]) -> pa.Array:
        types = set(map(type, values))
        check(types, allowed, path, typ)
        if not types <= {Decimal128, NoneType}:
            return to_array([_TO_DECIMAL[type(v)](v) for v in values], arrow, path)  # pyarrow checks the fit
        scaled = [None if v is None else decimal128_scaled(v, scale, precision) for v in values]
        if scaled.count(None) != values.count(None):
            raise ValueProblem(path, f"a decimal doesn't fit {typ} exactly (stale schema?)")
        return _decimal_array(scaled, arrow)

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


def _sub_ms(values: Sequence[Any]) -> bool:
    return any(us % 1000 for us in set(map(attrgetter("microsecond"), filter(None, values))))


def timestamp(typ: LakeType, path: Path, clock: LocalClock) -> Build:
    """BSON dates -> local wall-clock ms (Arrow turns datetimes into UTC ms in C++, see clock.py)."""
    allowed = frozenset({datetime, DatetimeMS, NoneType})

    def build(values: Sequence[Any]) -> pa.Array:
        types = set(map(type, values))
        check(types, allowed, path, typ)
        dates = values if DatetimeMS not in types else [v for v in values if type(v) is datetime]
        if _sub_ms(dates):
            raise ValueProblem(path, "sub-millisecond datetime in a timestamp column (stale schema?)")
        if DatetimeMS in types:
            utc = to_array([v if v is None else int(v) if type(v) is DatetimeMS else utc_ms(v) for v in values], pa.int64(), path)
        else:
            utc = to_array(values, TIMESTAMP_MS, path)
        return clock.to_local(utc)

    return build


def timestamp_column(path: Path, clock: LocalClock, encoding: TimestampEncoding, field: str) -> Build:
    """The configured timestamp column: any accepted encoding (clock.py) -> local wall-clock ms."""

    def build(values: Sequence[Any]) -> pa.Array:
        if set(map(type, values)) <= {datetime, NoneType} and not _sub_ms(values):
            return clock.to_local(to_array(values, TIMESTAMP_MS, path))
        try:
            utc = [None if v is None else timestamp_column_ms(v, encoding, clock.tz) for v in values]
        except ValueError as exc:
            raise ValueProblem(path, f"timestamp column: {exc}", field=field) from None
        return clock.to_local(to_array(utc, pa.int64(), path))

    return build


def list_of(typ: ListType, path: Path, element: Build) -> Build:
    """Lists: elements flattened into one child column (built by `element`), plus int32 offsets."""
    arrow, allowed = typ.to_arrow(), LIST_TYPES | {NoneType}

    def build(values: Sequence[Any]) -> pa.Array:
        types = set(map(type, values))
        check(types, allowed, path, typ)
        mask = None
        if NoneType in types:
            mask = pa.array(list(map(is_, values, repeat(None))), pa.bool_())
            values = [() if v is None else v for v in values]
        offsets = pa.array([0, *accumulate(map(len, values))], pa.int32())
        items = element(list(chain.from_iterable(values)))
        return pa.ListArray.from_arrays(offsets, items, type=arrow, mask=mask)

    return build
