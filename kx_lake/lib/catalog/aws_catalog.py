"""The production catalog: register lake tables in Glue and create the views on Athena.

This is the orchestration over glue.GlueCatalog and athena.AthenaRunner that the embedded
duckdb_catalog.refresh is for DuckDB. What a collection's table looks like is decided by the lake
itself — its stored schema (only ever widened) and its partition folders — so:

* glue mode (`register_tables`): per collection with data, ensure the Glue database, create or
  update the table (columns from the stored schema, Parquet SerDe, `date` + id partition keys),
  refresh partitions whose columns went stale after a widening, add the lake's partitions with
  batch_create_partition (looked up first: never duplicated) and deregister partitions whose folder
  left the lake (a date whose documents all moved to a later day). Fast and deterministic. The env's
  rejects table `<prefix>lake.kx_rejects` is registered the same way (`register_rejects`,
  rejects_table: partitioned by database and collection; no rejects, no partition, still a table).
* crawler mode (`crawl_collections`): the original job's way — per MongoDB database, point that
  database's crawler at the S3 folders of the collections that succeeded and start it. Failed
  collections are filtered out by the caller (it knows which ones failed).
* views (`view_statements` + `create_views_on_athena`): the same Athena SQL the DuckDB catalog runs
  transpiled — `<collection>_latest` dedup views, then sql/views and sql/datasets — executed as
  `CREATE OR REPLACE VIEW` statements one by one; an error names the view.

Glue needs s3:// locations: a local lake root in glue or crawler mode is refused with an error that
names the environment. Nothing here knows Dagster; clients are injected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kx_lake.lib.catalog import names
from kx_lake.lib.catalog.athena import AthenaQueryError, AthenaRunner
from kx_lake.lib.catalog.objects import CatalogError, CatalogObject, partitions_note
from kx_lake.lib.catalog.glue import GlueCatalog, GlueCatalogError, TableChange, lake_partitions
from kx_lake.lib.catalog.rejects_table import (
    REJECTS_DESCRIPTION,
    REJECTS_KEYS,
    rejects_columns,
    rejects_location,
    rejects_partitions,
)
from kx_lake.lib.catalog.views import latest_view_sql, load_all_sql, referenced_tables
from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.lib.harmonize.types import StructType
from kx_lake.lib.lake.pipeline import storage_for, table_ref
from kx_lake.lib.lake.rejects import REJECTS_TABLE
from kx_lake.lib.storage.segments import original_column


@dataclass(frozen=True)
class ViewStatement:
    """One view to create on Athena: its `db.name`, the statement, and the tables it reads."""

    name: str
    sql: str
    reads: frozenset[tuple[str, str]]


def require_s3_lake(project: ProjectConfig, env: str) -> str:
    root = project.lake_root(project.environment(env))
    if not root.startswith("s3://"):
        mode = project.environment(env).catalog
        raise CatalogError(
            f"{env}: catalog mode {mode!r} registers s3:// locations in Glue, but the lake root is {root!r}; "
            "set lake_root (or KX_LAKE_ROOT) to an s3:// URI, or use catalog: duckdb"
        )
    return root


def glue_columns(schema: StructType, partition_columns: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(name, Hive type) of every lake column, in schema order, then the `_kx_orig_<id>` column of each
    id partition column (original values of disambiguated folders, see kx_lake.lib.storage.segments)."""
    return [*((name, type_.to_hive()) for name, type_ in schema.fields),
            *((original_column(c), "string") for c in partition_columns)]


def register_tables(
    project: ProjectConfig, env: str, specs: Iterable[CollectionSpec], glue: GlueCatalog, *, prune: bool = True
) -> list[CatalogObject]:
    """Glue mode: tables and partitions of every collection with data, straight from the lake."""
    require_s3_lake(project, env)
    env_spec = project.environment(env)
    storage = storage_for(project, env_spec)
    databases_done: set[str] = set()
    out: list[CatalogObject] = []
    for spec in specs:
        database = names.glue_database(env_spec, spec.database)
        table = names.table_name(spec)
        label = f"{database}.{table}"
        where = f"{env}/{spec.database}.{spec.collection}"
        ref = table_ref(project, env, spec)
        if ref.schema is None:
            out.append(CatalogObject("table", label, "skipped", "no stored lake schema (never synced)"))
            continue
        infos = storage.list_partitions(env, spec.database, spec.collection)
        if not infos:
            out.append(CatalogObject("table", label, "skipped", f"no Parquet files under {ref.table_dir}"))
            continue
        try:
            if database not in databases_done:
                glue.ensure_database(database, project.databases.get(spec.database, ""))
                databases_done.add(database)
            keys = [k.name for k in names.partition_keys(spec.partition_columns)]
            change = glue.upsert_table(
                database, table, glue_columns(ref.schema, ref.partition_columns), keys, ref.table_dir,
                description=f"{spec.database}.{spec.collection} ({env}), synced by kx-lake",
                parameters={"kx_lake.timestamp_column": spec.timestamp_column},
            )
            restated = glue.refresh_partitions(database, table) if change is TableChange.UPDATED else 0
            parts = lake_partitions(infos, spec.partition_columns)
            added = glue.add_partitions(database, table, parts)
            pruned = glue.prune_partitions(database, table, [v for v, _ in parts]) if prune else 0
        except GlueCatalogError as exc:
            raise CatalogError(f"{where}: {exc}") from exc
        out.append(CatalogObject(
            "table", label, "created",
            f"table {change}; partitions +{added.created} updated {added.updated + restated} removed {pruned}",
        ))
    out.append(register_rejects(project, env, glue, prune=prune))
    return out


def register_rejects(project: ProjectConfig, env: str, glue: GlueCatalog, *, prune: bool = True) -> CatalogObject:
    """Glue mode: the env's kx_rejects table and one partition per collection with rejects."""
    env_spec = project.environment(env)
    storage = storage_for(project, env_spec)
    database = names.lake_database(env_spec)
    try:
        glue.ensure_database(database, f"kx-lake tables of environment {env} beside its collections (kx_rejects)")
        change = glue.upsert_table(database, REJECTS_TABLE, rejects_columns(), list(REJECTS_KEYS),
                                   rejects_location(storage, env), lead_key=REJECTS_KEYS[0],
                                   description=REJECTS_DESCRIPTION)
        restated = glue.refresh_partitions(database, REJECTS_TABLE) if change is TableChange.UPDATED else 0
        parts = rejects_partitions(storage, env)
        added = glue.add_partitions(database, REJECTS_TABLE, parts)
        pruned = glue.prune_partitions(database, REJECTS_TABLE, [v for v, _ in parts]) if prune else 0
    except GlueCatalogError as exc:
        raise CatalogError(f"{env}/{REJECTS_TABLE}: {exc}") from exc
    return CatalogObject("table", f"{database}.{REJECTS_TABLE}", "created",
                         f"table {change}; partitions +{added.created} updated {added.updated + restated} removed {pruned}; "
                         f"{partitions_note(len(parts))}")


def crawler_name(project: ProjectConfig, env: str, database: str) -> str:
    return project.environment(env).glue_crawler_name.format(env=env, database=database)


def crawl_collections(
    project: ProjectConfig, env: str, succeeded: Iterable[CollectionSpec], glue: GlueCatalog
) -> list[CatalogObject]:
    """Crawler mode: per MongoDB database, retarget its crawler at the succeeded collections' folders
    (those with data) and start it. A database with none is left alone."""
    require_s3_lake(project, env)
    env_spec = project.environment(env)
    storage = storage_for(project, env_spec)
    paths: dict[str, list[str]] = defaultdict(list)
    out: list[CatalogObject] = []
    for spec in succeeded:
        label = f"{names.glue_database(env_spec, spec.database)}.{names.table_name(spec)}"
        if not storage.list_partitions(env, spec.database, spec.collection):
            out.append(CatalogObject("crawl", label, "skipped", "no Parquet files"))
            continue
        paths[spec.database].append(storage.table_dir(env, spec.database, spec.collection))
        out.append(CatalogObject("crawl", label, "created", f"crawler {crawler_name(project, env, spec.database)}"))
    for database, folders in sorted(paths.items()):
        try:
            glue.crawl(crawler_name(project, env, database), folders)
        except GlueCatalogError as exc:
            raise CatalogError(f"{env}/{database}: {exc}") from exc
    return out


def view_statements(
    project: ProjectConfig, env: str, specs: Iterable[CollectionSpec], *, sql_views: bool = True
) -> list[ViewStatement]:
    """The `_latest` views of `specs` (those with a stored schema), then the sql/ views, in order."""
    env_spec = project.environment(env)
    out = []
    for spec in specs:
        schema = table_ref(project, env, spec).schema
        if schema is None:
            continue
        database = names.glue_database(env_spec, spec.database)
        # a crawled table has `_kx_orig_<id>` only once some file has it (storage.segments): not relied on
        sql = latest_view_sql(env_spec, spec, schema, original_values=env_spec.catalog != "crawler")
        target = (database, names.latest_view_name(spec))
        out.append(ViewStatement(".".join(target), sql, frozenset(referenced_tables(sql) - {target})))
    if sql_views:
        for view in load_all_sql(project, env):
            out.append(ViewStatement(view.name, view.sql, frozenset(referenced_tables(view.sql) - {view.target})))
    return out


def create_views_on_athena(
    runner: AthenaRunner, statements: Sequence[ViewStatement], glue: GlueCatalog | None = None
) -> list[CatalogObject]:
    """Run each CREATE OR REPLACE VIEW on Athena. With `glue`, a view whose input tables are not in
    the Glue catalog yet (crawler still running, collection never synced) is skipped with the reason
    instead of failing the whole refresh; views created earlier in the same call count as present."""
    created: set[str] = set()
    out = []
    for st in statements:
        if glue is not None:
            missing = sorted(f"{d}.{t}" for d, t in st.reads
                             if f"{d}.{t}" not in created and glue.get_table(d, t) is None)
            if missing:
                out.append(CatalogObject("view", st.name, "skipped", f"missing input(s): {', '.join(missing)}"))
                continue
        try:
            runner.run(f"create view {st.name}", st.sql)
        except AthenaQueryError as exc:
            raise CatalogError(str(exc)) from exc
        created.add(st.name)
        out.append(CatalogObject("view", st.name, "created"))
    return out
