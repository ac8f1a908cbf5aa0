"""Widening: every rule of the table, and the lattice laws on randomly generated types."""

from __future__ import annotations

import random

import pytest

from kx_lake.lib.harmonize.names import VALUE_FIELD
from kx_lake.lib.harmonize.types import (
    BOOL,
    DECIMAL,
    DOUBLE,
    EMPTY_STRUCT,
    INT64,
    INT64_WIDE,
    JSON,
    NULL,
    STRING,
    TIMESTAMP,
    DecimalType,
    LakeType,
    ListType,
    StructType,
    from_json,
)
from kx_lake.lib.harmonize.widen import merge, merge_all

S = StructType.of

RULES = [
    # null is the identity
    (NULL, INT64, INT64),
    (NULL, S({"a": BOOL}), S({"a": BOOL})),
    (NULL, ListType(STRING), ListType(STRING)),
    # numbers
    (INT64, INT64_WIDE, INT64_WIDE),
    (INT64, DOUBLE, DOUBLE),
    (INT64_WIDE, DOUBLE, STRING),  # |v| > 2^53 is not exactly a double
    (INT64, DECIMAL, DECIMAL),
    (INT64_WIDE, DECIMAL, DECIMAL),
    (INT64, DecimalType(10, 2), DecimalType(21, 2)),  # room for 19 integer digits
    (DecimalType(10, 2), DecimalType(12, 5), DecimalType(13, 5)),
    (DecimalType(38, 9), DecimalType(38, 12), STRING),  # 29 + 12 digits > 38
    (DECIMAL, DOUBLE, STRING),
    (INT64, DecimalType(38, 20), STRING),
    # everything else scalar -> string
    (BOOL, INT64, STRING),
    (BOOL, DOUBLE, STRING),
    (BOOL, DECIMAL, STRING),
    (BOOL, STRING, STRING),
    (INT64, STRING, STRING),
    (DOUBLE, STRING, STRING),
    (DECIMAL, STRING, STRING),
    (TIMESTAMP, STRING, STRING),
    (TIMESTAMP, INT64, STRING),
    (TIMESTAMP, BOOL, STRING),
    # json absorbs every non-struct
    (JSON, STRING, JSON),
    (JSON, INT64, JSON),
    (JSON, ListType(INT64), JSON),
    (ListType(INT64), INT64, JSON),
    (ListType(INT64), STRING, JSON),
    # lists merge elementwise
    (ListType(INT64), ListType(DOUBLE), ListType(DOUBLE)),
    (ListType(NULL), ListType(STRING), ListType(STRING)),
    (ListType(STRING), ListType(S({"k": INT64})), ListType(S({"k": INT64, VALUE_FIELD: STRING}))),
    (ListType(ListType(INT64)), ListType(STRING), ListType(JSON)),
    # structs: union of fields; a non-struct joins as _kx_value
    (S({"a": INT64}), S({"b": STRING}), S({"a": INT64, "b": STRING})),
    (S({"a": INT64}), S({"a": DOUBLE}), S({"a": DOUBLE})),
    (S({"a": INT64}), STRING, S({"a": INT64, VALUE_FIELD: STRING})),
    (S({"a": INT64}), ListType(INT64), S({"a": INT64, VALUE_FIELD: ListType(INT64)})),
    (S({"a": INT64}), JSON, S({"a": INT64, VALUE_FIELD: JSON})),
    (EMPTY_STRUCT, S({"a": INT64}), S({"a": INT64})),
    (EMPTY_STRUCT, INT64, S({VALUE_FIELD: INT64})),
]


@pytest.mark.parametrize(("a", "b", "want"), RULES, ids=[f"{a}+{b}" for a, b, _ in RULES])
def test_rule(a: LakeType, b: LakeType, want: LakeType):
    assert merge(a, b) == want
    assert merge(b, a) == want


def test_struct_field_order_is_sorted_whatever_the_merge_order():
    one = merge(S({"z": INT64, "m": STRING}), S({"a": BOOL}))
    two = merge(S({"a": BOOL}), S({"m": STRING, "z": INT64}))
    assert one == two and one.names == ("a", "m", "z")


def test_merge_all():
    assert merge_all([]) == NULL
    assert merge_all([INT64, DOUBLE, NULL]) == DOUBLE


# --- the algebra on random types ---------------------------------------------------------------

_NAMES = ["a", "b", "c", VALUE_FIELD]


def random_type(rng: random.Random, depth: int = 0) -> LakeType:
    roll = rng.random()
    if depth >= 3 or roll < 0.55:
        scale = rng.randrange(0, 12)
        return rng.choice(
            [NULL, BOOL, INT64, INT64_WIDE, DOUBLE, STRING, TIMESTAMP, JSON, DECIMAL, DecimalType(min(38, scale + rng.randrange(1, 30)), scale)]
        )
    if roll < 0.75:
        return ListType(random_type(rng, depth + 1))
    fields = rng.sample(_NAMES, rng.randrange(0, 4))
    return S({name: random_type(rng, depth + 1) for name in fields})


@pytest.mark.parametrize("seed", range(8))
def test_lattice_laws(seed: int):
    rng = random.Random(seed)
    for _ in range(400):
        a, b, c = random_type(rng), random_type(rng), random_type(rng)
        ab = merge(a, b)
        assert ab == merge(b, a), (a, b)  # commutative
        assert merge(ab, c) == merge(a, merge(b, c)), (a, b, c)  # associative
        assert merge(a, a) == a  # idempotent
        assert merge(a, NULL) == a  # identity
        assert merge(a, ab) == ab and merge(b, ab) == ab  # only widens: ab is an upper bound
        assert from_json(ab.to_json()) == ab  # any merged type persists
        assert ab.to_arrow() is not None and ab.to_hive()


@pytest.mark.parametrize("seed", range(4))
def test_merge_result_is_independent_of_order(seed: int):
    rng = random.Random(100 + seed)
    types = [random_type(rng) for _ in range(12)]
    want = merge_all(types)
    for _ in range(10):
        rng.shuffle(types)
        assert merge_all(types) == want
        assert merge_all(types).fingerprint == want.fingerprint


def test_columns_to_rewrite_and_is_widening():
    from kx_lake.lib.harmonize.widen import columns_to_rewrite, is_widening

    old = S({"_id": STRING, "a": INT64, "b": STRING, "c": S({"d": BOOL}), "n": NULL, "m": NULL, "w": INT64, "e": EMPTY_STRUCT})
    delta = S({"a": DOUBLE, "b": ListType(STRING), "c": S({"e": INT64}), "f": BOOL, "n": STRING, "m": INT64, "w": INT64_WIDE})
    new = merge(old, merge(delta, S({"e": S({"k": INT64}), "l": ListType(S({"x": INT64}))})))
    assert is_widening(old, new) and not is_widening(new, old)
    assert columns_to_rewrite(old, new) == {
        "a": (INT64, DOUBLE),  # another Arrow type
        "b": (STRING, JSON),  # same Arrow type, another convention
        "m": (NULL, INT64),  # all null, but stored as string
        "e": (EMPTY_STRUCT, S({"k": INT64})),  # "{}" text -> struct
    }
    assert columns_to_rewrite(new, new) == {}
    grown = merge(new, S({"l": ListType(S({"y": STRING}))}))  # a field added inside list elements
    assert columns_to_rewrite(new, grown) == {}
