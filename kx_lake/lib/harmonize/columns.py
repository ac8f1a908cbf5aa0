"""Objects-to-columns transposition shared by inference and conversion.

Why it is shaped this way: transposing is the single biggest cost of harmonization, and it is
bound by memory latency, not by computation. pymongo decodes every document into fresh key
strings scattered in memory, so a per-key lookup in every object (`d.get(k)` for each column)
touches two or three cold cache lines per value. Instead plain dicts are walked once, row-major,
by C builtins: `chain(*objects)` gives all keys, `chain(*map(dict.values, objects))` all values,
and one `setdefault` per key gives each key an id (touching each key string once). Then:

  * every object has the same keys in the same order (nested objects of one shape usually do):
    each column is a strided slice of the values - checked by comparing int ids, not strings;
  * otherwise the ids go to Arrow, which sorts them (stably) in C++; each key's values are gathered
    with one itemgetter call, None where the key is absent;
  * far more distinct keys than keys per object (objects keyed by ids): objects one by one.

Columns are in row order, None where a key is absent (the lake doesn't distinguish missing from
null). Keys that map to the same column name (see names.py) are resolved per row with the same
winner rule as `names.plan_keys`; the losers are returned per row for `_kx_overflow`. No tuple is
allocated per row: that many container allocations trigger the cyclic GC over all live documents.
"""

from __future__ import annotations

from itertools import accumulate, chain, count
from operator import itemgetter
from typing import Any, Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from kx_lake.lib.harmonize.names import RESERVED, column_name, plan_keys

Columns = dict[str, list[Any]]
PerKey = dict[str, tuple[list[Any], "pa.Array | None"]]  # key -> (column, rows present; None = all)
_SPARSE_FACTOR = 8  # objects one by one if (distinct keys x objects) > this x (keys present) + slack


def split_objects(
    objects: Sequence[Mapping[str, Any]], prefer: str | None, *, plain: bool | None = None
) -> tuple[Columns, list[Any] | None]:
    """Per column name, each object's value (None where absent), and each row's collision losers.

    `plain`: the caller knows every object is exactly a dict (None: check). The second item is None
    when no object has a collision, else one entry per row: None or {original key: value}.
    """
    n = len(objects)
    if plain is None:
        plain = set(map(type, objects)) == {dict}
    if not plain:  # SON/OrderedDict: their iteration order may differ from dict.values order
        return _split_one_by_one(objects, prefer)
    flat_keys = list(chain.from_iterable(objects))
    total = len(flat_keys)
    if not total:
        return {}, None
    values = list(chain.from_iterable(map(dict.values, objects)))
    width = len(objects[0])
    if total == width * n and all(flat_keys[j::width].count(flat_keys[j]) == n for j in range(width)):
        # Same keys, same order everywhere (string equality, no hashing: fresh keys have no hash yet).
        per_key: PerKey = {flat_keys[j]: (values[j::width], None) for j in range(width)}
        if len(per_key) == width:
            return _by_name(per_key, prefer, n)
    first_at: dict[str, int] = {}
    ids = list(map(first_at.setdefault, flat_keys, count()))
    if len(first_at) * n > _SPARSE_FACTOR * total + 4096:
        return _split_one_by_one(objects, prefer)
    per_key = _gather(objects, first_at, ids, values, n)
    return _by_name(per_key, prefer, n)


def _gather(objects: Sequence[Mapping[str, Any]], first_at: dict[str, int], ids: list[int], values: list[Any], n: int) -> PerKey:
    """Row-aligned columns per key when objects differ in keys or key order (Arrow sorts the ids)."""
    id_array = pa.array(ids, pa.int64())
    offsets = pa.array([0, *accumulate(map(len, objects))], pa.int32())
    parents = pc.list_parent_indices(pa.ListArray.from_arrays(offsets, id_array))
    order = pc.sort_indices(id_array)  # stable: within one key, positions (so rows) ascend
    counts = pc.value_counts(id_array)
    count_of = dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()))
    row_ids = pa.array(range(n), pa.int64())
    padded = values + [None]
    absent = len(values)
    per_key: PerKey = {}
    start = 0
    for key, key_id in sorted(first_at.items(), key=itemgetter(1)):
        size = count_of[key_id]
        positions = order.slice(start, size)
        start += size
        if size == n:
            per_key[key] = (_pick(values, positions.to_pylist()), None)
        else:
            rows = parents.take(positions)
            slots = pc.fill_null(positions.take(pc.index_in(row_ids, value_set=rows)), absent)
            per_key[key] = (_pick(padded, slots.to_pylist()), rows)
    return per_key


def _pick(values: list[Any], indices: list[int]) -> list[Any]:
    if len(indices) > 1:
        return list(itemgetter(*indices)(values))
    return [values[i] for i in indices]


def _by_name(per_key: PerKey, prefer: str | None, n: int) -> tuple[Columns, list[Any] | None]:
    by_name: dict[str, list[str]] = {}
    for key in per_key:
        by_name.setdefault(column_name(key), []).append(key)
    columns: Columns = {}
    overflow: list[Any] | None = None
    for name, keys in by_name.items():
        if len(keys) == 1 and name not in RESERVED:
            columns[name] = per_key[keys[0]][0]
            continue
        if overflow is None:
            overflow = [None] * n
        column = _resolve(per_key, name, keys, prefer, overflow, n)
        if column is not None:
            columns[name] = column
    if overflow is not None and overflow.count(None) == n:
        overflow = None  # keys that collide only across objects share the column, nothing lost
    return columns, overflow


def _resolve(per_key: PerKey, name: str, keys: list[str], prefer: str | None, overflow: list[Any], n: int) -> list[Any] | None:
    """Several keys map to `name`: per row, the first present key by priority wins (plan_keys' rule)."""
    column: list[Any] | None = None
    taken: set[int] = set()
    for key in sorted(keys, key=lambda k: (k != prefer, k != name, k)):
        values, present = per_key[key]
        rows: Sequence[int] = range(n) if present is None else present.to_pylist()
        if column is None and name not in RESERVED:
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


def _split_one_by_one(objects: Sequence[Mapping[str, Any]], prefer: str | None) -> tuple[Columns, list[Any] | None]:
    n = len(objects)
    columns: Columns = {}
    overflow: list[Any] | None = None
    for row, obj in enumerate(objects):
        plan = plan_keys(tuple(obj), prefer)
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

