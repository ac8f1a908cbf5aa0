"""Data-quality measurements per collection × environment, each returning a Measurement (passed,
severity, description, metadata), so the Dagster checks are a thin loop and these are testable alone.

This module holds what reads the lake and the state (freshness, schema drift) and the exact MongoDB
count; the measurements that read the catalog (reconciliation, `_id` uniqueness, facility names)
live in catalog_checks, over any catalog backend.

* freshness — the newest date partition's end (in the env's timezone) is at most the configured lag
  ago; lag of the watermark reported too.
* schema_drift — new and widened fields of the current schema vs the previous version (state keeps
  it); fails (WARN) when the last sync changed the schema, so the change is seen once, not forever.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pymongo import MongoClient

from kx_lake.lib.config import CollectionSpec, EnvironmentSpec
from kx_lake.lib.extract.timestamps import to_utc_ms
from kx_lake.lib.harmonize.types import LakeType, ListType, StructType
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.storage import LakeStorage, fsio

ERROR, WARN = "ERROR", "WARN"


@dataclass
class Measurement:
    passed: bool
    description: str
    severity: str = ERROR
    metadata: dict = field(default_factory=dict)


def older_than_count(client: MongoClient, spec: CollectionSpec, before_ms: int) -> int:
    """Documents whose timestamp (date, epoch millis or ISO text) is before `before_ms`, exactly."""
    coll = client[spec.database][spec.collection]
    ts = spec.timestamp_column
    before = datetime.fromtimestamp(before_ms / 1000, UTC)
    text_lo, text_hi = (before.date() - timedelta(days=1)).isoformat(), (before.date() + timedelta(days=2)).isoformat()
    count = coll.count_documents({"$or": [{ts: {"$lt": before}}, {ts: {"$lt": before_ms}}, {ts: {"$lt": text_lo}}]})
    for doc in coll.find({ts: {"$gte": text_lo, "$lt": text_hi}}, {ts: 1, "_id": 0}):  # text near the boundary
        value = to_utc_ms(doc.get(ts))
        count += value is not None and value < before_ms
    return count


def newest_partition_date(storage: LakeStorage, env: str, spec: CollectionSpec):
    """The newest `date=` folder holding a Parquet file. Folders are listed newest first and only
    until one holds a file: walking the whole table (every date × leaf) cost every sync's checks a
    listing of the lake's history per collection."""
    table = storage.fs._strip_protocol(storage.table_dir(env, spec.database, spec.collection))
    names = storage.date_dirs(env, spec.database, spec.collection)
    for seg in sorted((n for n in names if n.startswith("date=")), reverse=True):
        if any(path.endswith(".parquet") for path in fsio.list_files(storage.fs, f"{table}/{seg}")):
            return seg[5:]
    return None


def freshness(storage: LakeStorage, env: EnvironmentSpec, spec: CollectionSpec, state: CollectionState,
              max_lag_hours: float, now: datetime | None = None) -> Measurement:
    now = now or datetime.now(UTC)
    newest = newest_partition_date(storage, env.name, spec)
    wm_lag = (now.timestamp() * 1000 - state.watermark_ms) / 3_600_000 if state.watermark_ms else None
    meta = {"newest_partition": newest or "", "max_lag_hours": max_lag_hours,
            "watermark_lag_hours": round(wm_lag, 3) if wm_lag is not None else -1.0}
    if newest is None:
        return Measurement(False, "no partition in the lake", WARN, meta)
    tz = ZoneInfo(env.timezone)
    end = datetime.combine(datetime.fromisoformat(newest).date() + timedelta(days=1), time(), tz)
    lag = max(0.0, (now - end).total_seconds() / 3600)
    meta["partition_lag_hours"] = round(lag, 3)
    if lag > max_lag_hours:
        return Measurement(False, f"newest partition {newest} is {lag:.1f} h old (limit {max_lag_hours} h)", WARN, meta)
    return Measurement(True, f"newest partition {newest}", WARN, meta)


def _flatten(t: LakeType, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(t, StructType):
        for name, ft in t.fields:
            path = f"{prefix}.{name}" if prefix else name
            out[path] = str(ft)
            out.update(_flatten(ft, path))
    elif isinstance(t, ListType):
        out.update(_flatten(t.element, f"{prefix}[]"))
    return out


def schema_drift(state: CollectionState) -> Measurement:
    meta = {"schema_version": state.schema_version, "previous_schema_version": state.previous_schema_version or 0,
            "schema_changed_at": state.schema_changed_at or ""}
    if state.schema is None or state.previous_schema is None:
        return Measurement(True, "no previous schema version", WARN, meta)
    now, before = _flatten(state.schema), _flatten(state.previous_schema)
    added = sorted(set(now) - set(before))
    widened = sorted(f"{p}: {before[p]} → {now[p]}" for p in set(now) & set(before) if now[p] != before[p])
    meta.update(new_fields="\n".join(added) or "none", widened_fields="\n".join(widened) or "none",
                new_field_count=len(added), widened_field_count=len(widened))
    if state.schema_changed_in_last_write:
        return Measurement(False, f"schema v{state.previous_schema_version} → v{state.schema_version} in the last "
                                  f"sync: {len(added)} new, {len(widened)} widened field(s)", WARN, meta)
    return Measurement(True, f"schema v{state.schema_version} unchanged by the last sync", WARN, meta)
