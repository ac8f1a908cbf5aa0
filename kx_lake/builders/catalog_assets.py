"""Catalog assets downstream of the collection assets: per collection its table and `_latest` dedup
view, and one asset per SQL file in sql/views/ and sql/datasets/ (dim_facility, dashboard datasets).

They are not partitioned: a view spans every partition, so materializing a collection partition
makes its view stale in the UI and, with the daemon on, the automation condition (VIEW_AUTOMATION:
eager, not held back by never-materialized partitions) refreshes it. Each run
refreshes the environments named in its config (default: every active one) in the backend each
environment is configured with (CatalogResource: embedded DuckDB, Glue + Athena, or Glue crawlers +
Athena). Dependencies of SQL views are the `{{ database }}.table` relations sqlglot finds in them
(views.referenced_tables), so the lineage in the UI goes from a dashboard dataset down to the
collections it reads.

Each materialization carries what it did per environment as `objects` metadata (kind, name, status,
reason) — the CLI's `catalog refresh` prints its table from exactly that. What leaves a step (its
metadata, its error) is scrubbed of secrets: a backend's error may echo a connection string.
"""

from collections import defaultdict
from pathlib import Path

import dagster as dg

from kx_lake.builders.catalog_resource import CatalogResource
from kx_lake.builders.collection_assets import collection_key
from kx_lake.builders.partitions import parse_key
from kx_lake.lib.catalog.names import ANALYTICS
from kx_lake.lib.catalog.objects import CatalogObject
from kx_lake.lib.catalog.sql_template import render_sql
from kx_lake.lib.catalog.views import SQL_DIR, load_all_sql, parse_view, referenced_tables, view_target
from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.lib.lake.rejects import REJECTS_TABLE
from kx_lake.lib.scrub import Scrubber, errors_scrubbed, scrub_tree

CATALOG_GROUP = "catalog"
SQL_SUBDIRS = ("views", "datasets")  # views first: datasets read them

# Eager, except that a missing upstream partition does not hold a view back: a collection's
# date × env partitions are never all materialized (today's, from end_offset=1, exists before the
# day is over; a window may never be synced), and stock eager() waits for every one of them.
VIEW_AUTOMATION = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())


class CatalogConfig(dg.Config):
    envs: list[str] = []  # empty: every active environment
    engine: str | None = None  # another engine than the env's configured catalog (duckdb, trino)


def latest_key(spec: CollectionSpec) -> dg.AssetKey:
    return dg.AssetKey([spec.database, f"{spec.collection}_latest"])


def _envs(project: ProjectConfig, config: CatalogConfig) -> list[str]:
    return [project.environment(e).name for e in config.envs] or [e.name for e in project.active_environments]


def _objects_metadata(project: ProjectConfig, per_env: dict[str, list[CatalogObject]]) -> dict[str, dg.MetadataValue]:
    objects = {e: [o.__dict__ for o in objs] for e, objs in per_env.items()}
    return {"objects": dg.MetadataValue.json(scrub_tree(objects, Scrubber.for_project(project))),
            "summary": "; ".join(f"{e}: {_summary(objs)}" for e, objs in per_env.items())}


def _summary(objects: list[CatalogObject]) -> str:
    created = sum(o.status == "created" for o in objects)
    return f"{created} created, {len(objects) - created} skipped"


def failed_last(instance: dg.DagsterInstance, key: dg.AssetKey, env: str) -> bool:
    """Whether the collection's latest sync in `env` failed (a failure observation newer than its
    latest materialization there) — crawler mode leaves such collections out, as the original job did."""
    def latest(records) -> float:
        return max((r.timestamp for r in records if r.partition_key and parse_key(r.partition_key).env == env),
                   default=0.0)
    failures = [r for r in instance.fetch_observations(key, limit=200).records
                if (r.asset_observation and r.asset_observation.metadata.get("status")
                    and r.asset_observation.metadata["status"].value == "failed")]
    return latest(failures) > latest(instance.fetch_materializations(key, limit=200).records)


def refresh_collections(
    catalog: CatalogResource, env: str, specs: list[CollectionSpec], instance: dg.DagsterInstance | None = None,
    engine: str | None = None,
) -> list[CatalogObject]:
    """Tables and `_latest` views of `specs` in `env`'s backend (or `engine`)."""
    with catalog.backend(env, engine) as backend:
        objects: list[CatalogObject] = []
        tables = specs
        if backend.skips_failed_collections and instance is not None:
            failed = [s for s in specs if failed_last(instance, collection_key(s), env)]
            objects = [CatalogObject("crawl", f"{s.database}.{s.collection}", "skipped", "its last sync failed")
                       for s in failed]
            tables = [s for s in specs if s not in failed]
        return objects + backend.sync_tables(tables) + backend.sync_latest_views(specs)


def refresh_sql_view(catalog: CatalogResource, env: str, path: Path, engine: str | None = None) -> list[CatalogObject]:
    """One sql/ file's view in `env`'s backend (skipped with the reason while its inputs are missing)."""
    views = [v for v in load_all_sql(catalog.project, env) if v.path == path]
    with catalog.backend(env, engine) as backend:
        return backend.sync_sql_views(views)


def build_latest_view_assets(cfg: ProjectConfig) -> list[dg.AssetsDefinition]:
    by_db: dict[str, list[CollectionSpec]] = defaultdict(list)
    for spec in cfg.enabled_collections:
        by_db[spec.database].append(spec)
    return [_latest_views(db, specs) for db, specs in sorted(by_db.items())]


def _latest_views(database: str, specs: list[CollectionSpec]) -> dg.AssetsDefinition:
    by_key = {latest_key(s): s for s in specs}

    @dg.multi_asset(
        name=f"catalog_{database}",
        specs=[
            dg.AssetSpec(
                latest_key(s), deps=[collection_key(s)], group_name=CATALOG_GROUP, kinds={"duckdb", "glue", "athena", "trino"},
                description=f"Latest version of each _id of {s.collection} (by {s.timestamp_column}), and its table.",
                automation_condition=VIEW_AUTOMATION, skippable=True,
            )
            for s in specs
        ],
        can_subset=True,
    )
    def _refresh(context: dg.AssetExecutionContext, config: CatalogConfig, kx_catalog: CatalogResource):
        selected = [by_key[k] for k in sorted(context.selected_asset_keys, key=str)]
        with errors_scrubbed(lambda: Scrubber.for_project(kx_catalog.project)):
            per_env = {env: refresh_collections(kx_catalog, env, selected, context.instance, config.engine)
                       for env in _envs(kx_catalog.project, config)}
        for i, spec in enumerate(selected):
            suffixes = (f".{spec.collection}", f".{spec.collection}_latest")
            if i == 0:  # the env's kx_rejects table belongs to no collection: reported once
                suffixes += (f".{REJECTS_TABLE}",)
            mine = {env: [o for o in objs if o.name.endswith(suffixes)] for env, objs in per_env.items()}
            yield dg.MaterializeResult(asset_key=latest_key(spec), metadata=_objects_metadata(kx_catalog.project, mine))

    return _refresh


def sql_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    return [p for sub in SQL_SUBDIRS for p in sorted((sql_dir / sub).glob("*.sql"))]


def sql_lineage(path: Path, databases: list[str]) -> tuple[tuple[str, str], set[tuple[str, str]]]:
    """(target, references) of a SQL file by placeholder name — `("hims_masters", "dim_facility")` —
    read by sqlglot from the file rendered with each placeholder as its own name."""
    sql = render_sql(path.read_text(), {db: db for db in [*databases, ANALYTICS]}, str(path))
    target = view_target(parse_view(sql, str(path)), str(path))
    return target, {(db, t) for db, t in referenced_tables(sql) if db in databases or db == ANALYTICS} - {target}


def build_sql_view_assets(cfg: ProjectConfig, sql_dir: Path = SQL_DIR) -> list[dg.AssetsDefinition]:
    assets = []
    collections = {s.collection: s for s in cfg.enabled_collections}
    for path in sql_files(sql_dir):
        target, refs = sql_lineage(path, list(cfg.databases))
        deps = []
        for db, table in sorted(refs):
            base = table.removesuffix("_latest")
            is_latest = base in collections and table.endswith("_latest")
            deps.append(latest_key(collections[base]) if is_latest else dg.AssetKey([db, table]))
        assets.append(_sql_view(path, dg.AssetKey(list(target)), deps))
    return assets


def _sql_view(path: Path, key: dg.AssetKey, deps: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=key, deps=deps, group_name=CATALOG_GROUP, kinds={"duckdb", "athena", "trino"},
        description=f"SQL view from sql/{path.parent.name}/{path.name}",
        automation_condition=VIEW_AUTOMATION,
    )
    def _view(config: CatalogConfig, kx_catalog: CatalogResource):
        with errors_scrubbed(lambda: Scrubber.for_project(kx_catalog.project)):
            per_env = {env: refresh_sql_view(kx_catalog, env, path, config.engine)
                       for env in _envs(kx_catalog.project, config)}
        return dg.MaterializeResult(metadata=_objects_metadata(kx_catalog.project, per_env))

    return _view
