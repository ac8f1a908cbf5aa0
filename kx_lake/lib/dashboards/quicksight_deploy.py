"""Deploy and refresh one environment's QuickSight: the entry points the CLI and Dagster share.

`plan(project, env)` gathers everything from the repository — QuickSight settings, the dataset
columns and types (sql/datasets, with the embedded DuckDB catalog's types when it has the views),
the tenants and the dashboard specs — and fails before any AWS call if something is inconsistent.
`deploy(qs, plan)` then applies it in dependency order:

  groups (admin, one per tenant; optional) → Athena data source → RLS rules data set →
  one data set per dataset → dashboards (Definition API) → permissions

and `refresh(qs, plan)` runs the SPICE ingestions (DIRECT_QUERY environments have nothing to
refresh). Every step is create-or-update by deterministic id (quicksight_client), so running
deploy twice leaves one of everything. `make_client` builds the boto3 client lazily, with an
optional endpoint (tests point it at moto); credentials come from the standard AWS chain only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kx_lake.lib.config import ConfigError, ConfigErrors, ProjectConfig
from kx_lake.lib.dashboards import quicksight_resources as res
from kx_lake.lib.dashboards.quicksight_client import IngestionResult, QuickSightClient
from kx_lake.lib.dashboards.quicksight_columns import check_columns, columns_from_catalog, columns_from_sql
from kx_lake.lib.dashboards.quicksight_config import ImportMode, QuickSightTarget, resolve_target

_LOG = logging.getLogger(__name__)



def action_counts(actions: dict[str, dict[str, str]]) -> dict[str, dict[str, int]]:
    """{kind: {action: how many}} from {kind: {id: action}} (created/updated per resource kind)."""
    out: dict[str, dict[str, int]] = {}
    for kind, ids in actions.items():
        for action in ids.values():
            out.setdefault(kind, {}).setdefault(action, 0)
            out[kind][action] += 1
    return out

@dataclass(frozen=True)
class DeployPlan:
    target: QuickSightTarget
    datasets: dict[str, list[tuple[str, str]]]  # name → [(column, QuickSight type)]
    tenants: dict[str, tuple[str, ...]]  # tenant id → facility_ids
    dashboards: tuple[Any, ...] = ()  # DashboardSpec
    column_source: dict[str, str] = field(default_factory=dict)  # name → the catalog's mode ("duckdb"...) | "sql"

    @property
    def spice_data_sets(self) -> dict[str, str]:
        """name → DataSetId of the data sets to ingest (none under DIRECT_QUERY)."""
        if self.target.import_mode is not ImportMode.SPICE:
            return {}
        return {name: res.data_set_id(self.target, name) for name in self.datasets}


@dataclass
class DeployReport:
    env: str
    actions: dict[str, dict[str, str]] = field(default_factory=dict)  # kind → id → created/updated

    def add(self, kind: str, rid: str, action: str) -> None:
        self.actions.setdefault(kind, {})[rid] = action

    def counts(self) -> dict[str, dict[str, int]]:
        return action_counts(self.actions)


def dataset_types(sql_files: Sequence[Path], target: QuickSightTarget, catalog: Any = None
                  ) -> tuple[dict[str, list[tuple[str, str]]], dict[str, str]]:
    """name → typed columns for each dataset file; the catalog's types when the view is in it
    (`catalog`: a lib.catalog.backend.CatalogBackend of the env, any mode), else types from the SQL."""
    out: dict[str, list[tuple[str, str]]] = {}
    source: dict[str, str] = {}
    errors = []
    for path in sql_files:
        name = path.stem
        try:
            cols = None
            if catalog is not None:
                cols = columns_from_catalog(catalog, target.analytics_database, name)
            source[name] = catalog.mode if cols else "sql"
            cols = cols or columns_from_sql(path.read_text(), str(path))
            out[name] = check_columns(name, cols)
        except ValueError as exc:
            errors.append(ConfigError(path, str(exc)))
    if errors:
        raise ConfigErrors(errors)
    return out, source


def plan(project: ProjectConfig, env: str, *, sql_dir: Path | None = None, dashboards_dir: Path | None = None,
         catalog: Any = None, with_dashboards: bool = True) -> DeployPlan:
    """Everything a deploy of `env` needs, validated; no AWS call. `catalog`: the env's open catalog
    backend for the data sets' column types (None: a deploy box without a catalog; types from the SQL)."""
    from kx_lake.lib.dashboards.datasets import datasets_dir
    from kx_lake.lib.dashboards.tenants import Tenants

    target = resolve_target(project, env)
    files = sorted(datasets_dir(sql_dir).glob("*.sql"))
    if not files:
        raise ConfigErrors([ConfigError(datasets_dir(sql_dir), "no dataset SQL files (sql/datasets/*.sql)")])
    datasets, source = dataset_types(files, target, catalog)
    tenants = {t.id: t.facility_ids for t in Tenants.load(target.tenants_file).of(target.env).values()}
    specs: tuple[Any, ...] = ()
    if with_dashboards:
        from kx_lake.lib.dashboards.spec import load_dashboards

        specs = tuple(load_dashboards(dashboards_dir, {n: [c for c, _ in cols] for n, cols in datasets.items()}))
    return DeployPlan(target, datasets, tenants, specs, source)


def dashboard_requests(plan_: DeployPlan) -> list[dict[str, Any]]:
    """Every dashboard's CreateDashboard request (compiled from its spec)."""
    from kx_lake.lib.dashboards.quicksight_definition import dashboard_request

    t = plan_.target
    perms = res.dashboard_permissions(t, [t.tenant_group(x) for x in sorted(plan_.tenants)])
    return [
        dashboard_request(
            spec, account_id=t.account_id, dashboard_id=res.dashboard_id(t, spec.id),
            data_set_arn=res.arn(t, "dataset", res.data_set_id(t, spec.dataset)),
            column_types=dict(plan_.datasets[spec.dataset]), permissions=perms, tags=res.tags(t),
        )
        for spec in plan_.dashboards
    ]


def deploy_foundation(qs: QuickSightClient, plan_: DeployPlan, report: DeployReport | None = None) -> DeployReport:
    """Groups (when managed), the Athena data source and the RLS rules data set."""
    t = plan_.target
    report = report or DeployReport(t.env)
    if t.manage_groups:
        for group in [t.admin_group, *(t.tenant_group(x) for x in sorted(plan_.tenants))]:
            if qs.ensure_group(t.namespace, group, f"kx-lake {t.env}"):
                report.add("group", group, "created")
    report.add("data_source", res.data_source_id(t), qs.upsert_data_source(res.data_source_request(t)))
    report.add("rls_data_set", res.rls_data_set_id(t), qs.upsert_data_set(res.rls_data_set_request(t, plan_.tenants)))
    return report


def deploy_data_sets(qs: QuickSightClient, plan_: DeployPlan, only: Sequence[str] | None = None,
                     report: DeployReport | None = None) -> DeployReport:
    """One data set per dataset (or `only` those); the foundation must exist."""
    t = plan_.target
    report = report or DeployReport(t.env)
    for name, columns in plan_.datasets.items():
        if only is None or name in only:
            report.add("data_set", res.data_set_id(t, name), qs.upsert_data_set(res.data_set_request(t, name, columns)))
    return report


def deploy_dashboards(qs: QuickSightClient, plan_: DeployPlan, report: DeployReport | None = None) -> DeployReport:
    report = report or DeployReport(plan_.target.env)
    for request in dashboard_requests(plan_):
        report.add("dashboard", request["DashboardId"], qs.upsert_dashboard(request))
    return report


def deploy(qs: QuickSightClient, plan_: DeployPlan, *, only: Sequence[str] | None = None,
           dashboards: bool = True) -> DeployReport:
    """Create or update everything in `plan_` (data sets limited to `only` when given), in order."""
    report = deploy_foundation(qs, plan_)
    deploy_data_sets(qs, plan_, only, report)
    if dashboards:
        deploy_dashboards(qs, plan_, report)
    return report


def refresh(qs: QuickSightClient, plan_: DeployPlan, *, only: Sequence[str] | None = None,
            raise_on_failure: bool = True) -> list[IngestionResult]:
    """SPICE ingestions of the plan's data sets (or `only` those), polled to the end."""
    wanted: Mapping[str, str] = {n: i for n, i in plan_.spice_data_sets.items() if only is None or n in only}
    if not wanted:
        _LOG.info("quicksight: %s imports with %s: nothing to refresh", plan_.target.env, plan_.target.import_mode)
        return []
    return qs.refresh(wanted, raise_on_failure=raise_on_failure)


def make_client(target: QuickSightTarget, *, endpoint_url: str | None = None, session: Any = None,
                **client_kwargs: Any) -> QuickSightClient:
    """A QuickSightClient for the target's account and region (boto3 imported here, not at import)."""
    import boto3

    session = session or boto3.Session()
    client = session.client("quicksight", region_name=target.region, endpoint_url=endpoint_url)
    return QuickSightClient(client, target.account_id, **client_kwargs)
