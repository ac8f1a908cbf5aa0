"""The embedded default catalog: one DuckDB file per environment, `<settings.home>/catalog/<env>.duckdb`.

It plays Glue's part on a laptop. Each collection with data and a stored schema becomes a VIEW
`<db>.<collection>` (names.py) over the table directory's Parquet files, read with
`read_parquet('<table_dir>/**/*.parquet', hive_partitioning=true, union_by_name=true,
hive_types={every partition key: VARCHAR})`, so:

* the columns are exactly the catalog's: every column of the stored lake schema, cast to its type, in
  schema order, then `date` and the id columns as VARCHAR (the Hive path text, like Glue's `string`
  partition keys; `__HIVE_DEFAULT_PARTITION__` is NULL);
* older files lacking a newer top-level column read it as NULL (`union_by_name`), and a column no file
  has yet (its documents moved out of every file) is NULL too: a zero-row typed SELECT is unioned by
  name into the scan, so the view never fails to bind;
* the view holds paths, not data: nothing is copied, and what `kx-lake sync` publishes is visible at
  once (new columns after the next `catalog refresh`, as with a Glue table update).

Views rather than tables so the file stays tiny and a query always reads the lake. On an s3:// lake
DuckDB reads through the same fsspec/s3fs filesystem as the storage layer (registered on every
connection with `register_filesystem`; DuckDB's httpfs extension is neither needed nor downloaded),
configured by the standard AWS chain (AWS_ENDPOINT_URL_S3, credentials, region) at connect time.
The dedup views, the SQL views in sql/views/ and the dashboard datasets in sql/datasets/ are Athena
SQL, transpiled (views.py); `refresh` creates all of them in dependency order. A view's schema is
created when missing: the datasets' `<prefix>analytics` holds no table, only views. Each dataset is
also computed once into a Parquet snapshot beside the catalog file (snapshots.py), which the
dashboard site reads instead of evaluating the view.

Every connection is bounded (duckdb_bounds: memory limit, spill directory, threads). What the limit
does not cover: binding a table view reads every
file's footer (`union_by_name`), memory DuckDB's buffer manager does not count, so a table of many
small files costs memory in proportion to its file count (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

from kx_lake.lib.catalog import names
from kx_lake.lib.catalog.duckdb_bounds import CATALOG_DIR, bound
from kx_lake.lib.catalog.objects import CatalogError, CatalogObject, partitions_note
from kx_lake.lib.catalog.snapshots import SnapshotError, write_snapshot
from kx_lake.lib.catalog.views import (
    SqlView,
    execute_athena_sql_on_duckdb,
    DATASET_KIND,
    latest_view_sql,
    load_all_sql,
    load_sql_views,
    referenced_tables,
)
from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.lib.harmonize.types import LakeType, StructType
from kx_lake.lib.lake.pipeline import LakeTableRef, storage_for, table_ref
from kx_lake.lib.lake.rejects import REJECTS_DIR, REJECTS_SCHEMA, REJECTS_TABLE
from kx_lake.lib.storage import fsio
from kx_lake.lib.storage.segments import original_column


def catalog_path(project: ProjectConfig, env: str) -> Path:
    return project.settings.state_dir(CATALOG_DIR, f"{env}.duckdb")



def _register_lake_filesystem(con: duckdb.DuckDBPyConnection, project: ProjectConfig, env: str) -> None:
    """Let DuckDB read the env's lake root through fsspec when it is not a local path (s3://)."""
    root = project.lake_root(project.environment(env))
    fs, _ = fsio.open_filesystem(root)
    if not fsio.is_local(fs):
        con.register_filesystem(fs)


def connect(project: ProjectConfig, env: str, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection to the env's catalog file with the lake filesystem registered.

    Read-only connections need an existing catalog (`kx-lake catalog refresh --env <env>` makes it);
    several may be open at once, but not beside a read-write one (DuckDB locks the file).
    """
    project.environment(env)
    path = catalog_path(project, env)
    if read_only and not path.exists():
        raise CatalogError(f"{env}: no DuckDB catalog at {path}; run `kx-lake catalog refresh --env {env}` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise CatalogError(f"{env}: opening the DuckDB catalog {path}: {exc}") from exc
    try:
        bound(con, project.settings, env)
        _register_lake_filesystem(con, project, env)
    except BaseException:
        con.close()
        raise
    return con


def duckdb_type(t: LakeType) -> str:
    """The DuckDB type of a lake type (the counterpart of its Hive/Glue rendering `to_hive()`)."""
    if isinstance(t, StructType):
        if not t.fields:
            return "VARCHAR"  # struct{} is stored as the JSON text "{}"
        return "STRUCT(" + ", ".join(f"{_q(n)} {duckdb_type(ft)}" for n, ft in t.fields) + ")"
    kind = t.kind
    if kind == "list":
        return f"{duckdb_type(t.element)}[]"  # type: ignore[attr-defined]
    if kind == "decimal":
        return f"DECIMAL({t.precision},{t.scale})"  # type: ignore[attr-defined]
    simple = {"null": "VARCHAR", "bool": "BOOLEAN", "int64": "BIGINT", "double": "DOUBLE", "string": "VARCHAR",
              "json": "VARCHAR", "timestamp": "TIMESTAMP"}
    if kind not in simple:
        raise CatalogError(f"lake type {t} has no DuckDB rendering")
    return simple[kind]


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_view_sql(ref: LakeTableRef, database: str) -> str:
    """CREATE OR REPLACE VIEW <database>.<collection> over the table directory (DuckDB SQL)."""
    return f"CREATE OR REPLACE VIEW {names.qualified(database, ref.collection)} AS\n" + _scan_sql(ref, ["**/*.parquet"])


def partition_scan_sql(ref: LakeTableRef, view: str, dates: Sequence[str]) -> str:
    """CREATE OR REPLACE TEMP VIEW `view`: the table's columns, reading only the `dates` partitions.

    The table view globs and binds every file of the table (union_by_name reads each footer), so a
    query limited to a few dates still pays for the whole history; this one lists only their folders.
    `dates` must exist (a glob that matches nothing is an error in DuckDB)."""
    return f"CREATE OR REPLACE TEMP VIEW {_q(view)} AS\n" + _scan_sql(
        ref, [f"{names.DATE_COLUMN}={d}/**/*.parquet" for d in dates])


def _scan_sql(ref: LakeTableRef, patterns: Sequence[str]) -> str:
    """SELECT of the table's catalog columns from the Parquet files matching `patterns` (relative to the
    table directory), typed by the stored lake schema."""
    if ref.schema is None:
        raise CatalogError(f"{ref.env}/{ref.database}.{ref.collection}: no stored lake schema (never synced)")
    keys = names.partition_keys(ref.partition_columns)
    hive_types = "{" + ", ".join(f"{_lit(k.path_name)}: 'VARCHAR'" for k in keys) + "}"
    globs = [_lit(ref.table_dir.rstrip('/') + '/' + p) for p in patterns]
    originals = [original_column(k.path_name) for k in keys[1:]]  # disambiguated leaves' values
    typed_nulls = ", ".join([*(f"CAST(NULL AS {duckdb_type(t)}) AS {_q(n)}" for n, t in ref.schema.fields),
                             *(f"CAST(NULL AS VARCHAR) AS {_q(o)}" for o in originals)])
    if not globs:  # no file to read: the typed, empty relation
        empty = [*(f"CAST(NULL AS {duckdb_type(t)}) AS {_q(n)}" for n, t in ref.schema.fields),
                 *(f"CAST(NULL AS VARCHAR) AS {_q(o)}" for o in originals),
                 *(f"CAST(NULL AS VARCHAR) AS {_q(k.name)}" for k in keys)]
        return "SELECT " + ", ".join(empty) + " WHERE false"
    scan = (
        f"SELECT * FROM read_parquet({globs[0] if len(globs) == 1 else '[' + ', '.join(globs) + ']'}, "
        f"hive_partitioning = true, union_by_name = true, hive_types = {hive_types}, hive_types_autocast = false)"
    )
    columns = [f"CAST({_q(n)} AS {duckdb_type(t)}) AS {_q(n)}" for n, t in ref.schema.fields]
    columns += [f"CAST({_q(o)} AS VARCHAR) AS {_q(o)}" for o in originals]
    columns += [f"CAST({_q(k.path_name)} AS VARCHAR) AS {_q(k.name)}" for k in keys]
    return (
        "SELECT\n  " + ",\n  ".join(columns)
        + f"\nFROM (\n  {scan}\n  UNION ALL BY NAME\n  SELECT {typed_nulls} WHERE false\n) AS kx_files"
    )


def _has_data_files(project: ProjectConfig, env: str, ref: LakeTableRef) -> bool:
    fs, _ = fsio.open_filesystem(project.lake_root(project.environment(env)))
    path = fs._strip_protocol(ref.table_dir)
    return any(p.endswith(".parquet") for p in fsio.list_files(fs, path))


def sync_tables(
    project: ProjectConfig, env: str, specs: Iterable[CollectionSpec], con: duckdb.DuckDBPyConnection | None = None
) -> list[CatalogObject]:
    """Create or replace `<db>.<collection>` for each collection that has data and a stored schema.

    Collections without either are reported as skipped (never synced, or emptied), not errors.
    """
    env_spec = project.environment(env)
    own = con is None
    con = con or connect(project, env, read_only=False)
    out: list[CatalogObject] = []
    try:
        for spec in specs:
            database = names.glue_database(env_spec, spec.database)
            name = f"{database}.{names.table_name(spec)}"
            where = f"{env}/{spec.database}.{spec.collection}"
            ref = table_ref(project, env, spec)
            if ref.schema is None:
                out.append(CatalogObject("table", name, "skipped", "no stored lake schema (never synced)"))
                continue
            try:
                has_data = _has_data_files(project, env, ref)
            except Exception as exc:
                raise CatalogError(f"{where}: listing {ref.table_dir}: {exc}") from exc
            if not has_data:
                out.append(CatalogObject("table", name, "skipped", f"no Parquet files under {ref.table_dir}"))
                continue
            sql = table_view_sql(ref, database)
            try:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {names.quote(database)}")
                con.execute(sql)
            except duckdb.Error as exc:
                raise CatalogError(f"{where}: creating DuckDB view {name} over {ref.table_dir}: {exc}") from exc
            out.append(CatalogObject("table", name, "created"))
    finally:
        if own:
            con.close()
    return out


def sync_rejects_view(project: ProjectConfig, env: str, con: duckdb.DuckDBPyConnection) -> CatalogObject:
    """`<prefix>lake.kx_rejects` over every collection's rejects file (empty, typed, when there is none),
    with the Hive keys `database` and `collection` as columns."""
    env_spec = project.environment(env)
    storage = storage_for(project, env_spec)
    directory = storage.env_file(env, REJECTS_DIR)
    files = [p for p in fsio.list_files(storage.fs, directory) if p.endswith(".parquet")] if storage.fs.exists(directory) else []
    duck = {"string": "VARCHAR", "timestamp[ms, tz=UTC]": "TIMESTAMPTZ"}
    columns = [("database", "VARCHAR"), ("collection", "VARCHAR")] + [(f.name, duck[str(f.type)]) for f in REJECTS_SCHEMA]
    typed_nulls = ", ".join(f"CAST(NULL AS {t}) AS {_q(n)}" for n, t in columns)
    body = f"SELECT {typed_nulls} WHERE false"
    if files:
        uri = fsio.to_uri(storage.fs, directory).rstrip("/") + "/**/*.parquet"
        scan = (f"SELECT * FROM read_parquet({_lit(uri)}, hive_partitioning = true, union_by_name = true, "
                "hive_types = {'database': 'VARCHAR', 'collection': 'VARCHAR'}, hive_types_autocast = false)")
        body = f"{scan}\n  UNION ALL BY NAME\n  {body}"
    database = names.lake_database(env_spec)
    name = f"{database}.{REJECTS_TABLE}"
    select = ", ".join(f"CAST({_q(n)} AS {t}) AS {_q(n)}" for n, t in columns)
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {names.quote(database)}")
        con.execute(f"CREATE OR REPLACE VIEW {names.qualified(database, REJECTS_TABLE)} AS\nSELECT {select}\n"
                    f"FROM (\n  {body}\n) AS kx_files")
    except duckdb.Error as exc:
        raise CatalogError(f"{env}: creating DuckDB view {name} over {directory}: {exc}") from exc
    return CatalogObject("table", name, "created", partitions_note(len({f.rsplit("/", 1)[0] for f in files})))


def existing_relations(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(schema, name) of every table and view in the catalog file."""
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = current_database()"
    ).fetchall()
    return {(s, n) for s, n in rows}


def sync_latest_views(
    project: ProjectConfig, env: str, specs: Iterable[CollectionSpec], con: duckdb.DuckDBPyConnection
) -> list[CatalogObject]:
    """`<db>.<collection>_latest` (Athena SQL, transpiled) for each collection whose table exists."""
    env_spec = project.environment(env)
    have = existing_relations(con)
    out = []
    for spec in specs:
        database = names.glue_database(env_spec, spec.database)
        view = f"{database}.{names.latest_view_name(spec)}"
        if (database, names.table_name(spec)) not in have:
            out.append(CatalogObject("latest", view, "skipped", "its table is not in the catalog"))
            continue
        schema = table_ref(project, env, spec).schema
        if schema is None:  # a table of an earlier refresh, whose state is gone (rebuilt, first load unfinished)
            out.append(CatalogObject("latest", view, "skipped", "no stored lake schema (never synced)"))
            continue
        sql = latest_view_sql(env_spec, spec, schema)
        try:
            execute_athena_sql_on_duckdb(con, sql)
        except Exception as exc:
            raise CatalogError(f"{env}/{spec.database}.{spec.collection}: creating {view}: {exc}") from exc
        out.append(CatalogObject("latest", view, "created"))
    return out


def sync_sql_views(
    project: ProjectConfig, env: str, con: duckdb.DuckDBPyConnection, views: Sequence[SqlView] | None = None
) -> list[CatalogObject]:
    """The given views (default: sql/views/, rendered for this env) in order, skipping those whose
    inputs are missing; a view's database (e.g. the datasets' analytics one) is created if needed."""
    views = load_sql_views(project, env) if views is None else views
    out = []
    for view in views:
        kind = "dataset" if view.kind == DATASET_KIND else "sql"
        have = existing_relations(con)
        missing = sorted(f"{d}.{t}" for d, t in referenced_tables(view.sql) - {view.target} if (d, t) not in have)
        if missing:
            out.append(CatalogObject(kind, view.name, "skipped", f"missing input(s): {', '.join(missing)}"))
            continue
        try:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {names.quote(view.target[0])}")
            execute_athena_sql_on_duckdb(con, view.sql)
        except Exception as exc:
            raise CatalogError(f"{env}: creating {view.name} from {view.path}: {exc}") from exc
        if kind == "dataset":
            try:
                write_snapshot(con, project, env, view.target)
            except SnapshotError as exc:
                raise CatalogError(str(exc)) from exc
        out.append(CatalogObject(kind, view.name, "created"))
    return out


def refresh(
    project: ProjectConfig, env: str, specs: Iterable[CollectionSpec] | None = None,
    views: Sequence[SqlView] | None = None,
) -> list[CatalogObject]:
    """Tables, then dedup views, then the SQL views and datasets, in one read-write connection.

    `views` defaults to every sql/views and sql/datasets file (load_all_sql); given, exactly those run."""
    specs = list(project.enabled_collections if specs is None else specs)
    con = connect(project, env, read_only=False)
    try:
        out = sync_tables(project, env, specs, con)
        out.append(sync_rejects_view(project, env, con))
        out += sync_latest_views(project, env, specs, con)
        out += sync_sql_views(project, env, con, load_all_sql(project, env) if views is None else views)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return out
