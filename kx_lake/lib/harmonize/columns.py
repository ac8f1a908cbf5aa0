"""Objects-to-columns transposition shared by inference and conversion.

Why it is shaped this way: transposing is the single biggest cost of harmonization and is bound by
memory latency rather than computation - pymongo decodes every document into fresh objects
scattered in memory. So the work is done by C builtins (map, chain, itemgetter, list.count), never
per value in Python bytecode, choosing per batch the strategy that touches memory least (measured):

  * narrow objects (<= 6 keys) with one key set: one `map(itemgetter(key), objects)` per key;
  * plain dicts with the same keys in the same order (nested objects of one shape usually are):
    keys and values flattened row-major (`chain`), each column a strided slice of the values;
  * otherwise (optional keys, documents): the union of keys, then `map(dict.get, objects, key)`
    per key - None where absent, as the lake doesn't distinguish missing from null;
  * far more distinct keys than keys per object (objects keyed by ids): objects one by one.

Keys mapping to one column name (names.py) are resolved per row with `names.plan_keys`' winner
rule: the losers come back per row, for `_kx_overflow`. At the top level, `reserved` (the reserved
column names) first turns a reserved name into `<name>_`, exactly as `plan_keys` does. No tuple is
allocated per row (zip(*rows) was 10x slower: that many container allocations run the cyclic GC
over every live document).
"""

from __future__ import annotations

from itertools import chain, compress, repeat
from operator import itemgetter
from typing import Any, Mapping, Sequence

from kx_lake.lib.harmonize.names import NO_RESERVED, RESERVED, column_name, plan_keys

Columns = dict[str, list[Any]]
_NARROW = 6  # up to this many keys, per-key lookups beat flattening (an iterator per object)
_SPARSE_FACTOR = 8  # objects one by one if (distinct keys x objects) > this x (keys present) + slack


def split_objects(
    objects: Sequence[Mapping[str, Any]],
    prefer: str | None,
    *,
    plain: bool | None = None,
    reserved: frozenset[str] = NO_RESERVED,
) -> tuple[Columns, list[Any] | None]:
    """Per column name, each object's value (None where absent), and each row's collision losers.

    `plain`: the caller knows every object is exactly a dict (None: check). The second item is None
    when no object has a collision, else one entry per row: None or {original key: value}.
    `reserved`: reserved column names (`names.reserved_names`), only for the documents themselves.
    """
    n = len(objects)
    if not n:
        return {}, None
    width = len(objects[0])
    same_width = list(map(len, objects)).count(width) == n
    if same_width and width <= _NARROW:
        try:  # same size and every key of the first object: the same keys, in any order
            columns = {key: list(map(itemgetter(key), objects)) for key in objects[0]}
            return _by_name(columns, None, prefer, n, reserved)
        except KeyError:
            pass
    if same_width and (plain if plain is not None else set(map(type, objects)) == {dict}):
        keys = list(chain.from_iterable(objects))
        # Periodic with period `width` only if every object has the same keys in the same order
        # (a longer object would repeat a key). SON/OrderedDict are excluded: their iteration order
        # may differ from dict.values order.
        if all(keys[j::width].count(keys[j]) == n for j in range(width)):
            values = list(chain.from_iterable(map(dict.values, objects)))
            return _by_name({keys[j]: values[j::width] for j in range(width)}, None, prefer, n, reserved)
    union = set(chain.from_iterable(objects))
    if len(union) * n > _SPARSE_FACTOR * sum(map(len, objects)) + 4096:
        return _split_one_by_one(objects, prefer, reserved)
    get = dict.get
    return _by_name({key: list(map(get, objects, repeat(key))) for key in union}, objects, prefer, n, reserved)


def _by_name(
    per_key: dict[str, list[Any]],
    sparse: Sequence[Mapping[str, Any]] | None,
    prefer: str | None,
    n: int,
    reserved: frozenset[str],
) -> tuple[Columns, list[Any] | None]:
    """Columns by name from columns by key; `sparse`: the objects, when keys may be absent."""
    by_name: dict[str, list[str]] = {}
    blocked = RESERVED
    if reserved:  # the top level with reserved columns: `<name>_`, and a reserved `<name>_` is blocked
        blocked = RESERVED | reserved
        for key in per_key:
            name = column_name(key)
            by_name.setdefault(name + "_" if name in reserved else name, []).append(key)
    else:
        for key in per_key:
            by_name.setdefault(column_name(key), []).append(key)
    columns: Columns = {}
    overflow: list[Any] | None = None
    for name, keys in by_name.items():
        if len(keys) == 1 and name not in blocked:
            columns[name] = per_key[keys[0]]
            continue
        if overflow is None:
            overflow = [None] * n
        column = _resolve(per_key, sparse, name, keys, prefer, overflow, n, blocked)
        if column is not None:
            columns[name] = column
    if overflow is not None and overflow.count(None) == n:
        overflow = None  # keys that collide only across objects share the column, nothing lost
    return columns, overflow


def _resolve(
    per_key: dict[str, list[Any]],
    sparse: Sequence[Mapping[str, Any]] | None,
    name: str,
    keys: list[str],
    prefer: str | None,
    overflow: list[Any],
    n: int,
    blocked: frozenset[str],
) -> list[Any] | None:
    """Several keys map to `name`: per row, the first present key by priority wins (plan_keys' rule).

    A `blocked` name (`_kx_value`, `_kx_overflow`, a reserved column) has no winner: all go to overflow.
    """
    column: list[Any] | None = None
    taken: set[int] = set()
    for key in sorted(keys, key=lambda k: (k != prefer, k != name, k)):
        values = per_key[key]
        rows: Sequence[int] = range(n) if sparse is None else list(compress(range(n), map(dict.__contains__, sparse, repeat(key))))
        if column is None and name not in blocked:
            column, taken = list(values), set(rows)
            continue
        for row in rows:
            if column is not None and row not in taken:
                column[row] = values[row]
                taken.add(row)
            else:
                if overflow[row] is None:
                    overflow[row] = {}
                overflow[row][key] = values[row]
    return column


def _split_one_by_one(
    objects: Sequence[Mapping[str, Any]], prefer: str | None, reserved: frozenset[str] = NO_RESERVED
) -> tuple[Columns, list[Any] | None]:
    n = len(objects)
    columns: Columns = {}
    overflow: list[Any] | None = None
    for row, obj in enumerate(objects):
        plan = plan_keys(tuple(obj), prefer, reserved)
        for key, name in zip(plan.keys, plan.names):
            if name is not None:
                column = columns.get(name)
                if column is None:
                    column = columns[name] = [None] * n
                column[row] = obj[key]
        if plan.losers:
            if overflow is None:
                overflow = [None] * n
            overflow[row] = {key: obj[key] for key in plan.losers}
    return columns, overflow
