"""One protocol for every catalog backend, so callers stop branching on the catalog mode.

A backend is one environment's catalog in one engine: the embedded DuckDB file, Glue + Athena (glue
or crawler mode), or the self-hosted Trino (trino_catalog.TrinoCatalog). Each offers the same verbs:

* `sync_tables(specs)`: tables and their partitions, straight from the lake, and the env's
  `<prefix>lake.kx_rejects` table (every engine and mode);
* `sync_latest_views(specs)`, `sync_sql_views(views)`: the `_latest` dedup views, sql/views and
  sql/datasets (Athena SQL; DuckDB transpiles it, Athena and Trino run it as written);
* `query(sql, params)`, `row_count(relation)`, `relations()`, `columns(relation)` (name and engine
  type of a table's or view's columns, None when absent): reading it back;
* `partition_scan(spec, first, last)`: a relation (to put after FROM) of a collection's table limited
  to the date partitions first..last, read without touching the others — a partition predicate on
  Athena and Trino (pruned by the metastore), a temporary view over only those date folders on
  DuckDB (whose table view lists and binds every file of the table). What the data-quality checks
  use to cost in proportion to the dates a run touched.

`skips_failed_collections` is the one behavioural difference callers see: crawler mode leaves
collections whose last sync failed out of the crawl, as the original Glue job did.
How a backend is opened (DuckDB's file lock, AWS clients, a running Trino) is the caller's business
(builders.catalog_resource), so this module needs neither Dagster nor a network.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Protocol, runtime_checkable

import duckdb

from kx_lake.lib.catalog import aws_catalog, duckdb_catalog, names
from kx_lake.lib.catalog.athena import AthenaRunner
from kx_lake.lib.catalog.glue import GlueCatalog
from kx_lake.lib.catalog.objects import CatalogError, CatalogObject, QueryResult
from kx_lake.lib.catalog.views import SqlView, execute_athena_sql_on_duckdb, load_all_sql
from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.lib.lake.pipeline import table_ref
from kx_lake.lib.storage import fsio


@runtime_checkable
class CatalogBackend(Protocol):
    mode: str
    skips_failed_collections: bool

    def sync_tables(self, specs: Iterable[CollectionSpec]) -> list[CatalogObject]: ...

    def sync_latest_views(self, specs: Iterable[CollectionSpec]) -> list[CatalogObject]: ...

    def sync_sql_views(self, views: Sequence[SqlView] | None = None) -> list[CatalogObject]: ...

    def relations(self) -> set[tuple[str, str]]: ...

    def query(self, sql: str, params: Sequence[object] | None = None) -> QueryResult: ...

    def row_count(self, relation: str) -> int: ...

    def partition_scan(self, spec: CollectionSpec, first: date, last: date) -> str: ...

    def columns(self, relation: str) -> list[tuple[str, str]] | None: ...


class DuckDbBackend:
    """The embedded catalog over an open connection (read-write for refreshes)."""

    mode = "duckdb"
    skips_failed_collections = False

    def __init__(self, project: ProjectConfig, env: str, con: duckdb.DuckDBPyConnection) -> None:
        self.project, self.env, self.con = project, env, con

    def sync_tables(self, specs: Iterable[CollectionSpec]) -> list[CatalogObject]:
        return [*duckdb_catalog.sync_tables(self.project, self.env, specs, self.con),
                duckdb_catalog.sync_rejects_view(self.project, self.env, self.con)]

    def sync_latest_views(self, specs: Iterable[CollectionSpec]) -> list[CatalogObject]:
        return duckdb_catalog.sync_latest_views(self.project, self.env, specs, self.con)

    def sync_sql_views(self, views: Sequence[SqlView] | None = None) -> list[CatalogObject]:
        return duckdb_catalog.sync_sql_views(self.project, self.env, self.con, views)

    def relations(self) -> set[tuple[str, str]]:
        return duckdb_catalog.existing_relations(self.con)

    def query(self, sql: str, params: Sequence[object] | None = None) -> QueryResult:
        if params:  # parameters only with one plain statement: bind them as DuckDB `?`
            from kx_lake.lib.catalog.views import to_duckdb

            result = self.con.execute(to_duckdb(sql, "query")[-1], list(params))
        else:
            result = execute_athena_sql_on_duckdb(self.con, sql, source="query")
        if result.description is None:
            return QueryResult([], [])
        return QueryResult([d[0] for d in result.description], result.fetchall())

    def row_count(self, relation: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0])

    def columns(self, relation: str) -> list[tuple[str, str]] | None:
        database, name = relation.split(".", 1)
        if (database, name) not in duckdb_catalog.existing_relations(self.con):
            return None
        return [(str(r[0]), str(r[1])) for r in self.con.execute(f"DESCRIBE {names.qualified(database, name)}").fetchall()]

    def partition_scan(self, spec: CollectionSpec, first: date, last: date) -> str:
        ref = table_ref(self.project, self.env, spec)
        fs, _ = fsio.open_filesystem(ref.table_dir)
        table_dir, prefix = fs._strip_protocol(ref.table_dir), f"{names.DATE_COLUMN}="
        folders = fs.ls(table_dir, detail=False) if fs.exists(table_dir) else []
        dates = []  # the range's date folders that hold a file (DuckDB refuses a glob matching nothing)
        for folder in sorted(folders):
            seg = folder.rstrip("/").rsplit("/", 1)[-1]
            if (seg.startswith(prefix) and first.isoformat() <= seg[len(prefix):] <= last.isoformat()
                    and any(p.endswith(".parquet") for p in fsio.list_files(fs, folder))):
                dates.append(seg[len(prefix):])
        view = f"kx_scan_{names.table_name(spec)}"
        self.con.execute(duckdb_catalog.partition_scan_sql(ref, view, dates))
        return view


class AwsBackend:
    """Glue (tables, partitions; or crawlers) and Athena (views, queries)."""

    skips_failed_collections = False

    def __init__(self, project: ProjectConfig, env: str, glue: GlueCatalog, athena: AthenaRunner) -> None:
        self.project, self.env, self.glue, self.athena = project, env, glue, athena
        self.mode = project.environment(env).catalog
        self.skips_failed_collections = self.mode == "crawler"

    def sync_tables(self, specs: Iterable[CollectionSpec]) -> list[CatalogObject]:
        if self.mode == "crawler":  # the crawlers know collections only: kx_rejects is registered directly
            return [*aws_catalog.crawl_collections(self.project, self.env, specs, self.glue),
                    aws_catalog.register_rejects(self.project, self.env, self.glue)]
        return aws_catalog.register_tables(self.project, self.env, specs, self.glue)

    def sync_latest_views(self, specs: Iterable[CollectionSpec]) -> list[CatalogObject]:
        statements = aws_catalog.view_statements(self.project, self.env, specs, sql_views=False)
        return aws_catalog.create_views_on_athena(self.athena, statements, self.glue)

    def sync_sql_views(self, views: Sequence[SqlView] | None = None) -> list[CatalogObject]:
        wanted = {v.name for v in (load_all_sql(self.project, self.env) if views is None else views)}
        statements = [s for s in aws_catalog.view_statements(self.project, self.env, [], sql_views=True)
                      if s.name in wanted]
        return aws_catalog.create_views_on_athena(self.athena, statements, self.glue)

    def relations(self) -> set[tuple[str, str]]:
        """Tables and views of this env's Glue databases (its prefix)."""
        prefix = self.project.environment(self.env).glue_database_prefix
        client = self.glue.client
        out = set()
        for page in client.get_paginator("get_databases").paginate():
            for db in (d["Name"] for d in page.get("DatabaseList", []) if d["Name"].startswith(prefix)):
                for tables in client.get_paginator("get_tables").paginate(DatabaseName=db):
                    out |= {(db, t["Name"]) for t in tables.get("TableList", [])}
        return out

    def query(self, sql: str, params: Sequence[object] | None = None) -> QueryResult:
        if params:
            raise CatalogError(f"{self.env}: parameterised queries are not offered on Athena here")
        execution_id = self.athena.run("query", sql)
        result = self.athena.results(execution_id, name="query")
        return QueryResult(result.columns, result.rows)

    def row_count(self, relation: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {relation}").rows[0][0])

    def partition_scan(self, spec: CollectionSpec, first: date, last: date) -> str:
        return names.date_range_relation(self.project.environment(self.env), spec, first, last)

    def columns(self, relation: str) -> list[tuple[str, str]] | None:
        """From Glue, where Athena registers its views too (Hive type names: string, bigint, ...)."""
        database, name = relation.split(".", 1)
        table = self.glue.get_table(database, name)
        if table is None:
            return None
        return [(c["Name"], c["Type"]) for c in table.get("StorageDescriptor", {}).get("Columns", [])]
