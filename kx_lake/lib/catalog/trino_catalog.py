"""The Trino catalog: the lake's tables, dedup views and datasets on a self-hosted Trino (Hive connector).

Athena engine v3 IS Trino, so this backend runs the project's SQL exactly as Athena would:

* tables: per collection with data, the Glue TableInput the Glue path builds (glue.table_input from
  the stored lake schema, `date` + id partition keys) executed as DDL (trino_ddl) on the `lake` Hive
  catalog with a file metastore, `external_location` = the table's lake directory. A table is
  recreated only when its definition's fingerprint (kept in the table COMMENT) changed; dropping an
  external table drops metadata only, never lake files;
* partitions: `system.sync_partition_metadata(..., 'FULL', case_sensitive => false)` registers the
  lake's partition folders and forgets those that left it (the Glue path's add + prune);
* the env's rejects table `<prefix>lake.kx_rejects`, from the same Glue definition (rejects_table),
  partitioned by database and collection, synced the same way with every sync_tables;
* views: `_latest` views, sql/views and sql/datasets as written — UNCHANGED Athena SQL —, through
  `athena_sql_on_trino`, the one place where an Athena-only construct would be adapted (none is
  needed today: see its docstring).

Only a local lake is supported (Trino reads `local:///`); an s3:// lake is refused naming the env.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import sqlglot
from sqlglot import exp

from kx_lake.lib.catalog import names
from kx_lake.lib.catalog.aws_catalog import glue_columns
from kx_lake.lib.catalog.glue import GlueCatalogError, table_input
from kx_lake.lib.catalog.objects import CatalogError, CatalogObject, QueryResult, partitions_note
from kx_lake.lib.catalog.rejects_table import rejects_location, rejects_partitions, rejects_table_input
from kx_lake.lib.catalog.trino_ddl import COMMENT_PREFIX, TrinoDdlError, create_table_sql, fingerprint, local_location
from kx_lake.lib.catalog.views import (
    ATHENA_DIALECT,
    DATASET_KIND,
    SqlView,
    latest_view_sql,
    load_all_sql,
    referenced_tables,
)
from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.lib.lake.pipeline import storage_for, table_ref
from kx_lake.lib.lake.rejects import REJECTS_DIR, REJECTS_TABLE
from kx_lake.lib.storage import fsio
from kx_lake.lib.trino import client
from kx_lake.lib.trino.client import TrinoSqlError
from kx_lake.lib.trino.config import CATALOG


def athena_sql_on_trino(sql: str) -> str:
    """Athena SQL as Trino runs it. The one documented place for Athena-only constructs.

    Athena engine v3 is Trino, and every statement kx-lake generates or keeps in sql/ (CREATE OR
    REPLACE VIEW, window functions, `approx_percentile`, `date_diff`, `from_iso8601_*`, `at_time_zone`,
    `try_cast`, UNNEST ...) is valid Trino, so the text passes through unchanged. What Athena has
    and Trino lacks is DDL (CREATE EXTERNAL TABLE ... STORED AS, MSCK REPAIR TABLE, ALTER TABLE ADD
    PARTITION): kx-lake never sends those as SQL — Glue gets API calls, and this backend creates
    tables from the same Glue definition (trino_ddl) and registers partitions with
    `system.sync_partition_metadata`. Should a view ever need an Athena-only function, adapt it here.
    """
    return sql


class TrinoCatalog:
    """One environment's catalog on a running Trino (see the module docstring)."""

    mode = "trino"
    skips_failed_collections = False

    def __init__(self, project: ProjectConfig, env: str, con) -> None:
        self.project, self.env, self.con = project, env, con
        self.env_spec = project.environment(env)
        root = project.lake_root(self.env_spec)
        if "://" in root:
            raise CatalogError(f"{env}: catalog mode 'trino' reads a local lake, but the lake root is {root!r}")

    # --- statements ---------------------------------------------------------------------------

    def _run(self, sql: str, name: str, params: Sequence[object] | None = None) -> QueryResult:
        return client.run(self.con, sql, params, name=name)

    def relations(self) -> set[tuple[str, str]]:
        """(schema, name) of every table and view of this env's databases in the `lake` catalog."""
        prefix = self.env_spec.glue_database_prefix
        rows = self._run(
            f"SELECT table_schema, table_name FROM {CATALOG}.information_schema.tables WHERE table_schema LIKE ?",
            "list relations", [prefix + "%"],
        ).rows
        return {(s, n) for s, n in rows if s.startswith(prefix)}

    def reset(self) -> None:
        """Drop every view, table and schema of this env's prefix (metadata only: tables are external)."""
        prefix = self.env_spec.glue_database_prefix
        rows = self._run(f"SELECT table_schema, table_name, table_type FROM {CATALOG}.information_schema.tables "
                         "WHERE table_schema LIKE ?", "list relations", [prefix + "%"]).rows
        for schema, name, kind in sorted(rows, key=lambda r: r[2] != "VIEW"):  # views first
            if schema.startswith(prefix):
                what = "VIEW" if kind == "VIEW" else "TABLE"
                self._run(f"DROP {what} IF EXISTS {CATALOG}.{names.qualified(schema, name)}", f"drop {schema}.{name}")
        for (schema,) in self._run(f"SHOW SCHEMAS FROM {CATALOG}", "list schemas").rows:
            if schema.startswith(prefix):
                self._run(f"DROP SCHEMA IF EXISTS {CATALOG}.{names.quote(schema)}", f"drop schema {schema}")

    def _table_comments(self, database: str) -> dict[str, str]:
        rows = self._run(
            "SELECT table_name, comment FROM system.metadata.table_comments WHERE catalog_name = ? AND schema_name = ?",
            f"comments of {database}", [CATALOG, database]).rows
        return {t: c or "" for t, c in rows}

    def _ensure_schema(self, database: str) -> None:
        self._run(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{names.quote(database)}", f"create schema {database}")

    # --- tables and partitions ----------------------------------------------------------------

    def sync_tables(self, specs: Iterable[CollectionSpec]) -> list[CatalogObject]:
        out: list[CatalogObject] = []
        comments: dict[str, dict[str, str]] = {}
        for spec in specs:
            database = names.glue_database(self.env_spec, spec.database)
            table = names.table_name(spec)
            label, where = f"{database}.{table}", f"{self.env}/{spec.database}.{spec.collection}"
            ref = table_ref(self.project, self.env, spec)
            if ref.schema is None:
                out.append(CatalogObject("table", label, "skipped", "no stored lake schema (never synced)"))
                continue
            if not _has_parquet(ref.table_dir):
                out.append(CatalogObject("table", label, "skipped", f"no Parquet files under {ref.table_dir}"))
                continue
            try:
                definition = table_input(
                    database, table, glue_columns(ref.schema, ref.partition_columns), [k.name for k in names.partition_keys(spec.partition_columns)],
                    ref.table_dir, local_ok=True)
                change = self._sync_table(database, definition, ref.table_dir, comments)
            except (GlueCatalogError, TrinoDdlError, TrinoSqlError) as exc:
                raise CatalogError(f"{where}: {exc}") from exc
            out.append(CatalogObject("table", label, "created", f"table {change}; partitions synced"))
        out.append(self.sync_rejects_table())
        return out

    def sync_rejects_table(self) -> CatalogObject:
        """`<prefix>lake.kx_rejects` over the env's rejects folder (rejects_table), its partitions synced;
        the folder is created when no collection has rejects yet (Trino needs an existing location)."""
        storage = storage_for(self.project, self.env_spec)
        location = rejects_location(storage, self.env)
        database = names.lake_database(self.env_spec)
        try:
            storage.fs.makedirs(storage.env_file(self.env, REJECTS_DIR), exist_ok=True)
            change = self._sync_table(database, rejects_table_input(database, location, local_ok=True), location, {})
            count = len(rejects_partitions(storage, self.env))
        except (GlueCatalogError, TrinoDdlError, TrinoSqlError, OSError) as exc:
            raise CatalogError(f"{self.env}/{REJECTS_TABLE}: {exc}") from exc
        return CatalogObject("table", f"{database}.{REJECTS_TABLE}", "created",
                             f"table {change}; partitions synced; {partitions_note(count)}")

    def _sync_table(self, database: str, definition: dict, directory: str, comments: dict[str, dict[str, str]]) -> str:
        """(Re)create the table when its definition's fingerprint changed, then sync its partitions with
        the folders; `comments` caches each database's table comments across calls. The change made."""
        table = definition["Name"]
        label = f"{database}.{table}"
        if database not in comments:
            self._ensure_schema(database)
            comments[database] = self._table_comments(database)
        wanted = COMMENT_PREFIX + fingerprint(definition)
        change = "unchanged"
        if comments[database].get(table) != wanted:
            change = "created" if table not in comments[database] else "recreated"
            ddl = create_table_sql(CATALOG, database, definition, local_location(directory))
            self._run(f"DROP TABLE IF EXISTS {CATALOG}.{names.qualified(database, table)}", f"drop {label}")
            self._run(ddl, f"create table {label}")
            comments[database][table] = wanted
        # CALL takes no `?` parameters; both names are [a-z0-9_] (names.py), quoted as literals anyway
        self._run(f"CALL {CATALOG}.system.sync_partition_metadata(schema_name => {_lit(database)}, "
                  f"table_name => {_lit(table)}, mode => 'FULL', case_sensitive => false)",
                  f"sync partitions of {label}")
        return change

    def partitions(self, database: str, table: str) -> list[tuple]:
        """The registered partitions (Hive connector's `"<table>$partitions"`), sorted."""
        rel = f'{CATALOG}.{names.quote(database)}."{table}$partitions"'
        return sorted(self._run(f"SELECT * FROM {rel}", f"partitions of {database}.{table}").rows, key=str)

    # --- views ---------------------------------------------------------------------------------

    def sync_latest_views(self, specs: Iterable[CollectionSpec]) -> list[CatalogObject]:
        have = self.relations()
        out = []
        for spec in specs:
            database = names.glue_database(self.env_spec, spec.database)
            view = f"{database}.{names.latest_view_name(spec)}"
            if (database, names.table_name(spec)) not in have:
                out.append(CatalogObject("latest", view, "skipped", "its table is not in the catalog"))
                continue
            sql = latest_view_sql(self.env_spec, spec, table_ref(self.project, self.env, spec).schema)
            try:
                self._run(athena_sql_on_trino(sql), f"create view {view}")
            except TrinoSqlError as exc:
                raise CatalogError(f"{self.env}/{spec.database}.{spec.collection}: {exc}") from exc
            out.append(CatalogObject("latest", view, "created"))
        return out

    def sync_sql_views(self, views: Sequence[SqlView] | None = None) -> list[CatalogObject]:
        views = load_all_sql(self.project, self.env) if views is None else views
        out = []
        have = self.relations()
        for view in views:
            kind = "dataset" if view.kind == DATASET_KIND else "sql"
            missing = sorted(f"{d}.{t}" for d, t in referenced_tables(view.sql) - {view.target} if (d, t) not in have)
            if missing:
                out.append(CatalogObject(kind, view.name, "skipped", f"missing input(s): {', '.join(missing)}"))
                continue
            try:
                self._ensure_schema(view.target[0])
                self._run(athena_sql_on_trino(view.sql), f"create view {view.name} ({view.path.name})")
            except TrinoSqlError as exc:
                raise CatalogError(f"{self.env}: creating {view.name} from {view.path}: {exc}") from exc
            have.add(view.target)
            out.append(CatalogObject(kind, view.name, "created"))
        return out

    def refresh(self, specs: Iterable[CollectionSpec] | None = None,
                views: Sequence[SqlView] | None = None) -> list[CatalogObject]:
        specs = list(self.project.enabled_collections if specs is None else specs)
        return self.sync_tables(specs) + self.sync_latest_views(specs) + self.sync_sql_views(views)

    # --- queries -------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[object] | None = None) -> QueryResult:
        """Athena SQL on Trino; a table named without its database is looked up in this env's."""
        try:
            return self._run(athena_sql_on_trino(self.qualify(sql)), "query", params)
        except TrinoSqlError as exc:
            raise CatalogError(f"{self.env}: {exc}") from exc

    def row_count(self, relation: str) -> int:
        return int(self._run(f"SELECT count(*) FROM {relation}", f"count {relation}").rows[0][0])

    def columns(self, relation: str) -> list[tuple[str, str]] | None:
        database, name = relation.split(".", 1)
        rows = self._run(f"SELECT column_name, data_type FROM {CATALOG}.information_schema.columns WHERE table_schema = ? "
                         "AND table_name = ? ORDER BY ordinal_position", f"columns of {relation}", [database, name]).rows
        return [(str(c), str(t)) for c, t in rows] or None

    def partition_scan(self, spec: CollectionSpec, first: date, last: date) -> str:
        return names.date_range_relation(self.env_spec, spec, first, last)

    def qualify(self, sql: str) -> str:
        """Add the database to tables named without one (Trino has no search path); text unchanged
        when every table is qualified. Collection names are unique across an env's databases."""
        try:
            statements = sqlglot.parse(sql, read=ATHENA_DIALECT)
        except sqlglot.errors.ParseError:
            return sql  # let Trino report the syntax error in its own words
        if len(statements) != 1 or statements[0] is None:
            return sql
        tree = statements[0]
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        bare = [t for t in tree.find_all(exp.Table) if not t.db and t.name and t.name not in ctes]
        if not bare:
            return sql
        where: dict[str, list[str]] = {}
        for schema, name in self.relations():
            where.setdefault(name, []).append(schema)
        for table in bare:
            if len(where.get(table.name, [])) == 1:
                table.set("db", exp.to_identifier(where[table.name][0]))
        return tree.sql(dialect="trino")


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _has_parquet(table_dir: str) -> bool:
    fs, _ = fsio.open_filesystem(table_dir)
    return any(p.endswith(".parquet") for p in fsio.list_files(fs, table_dir))
