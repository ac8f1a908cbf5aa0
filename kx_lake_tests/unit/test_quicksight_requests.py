"""QuickSight requests and dashboard definitions, validated against botocore's QuickSight model.

`validate` = botocore's ParamValidator (what a client call runs) + enum/max/pattern checks the
client leaves to the server (kx_lake_tests.fixtures.quicksight_model).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kx_lake.lib.config import ConfigErrors, ProjectConfig
from kx_lake.lib.dashboards import quicksight_deploy as deploy
from kx_lake.lib.dashboards import quicksight_resources as res
from kx_lake.lib.dashboards.quicksight_columns import columns_from_sql
from kx_lake.lib.dashboards.quicksight_config import ImportMode, load_quicksight_file
from kx_lake.lib.dashboards.quicksight_definition import DefinitionError, compile_definition
from kx_lake.lib.dashboards.spec import DASHBOARDS_DIR, parse_dashboard
from kx_lake_tests.fixtures.quicksight_model import validate
from kx_lake_tests.fixtures.quicksight_samples import write_samples


@pytest.fixture(scope="module")
def project(repo_project: ProjectConfig) -> ProjectConfig:
    return repo_project


@pytest.fixture
def plan(project: ProjectConfig, tmp_path: Path) -> deploy.DeployPlan:
    sql_dir, dash_dir = write_samples(tmp_path)
    return deploy.plan(project, "env1", sql_dir=sql_dir, dashboards_dir=dash_dir)


def test_repository_config_loads_for_every_environment(project: ProjectConfig) -> None:
    qs = load_quicksight_file(project.settings.config_dir / "quicksight.yaml")
    assert set(qs.environments) == set(project.environments)
    target = deploy.resolve_target(project, "env1", qs)
    assert target.region == project.environments["env1"].aws_region
    assert target.athena_workgroup == project.environments["env1"].athena_workgroup
    assert target.analytics_database == "kx_env1_analytics"
    assert target.import_mode is ImportMode.SPICE


def test_bad_config_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "quicksight.yaml"
    path.write_text("environments:\n  env1:\n    aws_account_id: '12'\n    owners: [not-an-arn]\n"
                    "    admin_group: admins\n    import_mode: SPICEY\n")
    with pytest.raises(ConfigErrors) as exc:
        load_quicksight_file(path)
    text = str(exc.value)
    for field in ("environments.env1.aws_account_id", "environments.env1.owners", "environments.env1.import_mode"):
        assert f"field '{field}'" in text
    assert str(path) in text


def test_ids_are_deterministic_and_valid(plan: deploy.DeployPlan) -> None:
    t = plan.target
    assert res.data_set_id(t, "fin_revenue_daily") == "kx-env1-fin_revenue_daily"
    assert res.data_source_id(t) == "kx-env1-athena"
    assert res.physical_table_id("fin_revenue_daily") == "fin-revenue-daily"


def test_data_source_data_sets_and_rls_requests_are_valid(plan: deploy.DeployPlan) -> None:
    t = plan.target
    requests = [("DataSource", res.data_source_request(t)), ("DataSet", res.rls_data_set_request(t, plan.tenants))]
    requests += [("DataSet", res.data_set_request(t, n, c)) for n, c in plan.datasets.items()]
    for kind, request in requests:
        assert validate(f"Create{kind}", request) == []
        assert validate(f"Update{kind}", res.update_request(request)) == []
    ds = res.data_set_request(t, "fin_revenue_daily", plan.datasets["fin_revenue_daily"])
    sql = next(iter(ds["PhysicalTableMap"].values()))["CustomSql"]
    assert sql["SqlQuery"].startswith("SELECT facility_id, facility_name, day, ")
    assert sql["SqlQuery"].endswith(" FROM kx_env1_analytics.fin_revenue_daily")
    assert ds["RowLevelPermissionDataSet"]["Arn"].endswith(":dataset/kx-env1-rls-tenants")
    assert ds["RowLevelPermissionDataSet"]["PermissionPolicy"] == "GRANT_ACCESS"
    assert ds["ImportMode"] == "SPICE"


def test_rls_rules_come_from_the_tenants_file(plan: deploy.DeployPlan) -> None:
    t = plan.target
    rules = res.rls_rules(t, plan.tenants)
    assert plan.tenants, "tenants.yaml lists env1 tenants"
    for tenant, facilities in plan.tenants.items():
        assert {f for g, f in rules if g == t.tenant_group(tenant)} == set(facilities)
    assert rules[-1] == (t.admin_group, None)  # admins: NULL = every facility
    assert "CAST(NULL AS VARCHAR)" in res.rls_sql(rules)
    assert res.rls_sql([("o'brien", "F1")]).count("'o''brien'") == 1  # quoted, not injected


def test_dashboard_permissions_owners_full_tenants_view(plan: deploy.DeployPlan) -> None:
    t = plan.target
    perms = res.dashboard_permissions(t, [t.tenant_group("GRP-X")])
    by = {p["Principal"]: p["Actions"] for p in perms}
    assert "quicksight:UpdateDashboard" in by[t.owners[0]]
    assert by[res.group_arn(t, "kx-env1-GRP-X")] == sorted(res.DASHBOARD_VIEWER_ACTIONS)


def test_column_types_from_sql() -> None:
    cols = dict(columns_from_sql(
        "CREATE OR REPLACE VIEW {{ analytics }}.x AS SELECT a.facility_id, a.facility_name, a.day, "
        "count(*) AS n, sum(a.amount) AS amount, CAST(a.x AS DOUBLE) AS ratio, max(a.name) AS name, "
        "CAST(a.flag AS BOOLEAN) AS flag, date_trunc('month', a.day) AS month FROM {{ hims_billing }}.t AS a "
        "GROUP BY 1, 2, 3"))
    assert cols == {"facility_id": "STRING", "facility_name": "STRING", "day": "DATETIME", "n": "INTEGER",
                    "amount": "DECIMAL", "ratio": "DECIMAL", "name": "STRING", "flag": "BOOLEAN",
                    "month": "DATETIME"}
    with pytest.raises(ValueError, match="SELECT \\*"):
        columns_from_sql("CREATE VIEW v AS SELECT * FROM t")


def test_sample_dashboards_compile_to_valid_create_and_update_requests(plan: deploy.DeployPlan) -> None:
    requests = deploy.dashboard_requests(plan)
    assert len(requests) == 2
    kinds = set()
    for request in requests:
        assert validate("CreateDashboard", request) == [], request["DashboardId"]
        assert validate("UpdateDashboard", res.update_request(request)) == [], request["DashboardId"]
        for visual in request["Definition"]["Sheets"][0]["Visuals"]:
            kinds.add(next(iter(visual)))
    assert kinds == {"KPIVisual", "LineChartVisual", "BarChartVisual", "PieChartVisual", "TableVisual", "HeatMapVisual"}
    fin = next(r for r in requests if r["DashboardId"] == "kx-env1-fin_revenue")
    definition = fin["Definition"]
    assert definition["DataSetIdentifierDeclarations"] == [
        {"Identifier": "fin_revenue_daily",
         "DataSetArn": "arn:aws:quicksight:ap-south-1:111111111111:dataset/kx-env1-fin_revenue_daily"}]
    filters = {g["FilterGroupId"]: g["Filters"][0] for g in definition["FilterGroups"]}
    assert filters["facility-group"]["CategoryFilter"]["Column"]["ColumnName"] == "facility_name"
    assert filters["date-range-group"]["TimeRangeFilter"]["Column"]["ColumnName"] == "day"
    assert "-29," in filters["date-range-group"]["TimeRangeFilter"]["RangeMinimumValue"]["RollingDate"]["Expression"]
    visuals = {next(iter(v.values()))["VisualId"]: v for v in definition["Sheets"][0]["Visuals"]}
    assert {"kpis-0", "kpis-1", "kpis-2"} <= set(visuals)  # one KPI per measure
    inr = visuals["kpis-0"]["KPIVisual"]["ChartConfiguration"]["FieldWells"]["Values"][0]["NumericalMeasureField"]
    currency = inr["FormatConfiguration"]["FormatConfiguration"]["CurrencyDisplayFormatConfiguration"]
    assert currency["Symbol"] == "INR"
    assert currency["SeparatorConfiguration"]["ThousandsSeparator"]["GroupingStyle"] == "LAKHS"
    assert "DonutOptions" in visuals["by_payer"]["PieChartVisual"]["ChartConfiguration"]
    assert "DonutOptions" not in visuals["pie_dept"]["PieChartVisual"]["ChartConfiguration"]
    table = visuals["bills_table"]["TableVisual"]["ChartConfiguration"]["FieldWells"]["TableAggregatedFieldWells"]
    assert "CategoricalMeasureField" in table["Values"][1]  # count_distinct of a text column
    ratio = {c["Name"]: c["Expression"] for c in definition["CalculatedFields"]}
    assert ratio == {"bills_table_m2_ratio": "sum({net_amount}) / sum({gross_amount})"}
    assert deploy.dashboard_requests(plan) == requests


def test_unknown_column_is_a_definition_error() -> None:
    spec = parse_dashboard({
        "id": "x", "title": "X", "subject_area": "financial", "dataset": "d",
        "description": "A description long enough.",
        "filters": [{"type": "facility"}, {"type": "date_range"}],
        "visuals": [{"id": "v", "type": "kpi", "title": "V", "measures": [{"column": "nope"}]}]}, "x.yaml")
    with pytest.raises(DefinitionError, match="nope"):
        compile_definition(spec, "arn:aws:quicksight:ap-south-1:111111111111:dataset/d",
                           {"facility_id": "STRING", "facility_name": "STRING", "day": "DATETIME"})


REPO_SPECS = sorted(DASHBOARDS_DIR.glob("*.yaml"))


@pytest.mark.skipif(not REPO_SPECS, reason="dashboards/*.yaml not committed yet")
def test_every_repository_dashboard_compiles_to_a_valid_create_dashboard(project: ProjectConfig) -> None:
    plan = deploy.plan(project, "env1")
    requests = deploy.dashboard_requests(plan)
    assert len(requests) == len(REPO_SPECS)
    problems = {r["DashboardId"]: validate("CreateDashboard", r) for r in requests}
    assert {k: v for k, v in problems.items() if v} == {}
    assert len({r["DashboardId"] for r in requests}) == len(requests)
    for name, columns in plan.datasets.items():
        assert validate("CreateDataSet", res.data_set_request(plan.target, name, columns)) == []
