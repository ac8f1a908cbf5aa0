"""Where a source document goes before anything is written: its partition date, or the rejects table
with the reason; and the PII tokenizer applied to it first.

A document is placeable when its modified timestamp is a timestamp in any encoding
(harmonize/clock.py) between the first partition date and the end of tomorrow; otherwise the reason
says why not (missing, null, another type, unparseable text, too old, in the future).
"""

from __future__ import annotations

import os

from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.lib.extract.timestamps import MISSING, to_utc_ms, why_not
from kx_lake.lib.extract.windows import Bounds
from kx_lake.lib.lake.state import iso_ms
from kx_lake.lib.pii import PiiTokenizer, environ_with_key, tokenizer_for
from kx_lake.lib.source import local_server


def placement(doc: dict, spec: CollectionSpec, tz, bounds: Bounds | None) -> tuple[int | None, str]:
    """(UTC ms, '') for a document a partition can hold, else (None, why not)."""
    value = doc.get(spec.timestamp_column, MISSING)
    ts_ms = to_utc_ms(value, tz)
    if ts_ms is None:
        return None, f"{spec.timestamp_column!r} is not a usable timestamp: {why_not(value, tz)}"
    if bounds is None:
        return ts_ms, ""
    if ts_ms < bounds.start_ms:
        return None, (f"{spec.timestamp_column!r} {iso_ms(ts_ms)} is before the first partition date "
                      f"{bounds.start.first} (partitions_start)")
    if ts_ms >= bounds.end_ms:
        return None, f"{spec.timestamp_column!r} {iso_ms(ts_ms)} is in the future (after {bounds.end.last})"
    return ts_ms, ""


def pii_tokenizer(project: ProjectConfig, env: str, spec: CollectionSpec) -> PiiTokenizer | None:
    """The collection's `pii_columns` tokenizer in this environment (None without pii_columns)."""
    if not spec.pii_columns:
        return None
    env_spec = project.environment(env)
    # the embedded local stack: no URI variable and the env's FerretDB running (a deployment sets the key)
    local = not os.environ.get(env_spec.mongodb_uri_secret) and local_server.running(project, env) is not None
    environ = environ_with_key(env_spec.pii_key_variable, env, project.settings.home, local)
    return tokenizer_for(spec.pii_columns, env_spec.pii_key_variable, env, environ)
