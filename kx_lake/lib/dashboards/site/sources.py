"""Where the site reads its datasets: the env's DuckDB catalog or the self-hosted Trino (a seam).

`dashboards_engine` in environments.yaml picks one per environment. A source reads one dataset,
optionally already restricted to a tenant's facilities (`scope`): DuckDB reads the whole dataset once
and the site filters in memory (`scoped = False`); Trino gets the tenant predicate pushed down as
`?` parameters (`WHERE facility_id IN (?, ...)`) and is cached per (dataset, scope) (`scoped = True`).
Either way the site still applies the same parameterised predicate to every query it runs on the
cached rows (query.py), so a source can never widen what a tenant sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from kx_lake.lib.catalog.objects import CatalogError
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.dashboards.query import scope_predicate

Scope = tuple[str, ...] | None
# dataset columns are VARCHAR, DATE, BIGINT or DOUBLE (the dataset contract); anything else is inferred
_ARROW = {"varchar": pa.string(), "date": pa.date32(), "bigint": pa.int64(), "double": pa.float64()}


@dataclass(frozen=True)
class DatasetSource:
    read: Callable[[str, Scope], pa.Table]  # (relation, scope) -> rows
    stamp: Callable[[], object]  # changes when the catalog changes (None: rely on the TTL)
    scoped: bool  # whether `read` applies the scope (cache per scope)
    engine: str


def connection_source(connect: Callable[[], duckdb.DuckDBPyConnection], catalog_file: Path,
                      snapshots: Path | None = None) -> DatasetSource:
    """A DuckDB catalog file, opened read-only per read (so a refresh can take its write lock between
    reads); the file's mtime invalidates the cache. A dataset with a snapshot (the Parquet file
    `catalog refresh` writes, catalog/snapshots.py) is read from it — milliseconds instead of computing
    the view over the whole lake — and from the view otherwise."""
    from kx_lake.lib.dashboards.site.data import catalog_stamp

    def read(relation: str, scope: Scope) -> pa.Table:
        if snapshots is not None:
            path = snapshots / f"{relation.rsplit('.', 1)[-1]}.parquet"  # catalog/snapshots.snapshot_path
            try:
                return pq.read_table(path)
            except FileNotFoundError:  # none yet, or removed since: the view still answers
                pass
        con = connect()
        try:
            return con.sql(f"SELECT * FROM {relation}").to_arrow_table()
        finally:
            con.close()

    def stamp() -> object:  # the catalog's and every snapshot's modification (a refresh rewrites both)
        folder = snapshots if snapshots is not None and snapshots.is_dir() else None
        files = sorted((f.name, f.stat().st_mtime_ns) for f in folder.glob("*.parquet")) if folder else []
        return catalog_stamp(catalog_file), tuple(files)

    return DatasetSource(read, stamp, scoped=False, engine="duckdb")


def duckdb_source(project: ProjectConfig, env: str) -> DatasetSource:
    from kx_lake.lib.catalog.duckdb_catalog import catalog_path, connect

    from kx_lake.lib.catalog.snapshots import snapshot_dir

    return connection_source(lambda: connect(project, env, read_only=True), catalog_path(project, env),
                             snapshots=snapshot_dir(project, env))


def trino_source(project: ProjectConfig, env: str, connect: Callable[[], object] | None = None) -> DatasetSource:
    """The home's running Trino (`kx-lake trino up`), or the server `connect` opens."""
    from kx_lake.lib.trino import client, server

    def read(relation: str, scope: Scope) -> pa.Table:
        clauses, params = scope_predicate(scope)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        try:
            con = connect() if connect else client.connect(server.require(project.settings.home))
        except server.TrinoServerError as exc:
            raise CatalogError(f"{env}: {exc}") from exc
        try:
            cur = con.cursor()
            cur.execute(f"SELECT * FROM {relation}{where}", params or None)
            rows = cur.fetchall()
            described = cur.description or []
        except Exception as exc:  # trino's errors carry the useful message
            raise CatalogError(f"{env}: reading {relation} from Trino: {exc}") from exc
        finally:
            con.close()
        columns = {}
        for i, d in enumerate(described):
            values = [r[i] for r in rows]
            columns[d[0]] = pa.array(values, type=_ARROW.get(str(d[1]).lower()))
        return pa.table(columns)

    return DatasetSource(read, lambda: None, scoped=True, engine="trino")


def dataset_source(project: ProjectConfig, env: str) -> DatasetSource:
    engine = project.environment(env).dashboards_engine
    return trino_source(project, env) if engine == "trino" else duckdb_source(project, env)
