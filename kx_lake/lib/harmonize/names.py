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
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass

VALUE_FIELD = "_kx_value"  # non-struct values of a field that is otherwise a struct
OVERFLOW_FIELD = "_kx_overflow"  # json object of colliding keys, original key -> value
RESERVED = frozenset({VALUE_FIELD, OVERFLOW_FIELD})
ID_FIELD = "_id"
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


@dataclass(frozen=True, slots=True)
class KeyPlan:
    """Where each key of an object (in the object's key order) goes."""

    keys: tuple[str, ...]
    names: tuple[str | None, ...]  # the column per key; None for a loser (goes to _kx_overflow)
    losers: tuple[str, ...]  # keys that go to _kx_overflow, in key order


_plans: dict[tuple[tuple[str, ...], str | None], KeyPlan] = {}


def plan_keys(keys: tuple[str, ...], prefer: str | None = None) -> KeyPlan:
    """Plan for one object's keys; `prefer` is a key that wins any collision (the timestamp key)."""
    plan = _plans.get((keys, prefer))
    if plan is None:
        plan = _make_plan(keys, prefer)
        if len(_plans) >= _CACHE_LIMIT:
            _plans.clear()
        _plans[(keys, prefer)] = plan
    return plan


def _make_plan(keys: tuple[str, ...], prefer: str | None) -> KeyPlan:
    mapped = [column_name(k) for k in keys]
    by_name: dict[str, list[str]] = {}
    for key, name in zip(keys, mapped):
        by_name.setdefault(name, []).append(key)
    winner: dict[str, str] = {}
    for name, group in by_name.items():
        if name in RESERVED:
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


def mapped_path(dotted: str) -> tuple[str, ...]:
    """Column path of a configured dotted MongoDB path (`meta.modifiedAt` -> (`meta`, `modifiedat`))."""
    return tuple(column_name(part) for part in dotted.split("."))
