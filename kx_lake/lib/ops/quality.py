"""Data-quality measurements per collection × environment, each returning a Measurement (passed,
severity, description, metadata). Plain functions over a MongoDB client, the lake storage, the state
and a DuckDB catalog connection, so the Dagster checks are a thin loop and these are testable alone.

Definitions chosen to be exact and cheap (one or two queries each):

* reconciliation — M = MongoDB documents with timestamp < synced_until (each encoding; ISO text near
  the boundary trimmed on the client), T = all MongoDB documents (estimated count: collection
  metadata), L = distinct `_id`s in `<collection>_latest`, R = rows of the collection in the rejects
  table (documents the sync could not place, with a reason). Every document modified before the synced
  point must be in the lake or rejected, and the lake holds only documents that exist, so
  M ≤ L + R and L ≤ T. Documents modified since the sync move from M to T − M yet stay in L, which is
  why equality is only required when M = T. L + R < M: data missing (a partition lost) → ERROR;
  L > T: deleted at the source → WARN. When L + R = T the inequalities hold without counting M, so a
  quiet collection costs no scan (the count is a scan on FerretDB, which pushes down no range). A
  collection never fully synced (no synced point) cannot be compared → WARN.
* id_unique — `_id` unique in `_latest`, and no (`_id`, timestamp) pair twice in the table: a version
  stored twice (a copied file, a partition written twice) makes "the latest version" ambiguous,
  though `_latest` still shows one row for it.
* freshness — the newest date partition's end (in the env's timezone) is at most the configured lag
  ago; lag of the watermark reported too.
* schema_drift — new and widened fields of the current schema vs the previous version (state keeps
  it); fails (WARN) when the last sync changed the schema, so the change is seen once, not forever.
* facility_names — dim_facility has one row per facility_id with a name; the canonical name is
  among the spellings observed in the transactions (a master rename shows up as none matching) and
  no facility has more than `max_spellings` spellings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb
from pymongo import MongoClient

from kx_lake.lib.catalog import names
from kx_lake.lib.config import CollectionSpec, EnvironmentSpec
from kx_lake.lib.extract.timestamps import to_utc_ms
from kx_lake.lib.harmonize.types import LakeType, ListType, StructType
from kx_lake.lib.lake.state import CollectionState, iso_ms
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


def _latest(env: EnvironmentSpec, spec: CollectionSpec) -> str:
    return names.qualified(names.glue_database(env, spec.database), names.latest_view_name(spec))


def _table(env: EnvironmentSpec, spec: CollectionSpec) -> str:
    return names.qualified(names.glue_database(env, spec.database), names.table_name(spec))


def reconciliation(client: MongoClient, con: duckdb.DuckDBPyConnection, env: EnvironmentSpec,
                   spec: CollectionSpec, state: CollectionState, rejected: int = 0) -> Measurement:
    t = client[spec.database][spec.collection].estimated_document_count()
    (lake,) = con.execute(f"SELECT count(*) FROM (SELECT DISTINCT {_identity(con, env, spec)} FROM {_latest(env, spec)})").fetchone()
    meta = {"mongo_docs_total": t, "lake_latest_ids": lake, "rejected": rejected,
            "synced_until": iso_ms(state.synced_until_ms)}
    if lake + rejected == t:  # M ≤ T = L + R holds without counting M: the common quiet case costs no scan
        extra = f" + {rejected} rejected" if rejected else ""
        return Measurement(True, f"{lake} ids in _latest{extra} = {t} documents in MongoDB", ERROR, meta)
    if state.synced_until_ms is None:
        return Measurement(False, "never fully synced (no synced point): cannot compare with MongoDB", WARN, meta)
    m = older_than_count(client, spec, state.synced_until_ms)
    meta["mongo_docs_before_synced_until"] = m
    if lake + rejected < m:
        return Measurement(False, f"{m - lake - rejected} document(s) modified before {iso_ms(state.synced_until_ms)} "
                                  f"are missing from the lake ({lake} ids in _latest, {rejected} rejected, {m} in "
                                  "MongoDB)", ERROR, meta)
    if lake > t:
        return Measurement(False, f"the lake has {lake - t} more _id(s) than MongoDB holds (deleted at the source?)",
                           WARN, meta)
    return Measurement(True, f"{lake} ids in _latest; MongoDB {m} before the synced point, {t} in all", ERROR, meta)


def _identity(con: duckdb.DuckDBPyConnection, env: EnvironmentSpec, spec: CollectionSpec) -> str:
    """A document's identity columns: `_id` and, in lakes that have it, its BSON type."""
    cols = {r[0] for r in con.execute(f"DESCRIBE {_table(env, spec)}").fetchall()}
    return '"_id", "_kx_id_type"' if "_kx_id_type" in cols else '"_id"'


def id_unique(con: duckdb.DuckDBPyConnection, env: EnvironmentSpec, spec: CollectionSpec) -> Measurement:
    identity = _identity(con, env, spec)
    (rows,) = con.execute(f"SELECT count(*) FROM {_latest(env, spec)}").fetchone()
    (ids,) = con.execute(f"SELECT count(*) FROM (SELECT DISTINCT {identity} FROM {_latest(env, spec)})").fetchone()
    ts = names.timestamp_column_sql(spec)
    (dups, example) = con.execute(
        f'SELECT count(*), min(CAST("_id" AS VARCHAR)) FROM (SELECT "_id" FROM {_table(env, spec)} '
        f'GROUP BY {identity}, {ts} HAVING count(*) > 1)'
    ).fetchone()
    meta = {"latest_rows": rows, "latest_distinct_ids": ids, "versions_stored_twice": dups}
    if rows != ids:
        return Measurement(False, f"{rows - ids} duplicate _id row(s) in {spec.collection}_latest", ERROR, meta)
    if dups:
        return Measurement(False, f"{dups} (_id, {spec.timestamp_column}) version(s) stored more than once "
                                  f"(e.g. _id {example}): the latest version is ambiguous", ERROR, meta)
    return Measurement(True, f"{ids} unique _ids", ERROR, meta)


def newest_partition_date(storage: LakeStorage, env: str, spec: CollectionSpec):
    table = storage.fs._strip_protocol(storage.table_dir(env, spec.database, spec.collection))
    dates = set()
    for path in fsio.list_files(storage.fs, table):
        if path.endswith(".parquet"):
            seg = path[len(table) + 1:].split("/", 1)[0]
            if seg.startswith("date="):
                dates.add(seg[5:])
    return max(dates) if dates else None


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


def facility_names(con: duckdb.DuckDBPyConnection, dim_view: str, spelling_sources: list[str],
                   max_spellings: int) -> Measurement:
    """dim_view: 'db.dim_facility'; spelling_sources: 'db.view' relations with facility_id, facility_name."""
    (rows, ids, unnamed) = con.execute(
        f"SELECT count(*), count(DISTINCT facility_id), count(*) FILTER (WHERE facility_name IS NULL) FROM {dim_view}"
    ).fetchone()
    seen = " UNION ALL ".join(f"SELECT facility_id, trim(facility_name) AS n FROM {s}" for s in spelling_sources)
    spellings = con.execute(
        f"SELECT facility_id, list(DISTINCT n ORDER BY n) FROM ({seen}) WHERE facility_id IS NOT NULL "
        "AND n IS NOT NULL AND n <> '' GROUP BY facility_id ORDER BY facility_id"
    ).fetchall()
    canonical = dict(con.execute(f"SELECT facility_id, facility_name FROM {dim_view}").fetchall())
    by_id = {fid: list(names_) for fid, names_ in spellings}
    unmatched = sorted(f for f, names_ in by_id.items() if canonical.get(f) not in names_)
    too_many = sorted(f for f, names_ in by_id.items() if len(names_) > max_spellings)
    meta = {"facilities": ids, "unnamed": unnamed, "drifting_facilities": sum(len(v) > 1 for v in by_id.values()),
            "spellings": "\n".join(f"{f}: {canonical.get(f)!r} ← {v}" for f, v in by_id.items() if len(v) > 1) or "none"}
    problems = []
    if rows != ids:
        problems.append(f"{rows - ids} facility_id(s) with several canonical names")
    if unnamed:
        problems.append(f"{unnamed} facility_id(s) without a name")
    if unmatched:
        problems.append(f"canonical name used by no transaction for {', '.join(unmatched[:10])} (renamed?)")
        meta["unmatched"] = "\n".join(f"{f}: {canonical.get(f)!r} vs {by_id[f]}" for f in unmatched[:50])
    if too_many:
        problems.append(f"more than {max_spellings} spellings for {', '.join(too_many[:10])}")
    if problems:
        return Measurement(False, "; ".join(problems), ERROR, meta)
    return Measurement(True, f"{ids} facilities, one canonical name each", ERROR, meta)
