"""Views in one SQL dialect: Athena (Trino) is the source of truth, DuckDB runs it transpiled.

Two kinds, both plain `CREATE OR REPLACE VIEW <db>.<name> AS ...` statements in Athena SQL:

* generated: the dedup view `<db>.<collection>_latest` of every collection (`latest_view_sql`). The
  lake keeps an updated document's older version in its older date partition until that date is
  re-materialized, so a table may hold several rows per `_id`; the view keeps the newest one by the
  collection's modified timestamp (its lake column, see names.timestamp_column_sql), then `date`.
  Its column list is written out (schema columns, then partition keys) rather than `*`, so the view
  has exactly the catalog's columns and no `kx_rn` helper.
* hand-written, two kinds of file, one view each:
  - `sql/views/*.sql` (kind "view"): shared building blocks such as dim_facility;
  - `sql/datasets/*.sql` (kind "dataset"): one dashboard dataset each, in the analytics database
    (`{{ analytics }}.<name>`), reading the `_latest` views, the shared views and other datasets.
  Databases are written as `{{ <mongodb database> }}` placeholders (`{{ hims_masters }}`), rendered
  per environment to its catalog database (`kx_env1_hims_masters`), plus `{{ analytics }}` →
  `<prefix>analytics` (names.analytics_database), by jinja2 with StrictUndefined (sql_template);
  nothing else is templated, so a file stays valid-looking SQL and renders identically for Athena
  and DuckDB. An unknown placeholder is an error naming the file and line.
  `load_sql_views` returns the views only (one catalog asset per file); `load_datasets` the
  datasets; `load_all_sql` both. Files are ordered by what they read (a view or dataset comes after
  every other file's view it references — graphlib, ties in the given order: by kind, then file
  name), so names need not encode order.

On DuckDB (`execute_athena_sql_on_duckdb`) each statement goes through
`sqlglot.transpile(sql, read="athena", write="duckdb")`; on Athena the same text runs as is.
"""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp

from kx_lake.lib.catalog import names
from kx_lake.lib.catalog.sql_template import SqlTemplateError, render_sql
from kx_lake.lib.config import CollectionSpec, EnvironmentSpec, ProjectConfig
from kx_lake.lib.config.settings import PACKAGE_DIR
from kx_lake.lib.harmonize.types import StructType
from kx_lake.lib.storage.segments import original_column

ATHENA_DIALECT = "athena"  # sqlglot's Athena dialect: Trino for queries and views, Hive for DDL
DUCKDB_DIALECT = "duckdb"
SQL_DIR = PACKAGE_DIR.parent / "sql"
VIEWS_SUBDIR = "views"
DATASETS_SUBDIR = "datasets"
VIEW_KIND = "view"
DATASET_KIND = "dataset"
ROW_NUMBER_COLUMN = "kx_rn"
_DELETED = "_kx_deleted"  # lake.tombstones.DELETED_COLUMN (catalog does not import the lake pipeline)


class ViewSqlError(ValueError):
    """A view's SQL that cannot be rendered, parsed or transpiled; the message names the file or view."""


def _col(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def latest_view_sql(env: EnvironmentSpec, spec: CollectionSpec, schema: StructType | None,
                    original_values: bool = True) -> str:
    """`CREATE OR REPLACE VIEW <db>.<collection>_latest` (Athena SQL): one row per `_id`, the newest.

    `original_values`: read each id partition column as `coalesce(_kx_orig_<id>, <id>)` (the table
    declares `_kx_orig_<id>`: DuckDB and glue mode); off where the table may lack it (crawler mode)."""
    where = f"{env.name}/{spec.database}.{spec.collection}"
    if schema is None:
        raise ViewSqlError(f"{where}: no stored lake schema (never synced): cannot generate its _latest view")
    if "_id" not in schema.names:
        raise ViewSqlError(f"{where}: the stored lake schema has no _id column")
    ts_path = names.timestamp_column_path(spec)
    if ts_path[0] not in schema.names:
        raise ViewSqlError(
            f"{where}: timestamp column {spec.timestamp_column!r} (lake column {'.'.join(ts_path)!r}) "
            "is not in the stored lake schema"
        )
    database = names.glue_database(env, spec.database)
    keys = names.partition_keys(spec.partition_columns)
    columns = [*(_col(c) for c in schema.names if c != _DELETED), _col(keys[0].name)]
    # an id value whose folder is disambiguated (kx_lake.lib.storage.segments) is read from its file column
    columns += [f"coalesce({_col(original_column(k.name))}, {_col(k.name)}) AS {_col(k.name)}"
                if original_values else _col(k.name) for k in keys[1:]]
    # a document is gone when its newest row is a tombstone (lake.tombstones): filtered after choosing it
    gone = f' AND coalesce("{_DELETED}", false) = false' if _DELETED in schema.names else ""
    # a document is its _id's text *and* BSON type (lake.identity.ID_TYPE_COLUMN): 1 and '1' are two documents
    identity = '"_id", "_kx_id_type"' if "_kx_id_type" in schema.names else '"_id"'
    return (
        f"CREATE OR REPLACE VIEW {names.qualified(database, names.latest_view_name(spec))} AS\n"
        f"SELECT {', '.join(columns)}\n"
        "FROM (\n"
        # NULLS LAST said, not left to each engine's default: a row placed by timestamp_fallback has none
        f"  SELECT *, row_number() OVER (PARTITION BY {identity} ORDER BY {names.timestamp_column_sql(spec)} DESC NULLS LAST, "
        f"\"date\" DESC) AS {ROW_NUMBER_COLUMN}\n"
        f"  FROM {names.qualified(database, names.table_name(spec))}\n"
        ") AS kx_versions\n"
        f"WHERE {ROW_NUMBER_COLUMN} = 1{gone}"
    )


def render_template(text: str, env: EnvironmentSpec, databases: Iterable[str], source: str = "<sql>") -> str:
    """Replace each `{{ <mongodb database> }}` with the env's catalog database name, and
    `{{ analytics }}` with the env's analytics database (sql_template, jinja2)."""
    known = {db: names.glue_database(env, db) for db in {*databases, names.ANALYTICS}}  # analytics too
    try:
        return render_sql(text, known, source)
    except SqlTemplateError as exc:
        raise ViewSqlError(str(exc)) from None


@dataclass(frozen=True)
class SqlView:
    """A rendered sql/views or sql/datasets file: one CREATE OR REPLACE VIEW statement in Athena SQL."""

    path: Path
    sql: str
    target: tuple[str, str]  # (database, view)
    kind: str = VIEW_KIND  # VIEW_KIND | DATASET_KIND

    @property
    def name(self) -> str:
        return ".".join(self.target)


def parse_view(sql: str, source: str = "<sql>") -> exp.Create:
    try:
        statements = [s for s in sqlglot.parse(sql, read=ATHENA_DIALECT) if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise ViewSqlError(f"{source}: not valid Athena SQL: {exc}") from exc
    if len(statements) != 1 or not isinstance(statements[0], exp.Create) or statements[0].kind != "VIEW":
        raise ViewSqlError(f"{source}: expected exactly one CREATE OR REPLACE VIEW statement")
    return statements[0]


def view_target(create: exp.Create, source: str = "<sql>") -> tuple[str, str]:
    table = create.this if isinstance(create.this, exp.Table) else create.this.find(exp.Table)
    if table is None or not table.db:
        raise ViewSqlError(f"{source}: the view must be named <database>.<view>")
    return (table.db, table.name)


def referenced_tables(sql: str) -> set[tuple[str, str]]:
    """(database, table) of every database-qualified relation a statement reads or creates (CTEs excluded)."""
    out = set()
    for statement in sqlglot.parse(sql, read=ATHENA_DIALECT):
        if statement is None:
            continue
        for table in statement.find_all(exp.Table):
            if table.db:
                out.add((table.db, table.name))
    return out


def _load_dir(project: ProjectConfig, env: str, sql_dir: Path | None, subdir: str, kind: str) -> list[SqlView]:
    env_spec = project.environment(env)
    directory = (sql_dir or SQL_DIR) / subdir
    out = []
    for path in sorted(directory.glob("*.sql")):
        sql = render_template(path.read_text(), env_spec, project.databases, source=str(path))
        out.append(SqlView(path, sql, view_target(parse_view(sql, str(path)), str(path)), kind))
    return out


def order_by_dependencies(views: Sequence[SqlView]) -> list[SqlView]:
    """`views` so that each comes after every other one whose target it references (stable: ties keep
    the given order). A duplicate target or a reference cycle is an error naming the files."""
    by_target: dict[tuple[str, str], SqlView] = {}
    for view in views:
        if view.target in by_target:
            raise ViewSqlError(f"{view.path}: view {view.name} is also created by {by_target[view.target].path}")
        by_target[view.target] = view
    graph = graphlib.TopologicalSorter(
        {v.target: {t for t in referenced_tables(v.sql) if t in by_target and t != v.target} for v in views})
    try:
        graph.prepare()
    except graphlib.CycleError as exc:
        raise ViewSqlError("reference cycle between " + ", ".join(str(by_target[t].path) for t in exc.args[1])) from None
    position = {v.target: i for i, v in enumerate(views)}
    ready: list[tuple[int, tuple[str, str]]] = []
    ordered: list[SqlView] = []
    while graph.is_active():  # of the views ready now, the first in the given order
        for target in graph.get_ready():
            heapq.heappush(ready, (position[target], target))
        _, target = heapq.heappop(ready)
        ordered.append(by_target[target])
        graph.done(target)
    return ordered


def load_sql_views(project: ProjectConfig, env: str, sql_dir: Path | None = None) -> list[SqlView]:
    """Every `sql/views/*.sql`, rendered for `env`, in dependency order (then file name)."""
    return order_by_dependencies(_load_dir(project, env, sql_dir, VIEWS_SUBDIR, VIEW_KIND))


def load_datasets(project: ProjectConfig, env: str, sql_dir: Path | None = None) -> list[SqlView]:
    """Every `sql/datasets/*.sql` (kind "dataset", in `{{ analytics }}`), rendered for `env`, in
    dependency order among themselves (then file name); they also read sql/views, which come first."""
    return order_by_dependencies(_load_dir(project, env, sql_dir, DATASETS_SUBDIR, DATASET_KIND))


def load_all_sql(project: ProjectConfig, env: str, sql_dir: Path | None = None) -> list[SqlView]:
    """Views, then datasets, each placed after everything it references."""
    return order_by_dependencies(
        _load_dir(project, env, sql_dir, VIEWS_SUBDIR, VIEW_KIND)
        + _load_dir(project, env, sql_dir, DATASETS_SUBDIR, DATASET_KIND)
    )


def to_duckdb(sql: str, source: str = "<sql>") -> list[str]:
    """The DuckDB statements of Athena SQL text (sqlglot), or an error naming `source`."""
    try:
        return [s for s in sqlglot.transpile(sql, read=ATHENA_DIALECT, write=DUCKDB_DIALECT) if s.strip()]
    except sqlglot.errors.SqlglotError as exc:
        raise ViewSqlError(f"{source}: cannot transpile Athena SQL to DuckDB: {exc}") from exc


def execute_athena_sql_on_duckdb(con, sql: str, source: str = "<sql>"):
    """Transpile Athena SQL and run it on a DuckDB connection; returns the connection after the last statement."""
    result = con
    for statement in to_duckdb(sql, source):
        result = con.execute(statement)
    return result
