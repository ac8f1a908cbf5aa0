"""Run the `refresh_catalog` job for the CLI — the same assets, resources and backend as the UI.

`kx-lake catalog refresh` selects the `_latest` assets of the chosen collections plus every SQL view
and dataset asset, configures each selected step with the environment, executes in process (recorded
in the Dagster instance, so the run shows in `dg dev`) and reads back what each step did from
its materializations' `objects` metadata.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import dagster as dg

from kx_lake.builders.catalog_assets import latest_key
from kx_lake.builders.partitions import env_tags
from kx_lake.lib.catalog.objects import CatalogObject
from kx_lake.lib.config import CollectionSpec
from kx_lake.lib.scrub import scrub


@dataclass
class CatalogRefresh:
    run_id: str
    success: bool
    objects: list[CatalogObject] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def catalog_selection(defs: dg.Definitions, job_name: str, specs: list[CollectionSpec]) -> list[dg.AssetKey]:
    """The `_latest` keys of `specs`, then every other asset of the job (the SQL views and datasets)."""
    job_keys = set(defs.resolve_job_def(job_name).asset_layer.selected_asset_keys)
    latest = [latest_key(s) for s in specs]
    missing = [k.to_user_string() for k in latest if k not in job_keys]
    if missing:
        raise ValueError(f"not catalog assets (disabled collections?): {', '.join(missing)}")
    wanted_latest = set(latest)
    others = sorted((k for k in job_keys if not k.path[-1].endswith("_latest") or k in wanted_latest),
                    key=lambda k: k.to_user_string())
    return [*latest, *(k for k in others if k not in wanted_latest)]


def run_catalog_refresh(
    defs: dg.Definitions, job_name: str, env: str, specs: list[CollectionSpec], *,
    instance: dg.DagsterInstance, log_level: str = "WARNING", engine: str | None = None,
) -> CatalogRefresh:
    keys = catalog_selection(defs, job_name, specs)
    ops = sorted({defs.resolve_assets_def(k).node_def.name for k in keys})
    run_id = str(uuid.uuid4())
    result = defs.resolve_job_def(job_name).execute_in_process(
        instance=instance,
        run_id=run_id,
        asset_selection=keys,
        tags={**env_tags(env, "cli"), **({"kx_lake/engine": engine} if engine else {})},
        run_config={
            "ops": {op: {"config": {"envs": [env], "engine": engine}} for op in ops},
            "loggers": {"console": {"config": {"log_level": log_level}}},
        },
        raise_on_error=False,
    )
    out = CatalogRefresh(run_id, result.success)
    seen: set[tuple[str, str]] = set()
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        meta = record.dagster_event.event_specific_data.materialization.metadata
        for item in meta["objects"].value.get(env, []) if "objects" in meta else []:
            obj = CatalogObject(**item)
            if (obj.kind, obj.name) not in seen:  # a database step reports its objects once per asset
                seen.add((obj.kind, obj.name))
                out.objects.append(obj)
    out.errors = [scrub(e.event_specific_data.error.message.strip()) for e in result.all_events
                  if e.event_type_value == "STEP_FAILURE" and e.event_specific_data.error]
    return out
