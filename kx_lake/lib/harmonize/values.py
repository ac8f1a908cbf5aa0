"""Canonical renderings of source values: as text (string columns) and as JSON (json columns).

Both are deterministic functions of the value alone - never of the environment or of the batch - so
the same document always yields the same bytes in the lake. Dispatch is a dict keyed by exact type
(no isinstance chains): it is called per value on mixed columns, so it must be cheap.

Text (a value stored in a `string` column, after widening): str as is; int -> "123"; double -> the
shortest round-trip repr ("0.1", "1e+300", "NaN", "Infinity", "-Infinity"); bool -> "true"/"false";
date -> ISO-8601 UTC with milliseconds and "Z" ("2026-01-01T20:00:00.000Z"; microseconds only when
present); ObjectId -> 24 hex; Decimal128 -> its decimal string ("1.50", "NaN"); UUID and binary
subtype 4 -> canonical UUID text; other bytes (binary subtype 0) -> standard base64.

JSON (a `json` column or `_kx_overflow`): MongoDB Extended JSON v2, relaxed mode, serialized with
sorted keys, no whitespace and UTF-8 (not \\u-escaped). Any Extended JSON reader, e.g.
bson.json_util.loads, gets the original BSON values back; the round-trip checker relies on this.
"""

from __future__ import annotations

import base64
import json
import math
import re
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable

from bson import SON, Binary, Code, DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.datetime_ms import DatetimeMS

UTC = timezone.utc
_MS = timedelta(milliseconds=1)
_EPOCH = datetime(1970, 1, 1)
DICT_TYPES = frozenset({dict, SON, OrderedDict})
LIST_TYPES = frozenset({list, tuple})
_ISO_MIN_YEAR, _ISO_MAX_YEAR = 1970, 9999  # relaxed Extended JSON uses ISO text within these years


class UnsupportedValue(TypeError):
    """A Python value of a type the harmonizer has no rule for."""


def utc_naive(dt: datetime) -> datetime:
    """A datetime as naive UTC (pymongo's default: naive datetimes are UTC)."""
    return dt if dt.tzinfo is None else dt.astimezone(UTC).replace(tzinfo=None)


def iso_utc(dt: datetime) -> str:
    naive = utc_naive(dt)
    return naive.isoformat(timespec="microseconds" if naive.microsecond % 1000 else "milliseconds") + "Z"


def _float_text(v: float) -> str:
    if math.isfinite(v):
        return repr(v)
    return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")


def _binary_text(v: Binary) -> str:
    if v.subtype == 0:
        return base64.b64encode(v).decode("ascii")
    if v.subtype == 4 and len(v) == 16:
        return str(uuid.UUID(bytes=bytes(v)))
    raise UnsupportedValue(f"binary subtype {v.subtype} has no text form (it is stored as json)")


def _datetime_ms_datetime(v: DatetimeMS) -> datetime | None:
    """The naive UTC datetime of a BSON date pymongo couldn't decode as one; None beyond years 1-9999."""
    try:
        return _EPOCH + timedelta(milliseconds=int(v))
    except OverflowError:
        return None


def _datetime_ms_text(v: DatetimeMS) -> str:
    dt = _datetime_ms_datetime(v)
    if dt is None:
        raise UnsupportedValue("a date beyond year 9999 has no text form (it is stored as json)")
    return iso_utc(dt)


_TEXT: dict[type, Callable[[Any], str]] = {
    str: str.__str__,
    int: int.__repr__,
    Int64: int.__repr__,
    float: _float_text,
    bool: lambda v: "true" if v else "false",
    datetime: iso_utc,
    DatetimeMS: _datetime_ms_text,
    ObjectId: str,
    Decimal128: str,
    Decimal: str,
    bytes: lambda v: base64.b64encode(v).decode("ascii"),
    Binary: _binary_text,
    uuid.UUID: str,
}
TEXT_TYPES = frozenset(_TEXT)


def to_text(value: Any) -> str:
    """Canonical text of a scalar for a string column; raises UnsupportedValue for json-only types."""
    render = _TEXT.get(type(value))
    if render is None:
        raise UnsupportedValue(f"{type(value).__name__} value has no text form")
    return render(value)


def text_or_none(value: Any) -> str | None:
    return None if value is None else to_text(value)


def id_text(value: Any) -> str | None:
    """The `_id` column: ObjectId -> hex, other scalars -> their text, anything else -> canonical JSON."""
    if value is None:
        return None
    try:
        return to_text(value)
    except UnsupportedValue:
        return canonical_json(value)


def doc_label(doc: Any) -> str | None:
    """A document's `_id` as text for error messages; never raises."""
    try:
        return id_text(doc.get("_id"))
    except Exception:  # noqa: BLE001 - a label for an error message must not fail itself
        return repr(doc.get("_id"))


def _regex_options(flags: int | str) -> str:
    if isinstance(flags, str):
        return "".join(sorted(flags))
    letters = {re.I: "i", re.L: "l", re.M: "m", re.S: "s", re.U: "u", re.X: "x"}
    return "".join(sorted(ch for flag, ch in letters.items() if flags & flag))


def _date_ext(ms: int, dt: datetime | None) -> dict[str, Any]:
    if dt is not None and (_ISO_MIN_YEAR <= dt.year <= _ISO_MAX_YEAR or dt.microsecond % 1000):
        return {"$date": iso_utc(dt)}
    return {"$date": {"$numberLong": str(ms)}}


def _datetime_ext(v: datetime) -> dict[str, Any]:
    naive = utc_naive(v)
    return _date_ext((naive - _EPOCH) // _MS, naive)


def _datetime_ms_ext(v: DatetimeMS) -> dict[str, Any]:
    return _date_ext(int(v), _datetime_ms_datetime(v))


def _binary_ext(data: bytes, subtype: int) -> dict[str, Any]:
    return {"$binary": {"base64": base64.b64encode(data).decode("ascii"), "subType": f"{subtype:02x}"}}


def _code_ext(v: Code) -> dict[str, Any]:
    out: dict[str, Any] = {"$code": str(v)}
    if v.scope is not None:
        out["$scope"] = to_ext(v.scope)
    return out


def _dbref_ext(v: DBRef) -> dict[str, Any]:
    out: dict[str, Any] = {"$ref": v.collection, "$id": to_ext(v.id)}
    if v.database is not None:
        out["$db"] = v.database
    out.update({k: to_ext(x) for k, x in v.as_doc().items() if k not in ("$ref", "$id", "$db")})
    return out


def _float_ext(v: float) -> Any:
    return v if math.isfinite(v) else {"$numberDouble": _float_text(v)}


def _same(v: Any) -> Any:
    return v


_EXT: dict[type, Callable[[Any], Any]] = {
    str: _same,
    type(None): _same,
    bool: _same,
    int: _same,
    Int64: int,
    float: _float_ext,
    datetime: _datetime_ext,
    DatetimeMS: _datetime_ms_ext,
    ObjectId: lambda v: {"$oid": str(v)},
    Decimal128: lambda v: {"$numberDecimal": str(v)},
    Decimal: lambda v: {"$numberDecimal": str(v)},
    bytes: lambda v: _binary_ext(v, 0),
    Binary: lambda v: _binary_ext(bytes(v), v.subtype),
    uuid.UUID: lambda v: _binary_ext(v.bytes, 4),
    Regex: lambda v: {"$regularExpression": {"pattern": v.pattern, "options": _regex_options(v.flags)}},
    re.Pattern: lambda v: {"$regularExpression": {"pattern": v.pattern, "options": _regex_options(v.flags)}},
    Timestamp: lambda v: {"$timestamp": {"t": v.time, "i": v.inc}},
    MinKey: lambda v: {"$minKey": 1},
    MaxKey: lambda v: {"$maxKey": 1},
    Code: _code_ext,
    DBRef: _dbref_ext,
}
for _t in DICT_TYPES:
    _EXT[_t] = lambda v: {k: to_ext(x) for k, x in v.items()}
for _t in LIST_TYPES:
    _EXT[_t] = lambda v: [to_ext(x) for x in v]
EXT_TYPES = frozenset(_EXT)


def to_ext(value: Any) -> Any:
    """The relaxed Extended JSON structure (plain dicts/lists/str/int/float/bool/None) of a value."""
    encode = _EXT.get(type(value))
    if encode is None:
        raise UnsupportedValue(f"{type(value).__name__} values are not supported")
    return encode(value)


def canonical_json(value: Any) -> str:
    """Sorted-key, whitespace-free, UTF-8 relaxed Extended JSON text of any supported value."""
    return json.dumps(to_ext(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_or_none(value: Any) -> str | None:
    return None if value is None else canonical_json(value)
