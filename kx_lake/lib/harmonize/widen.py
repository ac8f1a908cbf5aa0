"""Type widening: `merge(a, b)` is the least lake type that holds every value of `a` and of `b`.

Why a lattice join: inference runs over many batches, processes and days, and the schema must not
depend on which documents came first. `merge` is commutative, associative and idempotent (tested
with randomized types), `null` is its identity, and it only ever widens: merge(a, b) holds every
value a or b holds, without loss. Rules (see README_SECTION.md for the table and the why):

  * numbers: int64 + double -> double, unless the int64 side has seen |v| > 2^53 (`wide`), which a
    double can't hold exactly -> string. int64 + decimal(p,s) -> decimal with >= 19 integer digits.
    decimal + decimal -> max integer digits and max scale; over 38 digits -> string.
    decimal + double -> string (neither holds the other exactly).
  * any other two different scalars (bool, number, string, timestamp) -> string, whose canonical
    rendering keeps every value's text (see values.py).
  * list<A> + list<B> -> list<merge(A, B)>.
  * struct + struct -> union of fields by name (sorted), common fields merged.
  * struct + non-struct X -> the struct gains the reserved field `_kx_value` of type X: the
    non-struct values are kept in that field, the struct's other fields stay typed. This is what
    makes list<string> + list<struct{..}> one array type: list<struct{.., _kx_value: string}>.
  * anything else (list + scalar, json + non-struct) -> json.
"""

from __future__ import annotations

from functools import reduce
from typing import Iterable

from kx_lake.lib.harmonize.names import VALUE_FIELD
from kx_lake.lib.harmonize.types import (
    DOUBLE,
    JSON,
    MAX_DECIMAL_PRECISION,
    NULL,
    STRING,
    DecimalType,
    DoubleType,
    IntType,
    JsonType,
    LakeType,
    ListType,
    NullType,
    StructType,
)

INT64_DIGITS = 19  # |int64| < 10^19
_NUMERIC = (IntType, DoubleType, DecimalType)


def merge(a: LakeType, b: LakeType) -> LakeType:
    """The narrowest lake type holding every value of both `a` and `b` (commutative, associative)."""
    if a == b:
        return a
    if isinstance(a, NullType):
        return b
    if isinstance(b, NullType):
        return a
    if isinstance(a, StructType) or isinstance(b, StructType):
        return _merge_structs(_as_struct(a), _as_struct(b))
    if isinstance(a, ListType) and isinstance(b, ListType):
        return ListType(merge(a.element, b.element))
    if isinstance(a, (ListType, JsonType)) or isinstance(b, (ListType, JsonType)):
        return JSON
    return _merge_scalars(a, b)


def merge_all(types: Iterable[LakeType]) -> LakeType:
    return reduce(merge, types, NULL)


def _as_struct(t: LakeType) -> StructType:
    return t if isinstance(t, StructType) else StructType(((VALUE_FIELD, t),))


def _merge_structs(a: StructType, b: StructType) -> StructType:
    if not a.fields:
        return b
    if not b.fields:
        return a
    merged = dict(a.fields)
    for name, typ in b.fields:
        old = merged.get(name)
        merged[name] = typ if old is None else merge(old, typ)
    return StructType.of(merged)


def _merge_scalars(a: LakeType, b: LakeType) -> LakeType:
    if isinstance(a, _NUMERIC) and isinstance(b, _NUMERIC):
        return _merge_numbers(a, b)
    return STRING


def _merge_numbers(a: LakeType, b: LakeType) -> LakeType:
    if isinstance(a, IntType) and isinstance(b, IntType):
        return IntType(wide=a.wide or b.wide)
    if isinstance(a, DoubleType) or isinstance(b, DoubleType):
        other = b if isinstance(a, DoubleType) else a
        if isinstance(other, IntType) and not other.wide:
            return DOUBLE
        return STRING  # wide int64 or decimal: a double can't hold them exactly, nor they it
    return _merge_decimals(_as_decimal_digits(a), _as_decimal_digits(b))


def _as_decimal_digits(t: LakeType) -> tuple[int, int]:
    """(integer digits, scale) needed to hold every value of an int64 or decimal type."""
    if isinstance(t, DecimalType):
        return t.integer_digits, t.scale
    return INT64_DIGITS, 0


def _merge_decimals(a: tuple[int, int], b: tuple[int, int]) -> LakeType:
    integer_digits, scale = max(a[0], b[0]), max(a[1], b[1])
    if integer_digits + scale > MAX_DECIMAL_PRECISION:
        return STRING
    return DecimalType(integer_digits + scale, scale)


def is_widening(old: LakeType, new: LakeType) -> bool:
    """Whether `new` holds every value `old` holds (merging them changes nothing)."""
    return merge(old, new) == new


def columns_to_rewrite(old: StructType, new: StructType) -> dict[str, tuple[LakeType, LakeType]]:
    """Top-level columns whose files written under `old` can't be read as `new`: {name: (old, new)}.

    After a widening, data files written under the old schema hold such a column in the old
    representation - another Arrow type (int64 -> double) or another convention in the same Arrow
    type (plain text -> json text). Those partitions must be rewritten (rewiden.widen_batch, or from
    the source where it refuses) before the catalog says `new`. Not listed: added columns and added struct fields (Parquet is read by
    name: absent -> null), all-null columns whose Arrow type is unchanged, int64 -> int64(wide).
    """
    fresh = new.as_dict()
    return {name: (typ, fresh[name]) for name, typ in old.fields if name in fresh and _rewrite(typ, fresh[name])}


def _rewrite(old: LakeType, new: LakeType) -> bool:
    if old == new or (isinstance(old, IntType) and isinstance(new, IntType)):
        return False
    if isinstance(old, NullType):
        return old.to_arrow() != new.to_arrow()
    if isinstance(old, StructType) and isinstance(new, StructType) and old.fields:
        fields = new.as_dict()
        return any(name not in fields or _rewrite(typ, fields[name]) for name, typ in old.fields)
    if isinstance(old, ListType) and isinstance(new, ListType):
        return _rewrite(old.element, new.element)
    return True
