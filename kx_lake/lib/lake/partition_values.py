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


def split_leaf(doc: dict, columns: Sequence[str]) -> LeafKey:
    """Remove the partition columns from `doc` (in place) and return their leaf values."""
    return tuple(leaf_value(doc.pop(col, None)) for col in columns)
