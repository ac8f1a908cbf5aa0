"""Column naming: MongoDB keys to Glue/Athena-safe names, and what happens when two keys collide.

Glue lowercases column names and Athena matches them case-insensitively, so the lake can only keep
names of the form [a-z0-9_]. The rule is deliberately the smallest one that is safe, so that
existing Athena queries written against the original Glue job (which lowercased) keep working:

  1. ASCII letters are lowercased (`modifiedAt` -> `modifiedat`: no snake-casing);
  2. every other character outside [a-z0-9_] becomes `_` (`Patient Name` -> `patient_name`,
     `a.b` -> `a_b`, `$x` -> `_x`, non-ASCII letters -> `_`);
  3. an empty result becomes `_`; a leading digit gets a `_` prefix (`2024` -> `_2024`);
  4. names longer than 255 characters are cut to 238 and suffixed with `_` + 16 hex of sha1(key).

Keys in different documents that map to the same name share the column (their types merge). Keys in
ONE object that map to the same name collide: exactly one wins the column - the configured
timestamp key if it is among them, else the key already equal to the name, else the smallest key by
code point - and every other one (the losers) is kept, with its original key and value, in the
object's reserved json field `_kx_overflow`. Keys that map to a reserved name (`_kx_value`,
`_kx_overflow`) always go to `_kx_overflow`. Nothing is ever dropped by naming.

Reserved columns (top level only): the caller may name columns the data must not use - the table's
partition columns (`date`, id columns), which Hive/Athena forbid as data columns and which the
storage layer therefore drops from the files. A TOP-LEVEL key whose name (rules 1-4) is reserved is
stored in `<name>_` instead (`date` -> `date_`, `Facility_ID` -> `facility_id_` when `facility_id`
is reserved). The suffix is applied once, to the mapped name: if `<name>_` is itself reserved the
key goes to `_kx_overflow`, and if another key of the same document maps to `<name>_` (e.g. a real
`date_` key) the collision rule above picks one winner. Reserved names are compared as column names
(`facilityId` reserves `facilityid`, as Glue would lowercase it). Nested keys are never affected.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from typing import Iterable

from kx_lake.lib.harmonize.errors import HarmonizeError

VALUE_FIELD = "_kx_value"  # non-struct values of a field that is otherwise a struct
OVERFLOW_FIELD = "_kx_overflow"  # json object of colliding keys, original key -> value
RESERVED = frozenset({VALUE_FIELD, OVERFLOW_FIELD})
ID_FIELD = "_id"
NO_RESERVED: frozenset[str] = frozenset()  # nested objects: no reserved columns
MAX_NAME_LENGTH = 255
_CACHE_LIMIT = 100_000


class _Table(dict[int, str]):
    def __missing__(self, codepoint: int) -> str:
        return "_"


_TABLE = _Table({ord(c): c for c in string.ascii_lowercase + string.digits + "_"})
_TABLE.update({ord(c): c.lower() for c in string.ascii_uppercase})
_names: dict[str, str] = {}


def column_name(key: str) -> str:
    """The lake column name of MongoDB key `key` (deterministic, cached)."""
    name = _names.get(key)
    if name is None:
        name = key.translate(_TABLE) or "_"
        if name[0] in string.digits:
            name = "_" + name
        if len(name) > MAX_NAME_LENGTH:
            name = name[:238] + "_" + hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        if len(_names) >= _CACHE_LIMIT:
            _names.clear()
        _names[key] = name
    return name


def reserved_names(columns: Iterable[str]) -> frozenset[str]:
    """The validated set of reserved top-level column names (`reserved_columns` of the public API).

    Each name is compared as a column name (rules 1-4). `_id`, `_kx_value` and `_kx_overflow` can't
    be reserved (harmonization needs them), nor a name too long to take the `_` suffix.
    """
    if isinstance(columns, str):
        raise TypeError(f"reserved_columns must be an iterable of column names, not the string {columns!r}")
    names = []
    for column in columns:
        if not isinstance(column, str) or not column:
            raise ValueError(f"reserved column {column!r} is not a non-empty string")
        name = column_name(column)
        if name in RESERVED or name == ID_FIELD:
            raise ValueError(f"reserved column {column!r}: {name!r} can't be reserved (harmonization uses it)")
        if len(name) >= MAX_NAME_LENGTH:
            raise ValueError(f"reserved column {column!r}: names over {MAX_NAME_LENGTH - 1} characters can't be reserved")
        names.append(name)
    return frozenset(names) if names else NO_RESERVED


def top_column_name(key: str, reserved: frozenset[str]) -> str:
    """The column of top-level key `key`: its name, or `<name>_` if that name is reserved."""
    name = column_name(key)
    return name + "_" if name in reserved else name


@dataclass(frozen=True, slots=True)
class KeyPlan:
    """Where each key of an object (in the object's key order) goes."""

    keys: tuple[str, ...]
    names: tuple[str | None, ...]  # the column per key; None for a loser (goes to _kx_overflow)
    losers: tuple[str, ...]  # keys that go to _kx_overflow, in key order


_plans: dict[tuple[tuple[str, ...], str | None, frozenset[str]], KeyPlan] = {}


def plan_keys(keys: tuple[str, ...], prefer: str | None = None, reserved: frozenset[str] = NO_RESERVED) -> KeyPlan:
    """Plan for one object's keys; `prefer` is a key that wins any collision (the timestamp key).

    `reserved`: the reserved column names (`reserved_names`), for the top level (the document) only.
    """
    plan = _plans.get((keys, prefer, reserved))
    if plan is None:
        plan = _make_plan(keys, prefer, reserved)
        if len(_plans) >= _CACHE_LIMIT:
            _plans.clear()
        _plans[(keys, prefer, reserved)] = plan
    return plan


def _make_plan(keys: tuple[str, ...], prefer: str | None, reserved: frozenset[str]) -> KeyPlan:
    mapped = [top_column_name(k, reserved) for k in keys]
    by_name: dict[str, list[str]] = {}
    for key, name in zip(keys, mapped):
        by_name.setdefault(name, []).append(key)
    winner: dict[str, str] = {}
    for name, group in by_name.items():
        if name in RESERVED or name in reserved:
            continue
        if prefer in group:
            winner[name] = prefer  # type: ignore[assignment]
        elif name in group:
            winner[name] = name
        else:
            winner[name] = min(group)
    names = tuple(name if winner.get(name) == key else None for key, name in zip(keys, mapped))
    losers = tuple(k for k, n in zip(keys, names) if n is None)
    return KeyPlan(keys, names, losers)


def mapped_path(dotted: str, reserved: frozenset[str] = NO_RESERVED) -> tuple[str, ...]:
    """Column path of a configured dotted MongoDB path (`meta.modifiedAt` -> (`meta`, `modifiedat`)).

    Its first step follows the reserved-column rule; a path whose first step would go to
    `_kx_overflow` under it (`<name>_` reserved too) is an error: it can't be a typed column.
    """
    first, *rest = dotted.split(".")
    top = top_column_name(first, reserved)
    if top in reserved:
        raise HarmonizeError(f"top-level key {first!r} would go to _kx_overflow: {top!r} is reserved too", field=dotted, doc_id=None)
    return (top, *(column_name(part) for part in rest))
