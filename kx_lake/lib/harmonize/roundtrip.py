"""The lossless round-trip proof: every leaf of every source document is found in its converted row.

`leaf_values(doc)` lists every leaf of a document - scalars, and empty objects/arrays - with its path
of original keys and list indices. `check_round_trip` walks each path through the converted row
(Arrow -> Python), following the documented rules independently of the converter's code: the name
mapping and collision plan (with the reserved-column rule at the top level), `_kx_value` for
non-object values of object columns, `_kx_overflow` and json columns (decoded with pymongo's own
Extended JSON reader, bson.json_util), and compares the value it finds with the leaf:

  * typed columns compare by value, and by type where it matters (double holds ints exactly,
    decimal compares numerically, timestamps equal the leaf's wall-clock time in `tz`);
  * string columns are inverted by the leaf's type (int(text) == leaf, ObjectId(text) == leaf,
    Decimal128(text) == leaf exactly - "1.50" stays "1.50" -, base64/UUID decoding, ...);
  * json values are decoded and compared strictly (type and value; NaN, -0.0 and int vs float kept).

It returns a list of problems (empty: lossless). Used by the unit tests here and by the lake's
integration tests on seeded data; a test proves it reports a value dropped by tampering.
"""

from __future__ import annotations

import base64
import math
import re
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

import pyarrow as pa
from bson import Binary, Decimal128, Int64, ObjectId, Regex, json_util
from bson.codec_options import DatetimeConversion
from bson.datetime_ms import DatetimeMS

from kx_lake.lib.config.collections import TimestampEncoding
from kx_lake.lib.harmonize.clock import timestamp_column_ms
from kx_lake.lib.harmonize.errors import format_path
from kx_lake.lib.harmonize.names import (
    ID_FIELD,
    NO_RESERVED,
    OVERFLOW_FIELD,
    VALUE_FIELD,
    mapped_path,
    plan_keys,
    reserved_names,
)
from kx_lake.lib.harmonize.types import (
    JSON,
    STRING,
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
from kx_lake.lib.harmonize.values import DICT_TYPES, LIST_TYPES, UnsupportedValue, doc_label, to_text

UTC = timezone.utc
EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
Path = tuple[str | int, ...]
_MISSING = object()
_JSON_OPTIONS = json_util.JSONOptions(datetime_conversion=DatetimeConversion.DATETIME_AUTO)


def normalize(value: Any) -> Any:
    """A comparable form of a leaf: Int64 -> int, dates -> aware UTC, binary/UUID/regex unified."""
    kind = type(value)
    if kind is Int64:
        return int(value)
    if kind is datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if kind is DatetimeMS:
        try:
            return EPOCH_UTC + timedelta(milliseconds=int(value))
        except OverflowError:
            return value
    if kind is uuid.UUID:
        return Binary(value.bytes, 4)
    if kind is Binary and value.subtype == 0:
        return bytes(value)
    if kind is re.Pattern:
        return Regex.from_native(value)
    if kind in DICT_TYPES:
        return {k: normalize(v) for k, v in value.items()}
    if kind in LIST_TYPES:
        return [normalize(v) for v in value]
    return value


def leaf_values(doc: Mapping[str, Any]) -> list[tuple[Path, Any]]:
    """Every leaf of `doc` as (path of keys and list indices, normalized value); {} and [] are leaves."""
    return list(_leaves(doc, ()))


def _leaves(value: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    kind = type(value)
    if kind in DICT_TYPES and value:
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif kind in LIST_TYPES and value:
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, normalize(value)


def same(a: Any, b: Any) -> bool:
    """Strict equality of normalized values: types must match; NaN equals NaN; -0.0 differs from 0.0."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def check_round_trip(
    docs: Sequence[Mapping[str, Any]],
    batch: pa.RecordBatch | pa.Table,
    schema: StructType,
    *,
    tz: ZoneInfo,
    timestamp_column: str,
    timestamp_encoding: TimestampEncoding | str = TimestampEncoding.DATE,
    reserved_columns: Iterable[str] = (),
) -> list[str]:
    """Problems found proving that every leaf of `docs` is in `batch` (row i <-> docs[i]); [] = lossless.

    `reserved_columns`: as given to SchemaAccumulator and Converter (top-level `<name>_` rule).
    """
    if batch.schema != schema.to_arrow_schema():
        return [f"batch schema differs from the lake schema:\n{batch.schema}\n!=\n{schema.to_arrow_schema()}"]
    if batch.num_rows != len(docs):
        return [f"{batch.num_rows} rows for {len(docs)} documents"]
    walker = _Walker(tz, timestamp_column, TimestampEncoding(timestamp_encoding), reserved_names(reserved_columns))
    problems = []
    for doc, row in zip(docs, batch.to_pylist()):
        for path, leaf in leaf_values(doc):
            problem = walker.find(doc, row, schema, path, leaf)
            if problem:
                problems.append(f"_id={doc_label(doc)} {format_path(tuple(map(str, path)))}: {problem}")
    return problems


class _Walker:
    def __init__(self, tz: ZoneInfo, timestamp_column: str, encoding: TimestampEncoding, reserved: frozenset[str]):
        self.tz, self.encoding, self.reserved = tz, encoding, reserved
        self.ts_path = mapped_path(timestamp_column, reserved)
        self.ts_key = timestamp_column.split(".")[-1]

    def find(self, src: Any, found: Any, typ: LakeType, path: Path, leaf: Any) -> str | None:
        col: tuple[str, ...] = ()
        for depth, step in enumerate(path):
            if isinstance(typ, StructType) and typ.fields and type(src) in LIST_TYPES:
                found, typ = _field(found, VALUE_FIELD), typ.get(VALUE_FIELD)  # a list kept in _kx_value
            if isinstance(typ, JsonType):
                return _decoded(found, path[depth:], leaf)
            if isinstance(step, str):
                if not (isinstance(typ, StructType) and typ.fields):
                    return f"object value under a {typ} column"
                prefer = self.ts_key if col == self.ts_path[:-1] else None
                reserved = self.reserved if depth == 0 else NO_RESERVED  # the document's own keys only
                name = plan_keys(tuple(src), prefer, reserved).names[list(src).index(step)]
                if name is None:  # a collision loser: kept under its original key in _kx_overflow
                    return _decoded(_field(found, OVERFLOW_FIELD), path[depth:], leaf)
                found, typ, col = _field(found, name), typ.get(name), (*col, name)
                if col == (ID_FIELD,):
                    typ = _id_type(src[step])
            else:
                if not isinstance(typ, ListType):
                    return f"array value under a {typ} column"
                if not isinstance(found, list) or step >= len(found):
                    return f"array element missing (found {found!r})"
                found, typ, col = found[step], typ.element, (*col, "[]")
            if found is _MISSING or typ is None:
                return "column missing from the converted row"
            src = src[step]
        if leaf is None:
            return None if found is None else f"expected null, found {found!r}"
        if isinstance(typ, StructType) and typ.fields and type(src) not in DICT_TYPES:
            found, typ = _field(found, VALUE_FIELD), typ.get(VALUE_FIELD)  # a non-object kept in _kx_value
            if typ is None:
                return "non-object value in an object column without _kx_value"
        if isinstance(typ, JsonType):
            return _decoded(found, (), leaf)
        if col == self.ts_path:
            return self._timestamp_column(found, src)
        return self._typed(found, typ, leaf)

    def _local(self, utc: datetime) -> datetime:
        return utc.astimezone(self.tz).replace(tzinfo=None)

    def _timestamp_column(self, found: Any, src: Any) -> str | None:
        if src is None:
            return None if found is None else f"expected null, found {found!r}"
        expected = self._local(EPOCH_UTC + timedelta(milliseconds=timestamp_column_ms(src, self.encoding, self.tz)))
        return None if found == expected else f"timestamp column: expected {expected}, found {found!r}"

    def _typed(self, found: Any, typ: LakeType, leaf: Any) -> str | None:
        ok = _compare(found, typ, leaf, self._local)
        return None if ok else f"expected {leaf!r}, found {found!r} in a {typ} column"


def _field(found: Any, name: str) -> Any:
    return found.get(name, _MISSING) if isinstance(found, dict) else _MISSING


def _id_type(value: Any) -> LakeType:
    try:
        to_text(value)
        return STRING
    except UnsupportedValue:
        return JSON


def _decoded(text: Any, rest: Path, leaf: Any) -> str | None:
    if not isinstance(text, str):
        return f"expected json text, found {text!r}"
    value = json_util.loads(text, json_options=_JSON_OPTIONS)
    for step in rest:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return f"{step!r} missing in json {text}"
    value = normalize(value)
    return None if same(value, leaf) else f"expected {leaf!r}, json holds {value!r}"


def _compare(found: Any, typ: LakeType, leaf: Any, local: Any) -> bool:
    if leaf is None:
        return found is None
    if type(leaf) is dict and not leaf:  # {}: "{}" in a field-less struct column, else a non-null struct
        if isinstance(typ, StructType) and not typ.fields:
            return found == "{}"
        return isinstance(typ, StructType) and isinstance(found, dict) and all(v is None for v in found.values())
    if type(leaf) is list and not leaf:
        return found == [] and isinstance(typ, ListType)
    kind = type(typ)
    if kind is NullType or found is None:
        return False
    if kind is BoolType:
        return type(leaf) is bool and found is leaf
    if kind is IntType:
        return type(leaf) is int and type(found) is int and found == leaf
    if kind is DoubleType:
        if type(leaf) is int:
            return type(found) is float and found == leaf and int(found) == leaf
        return same(found, leaf)
    if kind is DecimalType:
        exact = leaf.to_decimal() if type(leaf) is Decimal128 else Decimal(leaf)
        return type(found) is Decimal and found == exact
    if kind is TimestampType:
        return type(leaf) is datetime and found == local(leaf)
    if kind is StringType:
        return type(found) is str and _text_holds(found, leaf)
    return False


def _text_holds(text: str, leaf: Any) -> bool:
    """Whether `text` gives `leaf` back, knowing the leaf's type (the inverse of the text rendering)."""
    kind = type(leaf)
    if kind is str:
        return text == leaf
    if kind is bool:
        return text == ("true" if leaf else "false")
    if kind is int:
        return int(text) == leaf
    if kind is float:
        return same(float(text), leaf)
    if kind is datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) == leaf
    if kind is ObjectId:
        return ObjectId(text) == leaf
    if kind is Decimal128:
        return Decimal128(text) == leaf and str(Decimal128(text)) == str(leaf)
    if kind is Decimal:
        return str(Decimal(text)) == str(leaf)
    if kind is bytes:
        return base64.b64decode(text) == leaf
    if kind is Binary and leaf.subtype == 4:
        return uuid.UUID(text).bytes == bytes(leaf)
    return False
