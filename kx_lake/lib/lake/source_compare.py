"""Does an environment's `_latest` equal its MongoDB? An outside check for tests, the demo and operators.

Per collection, the source's `(_id, _kx_id_type, timestamp)` set — every document whose timestamp a
partition can hold (the others belong in kx_rejects and are only counted) — against the rows of the
catalog's `<collection>_latest` view, read through DuckDB: what a user of the lake sees. Deliberately
independent of the reconcile diff (a plain set comparison in Python, not reconcile_diff's DuckDB
plan), so it can judge it. Holds one collection's keys in memory: a check for the demo and the tests,
not for a 10-million-document collection (reconcile streams; this does not).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import duckdb
from pymongo import MongoClient

from kx_lake.lib.catalog import names
from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.lib.extract.timestamps import MISSING, to_utc_ms
from kx_lake.lib.harmonize.clock import LocalClock
from kx_lake.lib.harmonize.values import id_text
from kx_lake.lib.lake.identity import reserved_columns
from kx_lake.lib.lake.placement import fallback_ms
from kx_lake.lib.lake.reconcile import bounds_for
from kx_lake.lib.lake.rejects import id_type
from kx_lake.lib.lake.tombstones import timestamp_path

Key = tuple[str | None, str]  # (_id text, _kx_id_type)


@dataclass(frozen=True)
class Comparison:
    env: str
    database: str
    collection: str
    source: int  # documents in MongoDB
    unplaceable: int  # ... whose timestamp no partition holds (kx_rejects)
    latest: int  # rows in _latest
    missing: int  # placeable in MongoDB, absent from _latest
    extra: int  # in _latest, not (placeable) in MongoDB: deleted and not tombstoned, or misplaced
    stale: int  # in both, another timestamp
    duplicates: int  # identities with more than one row in _latest

    @property
    def equal(self) -> bool:
        return not (self.missing or self.extra or self.stale or self.duplicates)

    def to_dict(self) -> dict:
        return {**asdict(self), "equal": self.equal}


def source_versions(client: MongoClient, project: ProjectConfig, env: str, spec: CollectionSpec,
                    now_ms: int) -> tuple[dict[Key, int | None], int]:
    """({identity: lake timestamp (wall-clock ms in the env's timezone)}, unplaceable count). A document
    placed by `timestamp_fallback` has a null timestamp in the lake: None here."""
    tz = project.environment(env).tz
    clock, bounds = LocalClock(tz), bounds_for(project, env, now_ms)
    out: dict[Key, int | None] = {}
    unplaceable = 0
    for doc in client[spec.database][spec.collection].find({}, {spec.timestamp_column: 1}):
        ms = to_utc_ms(doc.get(spec.timestamp_column, MISSING), tz)
        fallback = fallback_ms(doc, spec) if ms is None else None
        if fallback is not None and bounds.start_ms <= fallback < bounds.end_ms:
            out[(id_text(doc["_id"]), id_type(doc["_id"]))] = None
            continue
        if ms is None or not bounds.start_ms <= ms < bounds.end_ms:
            unplaceable += 1
            continue
        out[(id_text(doc["_id"]), id_type(doc["_id"]))] = clock.local_ms(ms)
    return out, unplaceable


def latest_versions(con: duckdb.DuckDBPyConnection, project: ProjectConfig, env: str,
                    spec: CollectionSpec) -> list[tuple[Key, int | None]]:
    """Every row of the `_latest` view as (identity, timestamp ms); [] when the view does not exist."""
    relation = names.qualified(names.glue_database(project.environment(env), spec.database),
                               names.latest_view_name(spec))
    column = ".".join(f'"{p}"' for p in timestamp_path(spec, reserved_columns(spec)))
    try:
        rows = con.execute(f"SELECT _id, _kx_id_type, epoch_ms({column}) FROM {relation}").fetchall()
    except duckdb.CatalogException:
        return []
    return [((i, t), ts) for i, t, ts in rows]


def compare_collection(con: duckdb.DuckDBPyConnection, client: MongoClient, project: ProjectConfig, env: str,
                       spec: CollectionSpec, now_ms: int) -> Comparison:
    """`now_ms`: the clock deciding which timestamps a partition can hold (as the sync's), injected."""
    source, unplaceable = source_versions(client, project, env, spec, now_ms)
    rows = latest_versions(con, project, env, spec)
    seen = Counter(key for key, _ in rows)
    latest = dict(rows)
    return Comparison(
        env, spec.database, spec.collection, source=len(source) + unplaceable, unplaceable=unplaceable,
        latest=len(rows), missing=len(source.keys() - latest.keys()), extra=len(latest.keys() - source.keys()),
        stale=sum(1 for k, ts in source.items() if k in latest and latest[k] != ts),
        duplicates=sum(1 for n in seen.values() if n > 1),
    )
