"""The data-quality measurements that read the catalog: reconciliation, `_id` uniqueness, facility names.

They take a `CatalogBackend` (DuckDB, Athena in glue/crawler mode, Trino) and send it Athena SQL only
(`query`), so one check means the same on a laptop and in production. Each runs in one of two scopes:

* **all dates** (`scope=None`): the whole history. What a check-only run does (the `quality_checks`
  job and its daily schedule), and a sync whose range starts at the first partition (a full load).
* **the run's dates** (`Scope(first, last)`): an incremental sync re-materializes only a few recent
  dates, so its checks read only those partitions (`backend.partition_scan`: pruned by the
  metastore on Athena/Trino, only those folders on DuckDB); the source is asked only for the
  documents of that window. They never read `_latest` or the whole table: on DuckDB either binds
  every Parquet file's footer (`union_by_name`), which made an hourly check cost as much as the
  history (16,959 files, 827 MB for one table at scale 1). A defect in an untouched date was there
  before the run and is reported by the next full check.

The arithmetic (R = rows in the rejects table for the collection, read from the lake; tombstones are
rows with `_kx_deleted` = true that `_latest` hides):

* reconciliation, all dates: T = MongoDB's document count (collection metadata), M = documents with
  a timestamp before the synced point, I = distinct identities (`_id`, BSON type) in the table,
  L = identities in `_latest` = I − D, D = identities whose newest row is a tombstone. Holds:
  **M ≤ L + R** (else ERROR: data missing) and **L ≤ T** (else WARN: deleted at the source and not
  yet tombstoned — run `kx-lake reconcile`). When L + R = T both hold without counting M (a scan on
  FerretDB), the quiet case.
* reconciliation, the run's dates: M_w = documents whose timestamp is in [start of `first`,
  min(synced point, end of `last`)) — the extract's own window filter, trimmed on the client —,
  L_w = identities with a non-tombstone row in those date partitions. Each such document's current
  version lies in those dates, so **M_w ≤ L_w + R** (else ERROR); L_w may exceed M_w (older versions of
  documents modified again since, documents deleted at the source).
* id_unique: no (identity, timestamp) version is stored twice in the table (a copied file) — what
  makes `_latest`'s newest version ambiguous; a version's date follows from its timestamp, so the
  run's dates hold every copy of the versions they contain. All dates also count `_latest`'s rows per
  identity (one each, unless the view in the catalog is not the one kx-lake built); the run's dates
  skip that part, which reads every file, and count the identities in their partitions instead.
* facility_names: see `facility_names`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from pymongo import MongoClient

from kx_lake.lib.catalog import names
from kx_lake.lib.catalog.backend import CatalogBackend
from kx_lake.lib.catalog.objects import CatalogError
from kx_lake.lib.config import CollectionSpec, EnvironmentSpec
from kx_lake.lib.extract.timestamps import to_utc_ms
from kx_lake.lib.extract.windows import Window, window_filter
from kx_lake.lib.lake.state import CollectionState, iso_ms
from kx_lake.lib.lake.tombstones import DELETED_COLUMN
from kx_lake.lib.ops.quality import ERROR, WARN, Measurement, older_than_count


@dataclass(frozen=True)
class Scope:
    """The date partitions a run touched, first..last inclusive, in the environment's timezone."""

    first: date
    last: date

    def __str__(self) -> str:
        return f"{self.first}..{self.last}"


def _latest(env: EnvironmentSpec, spec: CollectionSpec) -> str:
    return names.qualified(names.glue_database(env, spec.database), names.latest_view_name(spec))


def _table(env: EnvironmentSpec, spec: CollectionSpec) -> str:
    return names.qualified(names.glue_database(env, spec.database), names.table_name(spec))


def _identity(state: CollectionState) -> str:
    """A document's identity columns: `_id` and, in lakes that have it, its BSON type."""
    return '"_id", "_kx_id_type"' if state.schema is not None and "_kx_id_type" in state.schema.names else '"_id"'


def _live(state: CollectionState) -> str:
    """A predicate true for rows that are not tombstones."""
    has = state.schema is not None and DELETED_COLUMN in state.schema.names
    return f'coalesce("{DELETED_COLUMN}", false) = false' if has else "true"


def _one(backend: CatalogBackend, sql: str) -> tuple:
    rows = backend.query(sql).rows
    if not rows:  # an aggregate always has a row; an engine that ran nothing (moto's Athena) has none
        raise CatalogError(f"no row returned for: {sql[:120]}")
    return tuple(rows[0])


def window_count(client: MongoClient, env: EnvironmentSpec, spec: CollectionSpec, lo_ms: int, hi_ms: int) -> int:
    """Source documents whose timestamp (any encoding) is in [lo_ms, hi_ms), exactly: the extract's
    window filter over the dates around the range, each timestamp checked on the client (only the
    timestamp field is read). On MongoDB an index on the timestamp column serves it."""
    tz = env.tz
    first = datetime.fromtimestamp(lo_ms / 1000, UTC).astimezone(tz).date()
    last = datetime.fromtimestamp((hi_ms - 1) / 1000, UTC).astimezone(tz).date()
    ts = spec.timestamp_column
    coll = client[spec.database][spec.collection]
    count = 0
    for doc in coll.find(window_filter(ts, Window(first, last, tz)), {ts: 1, "_id": 0}):
        value = to_utc_ms(_get(doc, ts), tz)
        count += value is not None and lo_ms <= value < hi_ms
    return count


def _get(doc: dict, dotted: str):
    for step in dotted.split("."):
        doc = doc.get(step) if isinstance(doc, dict) else None
    return doc


def reconciliation(client: MongoClient, backend: CatalogBackend, env: EnvironmentSpec, spec: CollectionSpec,
                   state: CollectionState, rejected: int, scope: Scope | None = None) -> Measurement:
    if scope is not None:
        return _window_reconciliation(client, backend, env, spec, state, rejected, scope)
    t = client[spec.database][spec.collection].estimated_document_count()
    ident = _identity(state)
    lake, seen = _one(backend, f"SELECT (SELECT count(*) FROM (SELECT DISTINCT {ident} FROM {_latest(env, spec)}) AS l), "
                               f"(SELECT count(*) FROM (SELECT DISTINCT {ident} FROM {_table(env, spec)}) AS i)")
    lake, seen = int(lake), int(seen)
    meta = {"scope": "all dates", "mongo_docs_total": t, "lake_latest_ids": lake, "tombstoned_ids": seen - lake,
            "rejected": rejected, "synced_until": iso_ms(state.synced_until_ms)}
    extra = f" + {rejected} rejected" if rejected else ""
    gone = f" ({seen - lake} tombstoned)" if seen > lake else ""
    if lake + rejected == t:  # M ≤ T = L + R holds without counting M: the common quiet case costs no scan
        return Measurement(True, f"{lake} ids in _latest{gone}{extra} = {t} documents in MongoDB", ERROR, meta)
    if state.synced_until_ms is None:
        return Measurement(False, "never fully synced (no synced point): cannot compare with MongoDB", WARN, meta)
    m = older_than_count(client, spec, state.synced_until_ms)
    meta["mongo_docs_before_synced_until"] = m
    if lake + rejected < m:
        return Measurement(False, f"{m - lake - rejected} document(s) modified before {iso_ms(state.synced_until_ms)} "
                                  f"are missing from the lake ({lake} ids in _latest{gone}, {rejected} rejected, {m} in "
                                  "MongoDB)", ERROR, meta)
    if lake > t:
        return Measurement(False, f"_latest has {lake - t} more _id(s) than MongoDB holds: deleted at the source and "
                                  "not yet tombstoned (run `kx-lake reconcile`)", WARN, meta)
    return Measurement(True, f"{lake} ids in _latest{gone}{extra}; MongoDB {m} before the synced point, {t} in all",
                       ERROR, meta)


def _window_reconciliation(client: MongoClient, backend: CatalogBackend, env: EnvironmentSpec, spec: CollectionSpec,
                           state: CollectionState, rejected: int, scope: Scope) -> Measurement:
    meta = {"scope": str(scope), "rejected": rejected, "synced_until": iso_ms(state.synced_until_ms)}
    if state.synced_until_ms is None:
        return Measurement(False, "never fully synced (no synced point): cannot compare with MongoDB", WARN, meta)
    lo = int(datetime.combine(scope.first, time(), env.tz).timestamp() * 1000)
    end = int(datetime.combine(scope.last + timedelta(days=1), time(), env.tz).timestamp() * 1000)
    hi = min(end, state.synced_until_ms)
    if hi <= lo:
        return Measurement(True, f"nothing synced in {scope} yet", ERROR, meta)
    scan = backend.partition_scan(spec, scope.first, scope.last)
    (lake,) = _one(backend, f"SELECT count(*) FROM (SELECT DISTINCT {_identity(state)} FROM {scan} AS s "
                            f"WHERE {_live(state)}) AS w")
    lake = int(lake)
    m = window_count(client, env, spec, lo, hi)
    meta.update(mongo_docs_in_window=m, lake_ids_in_window=lake, window_from=iso_ms(lo), window_to=iso_ms(hi))
    if m > lake + rejected:
        return Measurement(False, f"{m - lake - rejected} document(s) modified in [{iso_ms(lo)}, {iso_ms(hi)}) are "
                                  f"missing from the lake's dates {scope} ({lake} ids there, {rejected} rejected, "
                                  f"{m} in MongoDB)", ERROR, meta)
    return Measurement(True, f"dates {scope}: {m} MongoDB documents modified in the window ≤ {lake} ids in those "
                             f"partitions + {rejected} rejected", ERROR, meta)


def id_unique(backend: CatalogBackend, env: EnvironmentSpec, spec: CollectionSpec, state: CollectionState,
              scope: Scope | None = None) -> Measurement:
    ident, ts = _identity(state), names.timestamp_column_sql(spec)
    if scope is None:
        versions = _table(env, spec)
        ids, rows = _one(backend, f"SELECT count(*), coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM "
                                  f"{_latest(env, spec)} GROUP BY {ident}) AS g")
        ids, rows = int(ids), int(rows)
        meta: dict = {"scope": "all dates", "latest_rows": rows, "latest_distinct_ids": ids}
        if rows != ids:
            return Measurement(False, f"{rows - ids} duplicate _id row(s) in {spec.collection}_latest", ERROR, meta)
    else:
        versions = backend.partition_scan(spec, scope.first, scope.last)
        (ids,) = _one(backend, f"SELECT count(*) FROM (SELECT DISTINCT {ident} FROM {versions} AS s) AS i")
        ids = int(ids)
        meta = {"scope": str(scope), "ids_in_dates": ids}
    dups, example = _one(backend, f'SELECT count(*), min(CAST(id AS VARCHAR)) FROM (SELECT "_id" AS id FROM {versions} '
                                  f"AS v GROUP BY {ident}, {ts} HAVING count(*) > 1) AS d")
    dups = int(dups)
    meta["versions_stored_twice"] = dups
    where = f" in dates {scope}" if scope else ""
    if dups:
        return Measurement(False, f"{dups} (_id, {spec.timestamp_column}) version(s) stored more than once "
                                  f"(e.g. _id {example}): the latest version is ambiguous", ERROR, meta)
    return Measurement(True, f"{ids} unique _ids{where}", ERROR, meta)


def facility_names(backend: CatalogBackend, dim_view: str, spelling_sources: list[str], max_spellings: int) -> Measurement:
    """dim_facility has one row per facility_id with a name; the canonical name is among the spellings
    observed in the transactions (a master rename shows up as none matching) and no facility has more
    than `max_spellings` spellings. `dim_view`: 'db.dim_facility'; `spelling_sources`: relations with
    facility_id and facility_name — the transactions' `_latest` views, or their partitions of the
    run's dates (`partition_scan`), whose rows are spellings observed as well."""
    dim = backend.query(f"SELECT facility_id, facility_name FROM {dim_view}").rows
    rows, ids = len(dim), len({f for f, _ in dim})
    unnamed = sum(n is None for _, n in dim)
    canonical = {f: n for f, n in dim}
    seen = " UNION ALL ".join(f"SELECT facility_id, trim(facility_name) AS n FROM {s} AS s{i}"
                              for i, s in enumerate(spelling_sources))
    by_id: dict[str, set[str]] = {}
    for fid, name in backend.query(f"SELECT DISTINCT facility_id, n FROM ({seen}) AS t WHERE facility_id IS NOT NULL "
                                   "AND n IS NOT NULL AND n <> ''").rows:
        by_id.setdefault(fid, set()).add(name)
    spellings = {f: sorted(v) for f, v in sorted(by_id.items())}
    unmatched = sorted(f for f, names_ in spellings.items() if canonical.get(f) not in names_)
    too_many = sorted(f for f, names_ in spellings.items() if len(names_) > max_spellings)
    meta = {"facilities": ids, "unnamed": unnamed, "drifting_facilities": sum(len(v) > 1 for v in spellings.values()),
            "spellings": "\n".join(f"{f}: {canonical.get(f)!r} ← {v}" for f, v in spellings.items() if len(v) > 1)
            or "none"}
    problems = []
    if rows != ids:
        problems.append(f"{rows - ids} facility_id(s) with several canonical names")
    if unnamed:
        problems.append(f"{unnamed} facility_id(s) without a name")
    if unmatched:
        problems.append(f"canonical name used by no transaction for {', '.join(unmatched[:10])} (renamed?)")
        meta["unmatched"] = "\n".join(f"{f}: {canonical.get(f)!r} vs {spellings[f]}" for f in unmatched[:50])
    if too_many:
        problems.append(f"more than {max_spellings} spellings for {', '.join(too_many[:10])}")
    if problems:
        return Measurement(False, "; ".join(problems), ERROR, meta)
    return Measurement(True, f"{ids} facilities, one canonical name each", ERROR, meta)
