"""Where a source document goes before anything is written: its partition date, or the rejects table
with the reason; and the PII tokenizer applied to it first.

A document is placeable when its modified timestamp is a timestamp in any encoding
(harmonize/clock.py) between the first partition date and the end of tomorrow; otherwise the reason
says why not (missing, null, another type, unparseable text, too old, in the future).

A collection with `timestamp_fallback = objectid` places a document whose timestamp is missing or
null on its ObjectId `_id`'s generation time instead (its timestamp column stays null in the lake, so
`_latest` ranks that row below any version with a timestamp). Only missing or null: any other value
(text, a boolean, NaN...) cannot be stored in the timestamp column without losing it, so such a
document is still rejected. The reconcile pass reads both sides with the same rule (`fallback_ms`).
"""

from __future__ import annotations

import os
from typing import NamedTuple

from bson import ObjectId

from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.lib.extract.timestamps import MISSING, to_utc_ms, why_not
from kx_lake.lib.extract.windows import Bounds
from kx_lake.lib.lake.state import iso_ms
from kx_lake.lib.pii import PiiTokenizer, environ_with_key, tokenizer_for
from kx_lake.lib.source import local_server


class Placement(NamedTuple):
    ts_ms: int | None  # UTC ms the partition date comes from; None: rejected
    why: str  # why not ('' when placed)
    fallback: bool = False  # placed on the ObjectId's time, the timestamp being missing or null


def objectid_ms(oid: ObjectId) -> int:
    """UTC ms of an ObjectId's generation time (whole seconds)."""
    return int(oid.generation_time.timestamp()) * 1000


def fallback_ms(doc, spec: CollectionSpec) -> int | None:
    """The ObjectId time of a document without a timestamp (missing or null) when its collection opts in."""
    if spec.timestamp_fallback != "objectid" or doc.get(spec.timestamp_column) is not None:
        return None
    oid = doc.get("_id")
    return objectid_ms(oid) if isinstance(oid, ObjectId) else None


def placement(doc: dict, spec: CollectionSpec, tz, bounds: Bounds | None) -> Placement:
    """(UTC ms, '') for a document a partition can hold, else (None, why not)."""
    value = doc.get(spec.timestamp_column, MISSING)
    ts_ms, fallback, what = to_utc_ms(value, tz), False, f"{spec.timestamp_column!r}"
    if ts_ms is None:
        why = f"{what} is not a usable timestamp: {why_not(value, tz)}"
        ts_ms = fallback_ms(doc, spec)
        if ts_ms is None:
            if spec.timestamp_fallback:
                why += " (timestamp_fallback objectid needs a missing or null timestamp and an ObjectId _id)"
            return Placement(None, why)
        fallback, what = True, f"{why}; its ObjectId time"
    if bounds is None:
        return Placement(ts_ms, "", fallback)
    if ts_ms < bounds.start_ms:
        return Placement(None, f"{what} {iso_ms(ts_ms)} is before the first partition date "
                               f"{bounds.start.first} (partitions_start)")
    if ts_ms >= bounds.end_ms:
        return Placement(None, f"{what} {iso_ms(ts_ms)} is in the future (after {bounds.end.last})")
    return Placement(ts_ms, "", fallback)


def pii_tokenizer(project: ProjectConfig, env: str, spec: CollectionSpec) -> PiiTokenizer | None:
    """The collection's `pii_columns` tokenizer in this environment (None without pii_columns)."""
    if not spec.pii_columns:
        return None
    env_spec = project.environment(env)
    # the embedded local stack: no URI variable and the env's FerretDB running (a deployment sets the key)
    local = not os.environ.get(env_spec.mongodb_uri_secret) and local_server.running(project, env) is not None
    environ = environ_with_key(env_spec.pii_key_variable, env, project.settings.home, local)
    return tokenizer_for(spec.pii_columns, env_spec.pii_key_variable, env, environ)
