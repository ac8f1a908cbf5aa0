"""QuickSight as Dagster assets, downstream of the dataset views: builders and the resource.

Shape and why:

* `["quicksight", "rls_rules"]`: groups, the Athena data source and the row-level-security rules
  data set (what every data set points at), from quicksight.yaml and tenants.yaml.
* `["quicksight", <dataset>]` per `sql/datasets/<dataset>.sql`, deps `["analytics", <dataset>]` (the
  catalog's view asset) and the RLS asset: create-or-update the data set, then the SPICE ingestion
  polled to its end. One multi-asset that can subset, so a run after a sync refreshes just the data
  sets whose views were re-materialized (one step, not 24).
* `["quicksight", "dashboards"]`: every dashboard compiled from dashboards/*.yaml, after the data sets.

They live in their own group (`quicksight`). They need AWS, which a laptop does not have, so nothing
materializes them unless asked (the `deploy_quicksight` job, the UI) — or, once someone starts the
`quicksight_automation` sensor (STOPPED by default), when new data arrives: each data set carries
DATA_SET_AUTOMATION (eager: after its dataset view is rebuilt, once the RLS foundation exists), so a
sync → view refresh → SPICE refresh of just the affected data sets. Dashboards stay manual. `QuickSightResource` resolves config and
builds the boto3 client lazily, at first use in a run; `endpoint_url` points it at moto in tests.
Run config `envs` chooses environments (default: every active one with QuickSight settings).
What leaves a step — its metadata (actions, ingestion errors) and its error — is scrubbed of secrets.
"""

import logging
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from kx_lake.builders.catalog_resource import CatalogResource
from kx_lake.builders.resources import ProjectResource
from kx_lake.lib.scrub import Scrubber, errors_scrubbed, scrub_tree

_LOG = logging.getLogger(__name__)

QUICKSIGHT_GROUP = "quicksight"
# Refresh a data set when its view (or the RLS data set) was updated; held back while one is missing.
DATA_SET_AUTOMATION = dg.AutomationCondition.eager()
RLS_KEY = dg.AssetKey(["quicksight", "rls_rules"])
DASHBOARDS_KEY = dg.AssetKey(["quicksight", "dashboards"])
ANALYTICS_PREFIX = "analytics"


def data_set_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(["quicksight", dataset])


def view_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey([ANALYTICS_PREFIX, dataset])


class QuickSightConfig(dg.Config):
    envs: list[str] = []  # empty: every active environment that quicksight.yaml configures


class QuickSightResource(dg.ConfigurableResource):
    """Plans and clients per environment, created on first use in a run (never at load)."""

    kx_project: ProjectResource
    kx_catalog: CatalogResource | None = None  # column types of the data sets; None: from the SQL
    endpoint_url: str | None = None  # None: AWS; a moto server in tests
    sql_dir: str | None = None
    dashboards_dir: str | None = None
    _clients: dict[str, Any] = PrivateAttr(default_factory=dict)

    def envs(self, requested: list[str]) -> list[str]:
        from kx_lake.lib.dashboards.quicksight_config import QUICKSIGHT_FILE, load_quicksight_file

        project = self.kx_project.project
        if requested:
            return [project.environment(e).name for e in requested]
        configured = load_quicksight_file(project.settings.config_dir / QUICKSIGHT_FILE).environments
        return [e.name for e in project.active_environments if e.name in configured]

    def plan(self, env: str, *, with_dashboards: bool) -> Any:
        """The env's deploy plan, with the data sets' column types from its catalog backend (whatever the
        mode) when `kx_catalog` is set and the catalog opens, else from the dataset SQL."""
        from kx_lake.lib.dashboards import quicksight_deploy as qsd

        def make(catalog: Any) -> Any:
            return qsd.plan(self.kx_project.project, env, with_dashboards=with_dashboards, catalog=catalog,
                            sql_dir=Path(self.sql_dir) if self.sql_dir else None,
                            dashboards_dir=Path(self.dashboards_dir) if self.dashboards_dir else None)

        if self.kx_catalog is None:
            return make(None)
        with ExitStack() as stack:
            try:
                catalog = stack.enter_context(self.kx_catalog.backend(env, read_only=True))
            except Exception as exc:  # no local catalog (a deploy box): the SQL is enough
                _LOG.info("quicksight: no catalog for %s (%s); column types from the dataset SQL", env,
                          self.scrubber()(exc))
                catalog = None
            return make(catalog)

    def scrubber(self) -> Scrubber:
        return Scrubber.for_project(self.kx_project.project)

    def client(self, plan: Any) -> Any:
        from kx_lake.lib.dashboards import quicksight_deploy as qsd

        env = plan.target.env
        if env not in self._clients:
            self._clients[env] = qsd.make_client(plan.target, endpoint_url=self.endpoint_url)
        return self._clients[env]


def dataset_names(sql_dir: Path | None = None) -> list[str]:
    from kx_lake.lib.dashboards.datasets import datasets_dir

    return sorted(p.stem for p in datasets_dir(sql_dir).glob("*.sql"))


def build_quicksight_assets(sql_dir: Path | None = None) -> list[dg.AssetsDefinition]:
    names = dataset_names(sql_dir)
    assets = [_rls_asset()]
    if names:
        assets.append(_data_set_assets(names))
    assets.append(_dashboards_asset([data_set_key(n) for n in names]))
    return assets


def _deploy_each_env(quicksight: QuickSightResource, config: QuickSightConfig, deploy: Callable[[Any, Any], Any], *,
                     with_dashboards: bool) -> dg.MaterializeResult:
    """`deploy(client, plan)` in every selected environment; its actions per environment as metadata."""
    out = {}
    with errors_scrubbed(quicksight.scrubber):
        for env in quicksight.envs(config.envs):
            plan = quicksight.plan(env, with_dashboards=with_dashboards)
            out[env] = deploy(quicksight.client(plan), plan).actions
    return dg.MaterializeResult(metadata={"actions": scrub_tree(out, quicksight.scrubber())})


def _rls_asset() -> dg.AssetsDefinition:
    @dg.asset(key=RLS_KEY, group_name=QUICKSIGHT_GROUP, kinds={"quicksight"},
              description="QuickSight groups, the Athena data source and the row-level-security rules data set "
                          "(tenants.yaml: hospital group → facility_ids).")
    def _rls(context: dg.AssetExecutionContext, config: QuickSightConfig, quicksight: QuickSightResource):
        from kx_lake.lib.dashboards import quicksight_deploy as qsd

        return _deploy_each_env(quicksight, config, qsd.deploy_foundation, with_dashboards=False)

    return _rls


def _data_set_assets(names: list[str]) -> dg.AssetsDefinition:
    by_key = {data_set_key(n): n for n in names}

    @dg.multi_asset(
        name="quicksight_data_sets",
        specs=[dg.AssetSpec(data_set_key(n), deps=[view_key(n), RLS_KEY], group_name=QUICKSIGHT_GROUP,
                            kinds={"quicksight"}, skippable=True, automation_condition=DATA_SET_AUTOMATION,
                            description=f"QuickSight data set over the view {ANALYTICS_PREFIX}.{n} "
                                        "(create or update, then a SPICE refresh when the environment imports).")
               for n in names],
        can_subset=True,
    )
    def _data_sets(context: dg.AssetExecutionContext, config: QuickSightConfig, quicksight: QuickSightResource):
        from kx_lake.lib.dashboards import quicksight_deploy as qsd
        from kx_lake.lib.dashboards import quicksight_resources as res

        selected = [by_key[k] for k in sorted(context.selected_asset_keys, key=str)]
        status: dict[str, dict[str, dict]] = {n: {} for n in selected}
        actions: dict[str, dict[str, dict[str, dict[str, str]]]] = {n: {} for n in selected}
        failures = []
        with errors_scrubbed(quicksight.scrubber):
            for env in quicksight.envs(config.envs):
                plan = quicksight.plan(env, with_dashboards=False)
                qs = quicksight.client(plan)
                wanted = [n for n in selected if n in plan.datasets]
                report = qsd.deploy_data_sets(qs, plan, wanted)
                for name in wanted:
                    rid = res.data_set_id(plan.target, name)
                    actions[name][env] = {"data_set": {rid: report.actions["data_set"][rid]}}
                for r in qsd.refresh(qs, plan, only=wanted, raise_on_failure=False):
                    status[r.name][env] = {"status": r.status, "rows": r.rows_ingested,
                                           "seconds": round(r.seconds, 1), "error": r.error}
                    if not r.ok:
                        failures.append(f"{env}/{r.name}: {r.status}: {r.error}")
        scrub = quicksight.scrubber()
        for name in selected:
            metadata = {"actions": actions[name], "ingestion": status[name] or "none"}
            yield dg.MaterializeResult(asset_key=data_set_key(name), metadata=scrub_tree(metadata, scrub))
        if failures:
            raise dg.Failure(description=scrub("SPICE ingestion failed: " + "; ".join(failures)))

    return _data_sets


def _dashboards_asset(deps: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(key=DASHBOARDS_KEY, deps=[RLS_KEY, *deps], group_name=QUICKSIGHT_GROUP, kinds={"quicksight"},
              description="Every dashboard of dashboards/*.yaml, compiled to QuickSight's Definition API.")
    def _dashboards(context: dg.AssetExecutionContext, config: QuickSightConfig, quicksight: QuickSightResource):
        from kx_lake.lib.dashboards import quicksight_deploy as qsd

        return _deploy_each_env(quicksight, config, qsd.deploy_dashboards, with_dashboards=True)

    return _dashboards
