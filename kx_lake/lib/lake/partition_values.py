"""Id partition columns: taken out of each document and rendered as path values.

Partition columns live in the path, not in the files (as with Spark's partitionBy and the original
Glue job), so they are removed from the document before schema inference and conversion, and their
value is rendered as text: strings as they are, integers in decimal, ObjectIds in hex, booleans as
true/false, anything else as canonical JSON; missing or null becomes None (the Hive default
partition). The value survives in the path; only its BSON type is not kept (documented).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bson import ObjectId
from bson.int64 import Int64

LeafKey = tuple[str | None, ...]


def render(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Int64)):
        return str(int(value))
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def split_leaf(doc: dict, columns: Sequence[str]) -> LeafKey:
    """Remove the partition columns from `doc` (in place) and return their rendered values."""
    return tuple(render(doc.pop(col, None)) for col in columns)
