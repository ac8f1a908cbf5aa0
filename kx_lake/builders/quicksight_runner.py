"""Run the `deploy_quicksight` job for the CLI — the same assets and resource as the UI.

`kx-lake dashboards deploy` materializes the whole `quicksight` group for one environment (groups,
data source, RLS data set, data sets with their SPICE ingestion, dashboards); `kx-lake dashboards
refresh` only the data-set assets (an idempotent update of each data set, then its ingestion to the
end). Each step is configured with the environment, the run executes in process (recorded in the
Dagster instance, so it shows in `dg dev`), and what each step did is read back from its
materializations' `actions` and `ingestion` metadata.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import dagster as dg

from kx_lake.builders.partitions import env_tags
from kx_lake.builders.quicksight_assets import QUICKSIGHT_GROUP, RLS_KEY, DASHBOARDS_KEY
from kx_lake.lib.dashboards.quicksight_deploy import action_counts


@dataclass
class QuickSightRun:
    run_id: str
    success: bool
    actions: dict[str, dict[str, str]] = field(default_factory=dict)  # kind → id → created/updated
    ingestions: dict[str, dict] = field(default_factory=dict)  # dataset → status, rows, seconds, error
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        return action_counts(self.actions)


def run_quicksight(defs: dg.Definitions, job_name: str, env: str, *, instance: dg.DagsterInstance,
                   refresh_only: bool = False, endpoint_url: str | None = None,
                   log_level: str = "WARNING") -> QuickSightRun:
    job = defs.resolve_job_def(job_name)
    graph = defs.resolve_asset_graph()
    keys = sorted((k for k in job.asset_layer.selected_asset_keys if graph.get(k).group_name == QUICKSIGHT_GROUP),
                  key=lambda k: k.to_user_string())
    if refresh_only:
        keys = [k for k in keys if k not in (RLS_KEY, DASHBOARDS_KEY)]
    ops = sorted({defs.resolve_assets_def(k).node_def.name for k in keys})
    run_config: dict = {"ops": {op: {"config": {"envs": [env]}} for op in ops},
                        "loggers": {"console": {"config": {"log_level": log_level}}}}
    if endpoint_url:
        run_config["resources"] = {"quicksight": {"config": {"endpoint_url": endpoint_url}}}
    run_id = str(uuid.uuid4())
    result = job.execute_in_process(instance=instance, run_id=run_id, asset_selection=keys, run_config=run_config,
                                    tags=env_tags(env, "cli"), raise_on_error=False)
    out = QuickSightRun(run_id, result.success)
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        materialization = record.dagster_event.event_specific_data.materialization
        meta = {k: v.value for k, v in materialization.metadata.items()}
        for kind, ids in (meta.get("actions") or {}).get(env, {}).items():
            out.actions.setdefault(kind, {}).update(ids)
        ingestion = (meta.get("ingestion") or {}).get(env) if isinstance(meta.get("ingestion"), dict) else None
        if ingestion:
            out.ingestions[materialization.asset_key.path[-1]] = ingestion
    out.errors = [e.event_specific_data.error.message.strip() for e in result.all_events
                  if e.event_type_value == "STEP_FAILURE" and e.event_specific_data.error]
    return out
