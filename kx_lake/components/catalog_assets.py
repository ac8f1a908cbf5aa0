"""Catalog assets downstream of the collection assets: per collection its table and `_latest` dedup
view, and one asset per SQL view in sql/views/ (dim_facility, datasets).

They are not partitioned: a view spans every partition, so materializing a collection partition
makes its view stale in the UI (and, with the daemon on, eager automation refreshes it). Each run
refreshes the environments named in its config (default: every active one) in the embedded DuckDB
catalog. Dependencies of SQL views are read from their `{{ database }}.table` references, so the
lineage in the UI goes from a dashboard dataset down to the collections it reads.
"""

import re
from collections import defaultdict
from pathlib import Path

import dagster as dg

from kx_lake.components.collection_assets import collection_key
from kx_lake.components.resources import ProjectResource
from kx_lake.lib.catalog import duckdb_catalog
from kx_lake.lib.catalog.views import SQL_DIR, VIEWS_SUBDIR, load_sql_views
from kx_lake.lib.config import CollectionSpec, ProjectConfig

CATALOG_GROUP = "catalog"
_REF = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}\.([A-Za-z0-9_]+)")


class CatalogConfig(dg.Config):
    envs: list[str] = []  # empty: every active environment


def latest_key(spec: CollectionSpec) -> dg.AssetKey:
    return dg.AssetKey([spec.database, f"{spec.collection}_latest"])


def _envs(project: ProjectConfig, config: CatalogConfig) -> list[str]:
    return [project.environment(e).name for e in config.envs] or [e.name for e in project.active_environments]


def _report(objects: list[duckdb_catalog.CatalogObject]) -> dict:
    skipped = [f"{o.name}: {o.reason}" for o in objects if o.status != "created"]
    return {"created": sum(o.status == "created" for o in objects), "skipped": "\n".join(skipped) or "none"}


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
                latest_key(s), deps=[collection_key(s)], group_name=CATALOG_GROUP, kinds={"duckdb", "athena"},
                description=f"Latest version of each _id of {s.collection} (by {s.timestamp_column}), and its table.",
                automation_condition=dg.AutomationCondition.eager(), skippable=True,
            )
            for s in specs
        ],
        can_subset=True,
    )
    def _refresh(context: dg.AssetExecutionContext, config: CatalogConfig, kx_project: ProjectResource):
        project = kx_project.project
        selected = [by_key[k] for k in sorted(context.selected_asset_keys, key=str)]
        reports = {}
        for env in _envs(project, config):
            reports[env] = duckdb_catalog.refresh(project, env, specs=selected, views=[])
        for spec in selected:
            name = f"{spec.collection}_latest"
            status = {env: next((o.status for o in objs if o.name.endswith(f".{name}")), "skipped")
                      for env, objs in reports.items()}
            yield dg.MaterializeResult(asset_key=latest_key(spec), metadata={"status": status})

    return _refresh


def build_sql_view_assets(cfg: ProjectConfig, sql_dir: Path = SQL_DIR) -> list[dg.AssetsDefinition]:
    assets = []
    names = {s.collection: s for s in cfg.enabled_collections}
    for path in sorted((sql_dir / VIEWS_SUBDIR).glob("*.sql")):
        text = path.read_text()
        refs = set(_REF.findall(text))
        target = next(((db, t) for db, t in refs if re.search(rf"VIEW\s+\{{\{{\s*{db}\s*\}}\}}\.{t}\b", text)), None)
        if target is None:
            raise ValueError(f"{path}: expected `CREATE OR REPLACE VIEW {{{{ database }}}}.name AS ...`")
        deps = []
        for db, table in sorted(refs - {target}):
            base = table.removesuffix("_latest")
            deps.append(latest_key(names[base]) if base in names and table.endswith("_latest") else dg.AssetKey([db, table]))
        assets.append(_sql_view(path, dg.AssetKey(list(target)), deps))
    return assets


def _sql_view(path: Path, key: dg.AssetKey, deps: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=key, deps=deps, group_name=CATALOG_GROUP, kinds={"duckdb", "athena"},
        description=f"SQL view from sql/{VIEWS_SUBDIR}/{path.name}",
        automation_condition=dg.AutomationCondition.eager(),
    )
    def _view(context: dg.AssetExecutionContext, config: CatalogConfig, kx_project: ProjectResource):
        project = kx_project.project
        status = {}
        for env in _envs(project, config):
            views = [v for v in load_sql_views(project, env) if v.path == path]
            con = duckdb_catalog.connect(project, env, read_only=False)
            try:
                objs = duckdb_catalog.sync_sql_views(project, env, con, views)
            finally:
                con.close()
            status[env] = _report(objs)
        return dg.MaterializeResult(metadata={"envs": status})

    return _view
