"""Canonical text and json of values as the lake stores them, for rewriting files after a widening.

values.py renders a *source* value; a widening that turns a typed column into `string` or `json`
(rewiden.py) must produce the same bytes from the *lake* value instead. That works where the lake
value determines the rendering, and these functions raise `Lossy` (with the reason) where it doesn't:
two source values that the old column stores identically but that render differently. The checks
are per value, so a column is only refused when it actually holds such a value:

  * double -> text/json: an integral double within +-2^53 may have been an int (`1` vs `1.0`);
  * decimal -> text/json: the source text's exponent is gone (`1.5` vs `1.50`; int `1` vs `1`);
  * string -> json: text that is also the rendering of a non-str value (`"123"` vs `123`, an
    ObjectId's hex, `true`, a date, a UUID, base64 bytes); other text was certainly a str;
  * struct -> json: an object's original keys (`A` and `a` are both column `a`) and missing vs null;
  * timestamp -> text/json: a wall-clock time in a DST fold (clock.py).

Renderings are vectorized where Arrow yields exactly the canonical bytes (ints, bools, dates, list
composition) and use values.py's own functions otherwise, so both paths stay one definition.
"""

from __future__ import annotations

import math
from contextvars import ContextVar

import pyarrow as pa
import pyarrow.compute as pc

from kx_lake.lib.harmonize.clock import MAX_MS, TIMESTAMP_MS, LocalClock, WallClockError
from kx_lake.lib.harmonize.names import OVERFLOW_FIELD, VALUE_FIELD
from kx_lake.lib.harmonize.types import (
    BoolType,
    DecimalType,
    DoubleType,
    IntType,
    JsonType,
    LakeType,
    ListType,
    StringType,
    StructType,
    TimestampType,
)
from kx_lake.lib.harmonize.values import canonical_json, to_text

INTEGRAL_DOUBLE = "an integral double may have been an int at the source (1 and 1.0 render differently)"
DECIMAL_TEXT = "a decimal's source text (1.5 or 1.50, or an int) is not kept, only its value"
AMBIGUOUS_TEXT = "text that may have been a number, bool, date, ObjectId, UUID or bytes at the source"
OBJECT_KEYS = "an object's original keys and missing-vs-null fields are not kept"
DST_FOLD = "a wall-clock time in a DST fold is two instants"
KEYLESS = frozenset({VALUE_FIELD, OVERFLOW_FIELD})  # a struct of only these has no keys of its own
SAFE_INT = 2**53
# Text that is the canonical rendering of some non-str value (values.py), over-approximated:
# numbers (int, double, Decimal128/Decimal incl. NaN/Infinity), bools, ISO dates, ObjectId hex,
# UUIDs and standard base64 (bytes; includes "" and every 4k-character alphanumeric word).
_NON_STR_TEXT = "|".join(
    (
        r"^[+-]?(?i:infinity|inf|s?nan)$",
        r"^[+-]?[0-9.][0-9.eE+-]*$",
        r"^(true|false)$",
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}([0-9]{3})?Z$",
        r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        r"^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
    )
)


class Lossy(Exception):
    """The lake value doesn't determine the rendering (`reason`); raised only for values present."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def as_text(arr: pa.Array, typ: LakeType, clock: LocalClock) -> pa.Array:
    """Each value of a `typ` column as values.to_text renders its source value (string column)."""
    if arr.null_count == len(arr) or isinstance(typ, StringType):
        return arr if isinstance(typ, StringType) else pa.nulls(len(arr), pa.string())
    if isinstance(typ, (BoolType, IntType)):
        return arr.cast(pa.string())
    if isinstance(typ, DoubleType):
        _check_doubles(arr)
        return pa.array([None if v is None else to_text(v) for v in arr.to_pylist()], pa.string())
    if isinstance(typ, TimestampType):
        return _iso(_utc(arr, clock))
    if isinstance(typ, DecimalType):
        raise Lossy(DECIMAL_TEXT)
    raise TypeError(f"{typ} has no text form")


def as_json(arr: pa.Array, typ: LakeType, clock: LocalClock) -> pa.Array:
    """Each value of a `typ` column as values.canonical_json renders its source value (null: null)."""
    if arr.null_count == len(arr):
        return pa.nulls(len(arr), pa.string())
    if isinstance(typ, JsonType) or (isinstance(typ, StructType) and not typ.fields):
        return arr  # already canonical json ("{}" for the field-less struct)
    if isinstance(typ, (BoolType, IntType)):
        return arr.cast(pa.string())
    if isinstance(typ, DoubleType):
        _check_doubles(arr)
        return pa.array([None if v is None else _double_json(v) for v in arr.to_pylist()], pa.string())
    if isinstance(typ, TimestampType):
        return _dates_json(arr, clock)
    if isinstance(typ, StringType):
        if pc.any(pc.match_substring_regex(arr, _NON_STR_TEXT)).as_py():
            raise Lossy(AMBIGUOUS_TEXT)
        return pa.array([None if v is None else canonical_json(v) for v in arr.to_pylist()], pa.string())
    if isinstance(typ, DecimalType):
        raise Lossy(DECIMAL_TEXT)
    if isinstance(typ, ListType):
        return _list_json(arr, typ, clock)
    if isinstance(typ, StructType):
        return _struct_json(arr, typ, clock)
    raise TypeError(f"{typ} has no json form")  # NullType is all null, handled above


# Set by callers keeping history rows the source no longer holds (lake/merge.py): an integral double is
# then rendered as the double it is stored as (860.0 -> "860.0"); the value is exact, only an int's
# spelling ("860") at the source cannot be recovered.
DOUBLES_AS_STORED: ContextVar[bool] = ContextVar("DOUBLES_AS_STORED", default=False)


def _check_doubles(arr: pa.Array) -> None:
    if DOUBLES_AS_STORED.get():
        return
    integral = pc.and_(pc.equal(pc.floor(arr), arr), pc.less_equal(pc.abs(arr), SAFE_INT))
    candidates = arr.filter(integral)
    # -0.0 is integral but no int gives it: it was a double
    if any(v != 0 or math.copysign(1.0, v) > 0 for v in candidates.to_pylist()):
        raise Lossy(INTEGRAL_DOUBLE)


def _double_json(v: float) -> str:
    return repr(v) if math.isfinite(v) else canonical_json(v)  # json.dumps(float) is float.__repr__


def _utc(arr: pa.Array, clock: LocalClock) -> pa.Array:
    try:
        return clock.to_utc(arr)
    except WallClockError as exc:
        raise Lossy(str(exc)) from None


def _iso(utc: pa.Array) -> pa.Array:
    """values.iso_utc of UTC epoch ms: Arrow's "YYYY-MM-DD HH:MM:SS.mmm" (years zero-padded), T and Z."""
    text = pc.replace_substring(utc.cast(TIMESTAMP_MS).cast(pa.string()), " ", "T", max_replacements=1)
    return pc.binary_join_element_wise(text, "Z", "")


def _dates_json(arr: pa.Array, clock: LocalClock) -> pa.Array:
    """{"$date":"<ISO>"} within years 1970-9999 (relaxed Extended JSON), else {"$date":{"$numberLong":..}}."""
    utc = _utc(arr, clock)
    as_iso = pc.binary_join_element_wise('{"$date":"', _iso(utc), '"}', "")
    as_long = pc.binary_join_element_wise('{"$date":{"$numberLong":"', utc.cast(pa.string()), '"}}', "")
    return pc.if_else(pc.and_(pc.greater_equal(utc, 0), pc.less_equal(utc, MAX_MS)), as_iso, as_long)


def _list_json(arr: pa.Array, typ: ListType, clock: LocalClock) -> pa.Array:
    """"[" + the elements' json joined by "," + "]": json.dumps with separators=(",", ":") composes."""
    elements = pc.fill_null(as_json(arr.flatten(), typ.element, clock), "null")
    lengths = pc.fill_null(pc.list_value_length(arr), 0)
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(lengths).cast(pa.int32())])
    lists = pa.ListArray.from_arrays(offsets, elements, mask=arr.is_null())
    return pc.binary_join_element_wise("[", pc.binary_join(lists, ","), "]", "")


def _struct_json(arr: pa.StructArray, typ: StructType, clock: LocalClock) -> pa.Array:
    """Only a struct of `_kx_value` / `_kx_overflow` is recoverable: its objects had no key of their
    own, so an object is exactly its overflow (original keys) or {}; other rows are `_kx_value`."""
    if not set(typ.names) <= KEYLESS:
        raise Lossy(OBJECT_KEYS)
    n = len(arr)
    names = [f.name for f in arr.type]
    children = dict(zip(names, arr.flatten()))
    value = children.get(VALUE_FIELD)
    lifted = pa.nulls(n, pa.string()) if value is None else as_json(value, typ.get(VALUE_FIELD), clock)  # type: ignore[arg-type]
    overflow = children.get(OVERFLOW_FIELD, pa.nulls(n, pa.string()))
    objects = pc.if_else(arr.is_valid(), pc.fill_null(overflow, "{}"), pa.nulls(n, pa.string()))
    return pc.if_else(lifted.is_valid(), lifted, objects)
