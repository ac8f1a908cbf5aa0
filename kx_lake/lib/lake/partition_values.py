"""Id partition columns: taken out of each document and turned into leaf values.

Partition columns live in the path, not in the files (as with Spark's partitionBy and the original
Glue job), so they are removed from the document before schema inference and conversion. Each value
becomes a `LeafValue` (kx_lake.lib.storage.segments): its text as the catalog shows it (strings as
they are, integers in decimal, ObjectIds in hex, booleans as true/false, anything else as canonical
JSON; missing or null is None, the Hive default partition) and its directory segment, which is the
escaped text for plain values and a hashed, disambiguated name otherwise (whose files then keep the
original text in `_kx_orig_<column>`). The BSON type is not kept beyond that (documented).
"""

from __future__ import annotations

from collections.abc import Sequence

from kx_lake.lib.storage.segments import LeafValue, leaf_value

LeafKey = tuple[LeafValue, ...]
_TEXT_CACHE: dict[str, LeafValue] = {}  # a column holds few distinct ids (facilities, wards): each escaped once
_TEXT_CACHE_MAX = 65_536


def _leaf(value: object) -> LeafValue:
    if type(value) is not str:  # exactly str: 1, True and 1.0 are equal keys but different leaves
        return leaf_value(value)
    found = _TEXT_CACHE.get(value)
    if found is None:
        if len(_TEXT_CACHE) >= _TEXT_CACHE_MAX:
            _TEXT_CACHE.clear()
        found = _TEXT_CACHE[value] = leaf_value(value)
    return found


def split_leaf(doc: dict, columns: Sequence[str]) -> LeafKey:
    """Remove the partition columns from `doc` (in place) and return their leaf values."""
    return tuple(_leaf(doc.pop(col, None)) for col in columns)
