"""Every sql/datasets file: one CREATE OR REPLACE VIEW in the analytics database, rendering for
every environment, transpiling to DuckDB, documented, and keeping the dashboards' column contract
(facility_id, facility_name, day first). Column names come from the transpiled statement's
projection, so this needs no data; the types are checked on data by the integration tests."""

from __future__ import annotations

import pytest
from sqlglot import exp

from kx_lake.lib.catalog import names, views
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR

PROJECT = ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ={}))
EXPECTED = {
    "fin_revenue_daily", "fin_collections_outstanding", "fin_payer_mix", "fin_insurance_claims",
    "fin_pharmacy_sales", "fin_revenue_leakage", "ops_appointments", "ops_opd_waiting", "ops_bed_occupancy",
    "ops_adt", "ops_length_of_stay", "ops_emergency", "ops_ot_utilization", "clin_diagnoses", "clin_lab_volumes",
    "clin_lab_abnormal", "clin_radiology", "clin_prescriptions", "clin_blood_bank", "adm_registrations",
    "adm_staff", "adm_patient_experience", "inv_stock_expiry", "inv_purchasing_consumption",
}
PII = {"patient_name", "name", "phone", "email", "address", "addresses", "first_name", "last_name", "national_id"}


def output_columns(sql: str) -> list[str]:
    create = views.parse_view(sql)
    select = create.expression
    select = select.this if isinstance(select, exp.Subquery) else select
    return [e.alias_or_name for e in select.expressions]


def load(env: str) -> list[views.SqlView]:
    """load_datasets refuses inactive environments (env3); render those through the same functions."""
    if PROJECT.environments[env].active:
        return views.load_datasets(PROJECT, env)
    spec = PROJECT.environments[env]
    out = []
    for path in sorted((views.SQL_DIR / views.DATASETS_SUBDIR).glob("*.sql")):
        sql = views.render_template(path.read_text(), spec, PROJECT.databases, source=str(path))
        out.append(views.SqlView(path, sql, views.view_target(views.parse_view(sql)), views.DATASET_KIND))
    return views.order_by_dependencies(out)


@pytest.mark.parametrize("env", ["env1", "env2", "env3"])
def test_every_dataset_renders_parses_and_transpiles(env: str) -> None:
    loaded = load(env)
    analytics = names.analytics_database(PROJECT.environments[env])
    assert analytics == f"kx_{env}_analytics"
    assert {v.target[1] for v in loaded} == EXPECTED
    for view in loaded:
        assert view.kind == views.DATASET_KIND
        assert view.target == (analytics, view.path.stem), view.path  # file name = view name
        assert "{{" not in view.sql
        [statement] = views.to_duckdb(view.sql, str(view.path))
        assert f"CREATE OR REPLACE VIEW {analytics}.{view.path.stem} AS" in statement
        # reads only this env's databases
        for db, _table in views.referenced_tables(view.sql):
            assert db.startswith(f"kx_{env}_"), (view.path, db)


def test_column_contract_and_documentation() -> None:
    for view in views.load_datasets(PROJECT, "env1"):
        text = view.path.read_text()
        assert text.startswith(f"-- {view.path.stem}:"), f"{view.path}: must open with a comment naming it"
        assert "Grain:" in text and "Columns" in text, view.path
        cols = output_columns(view.sql)
        assert cols[:3] == ["facility_id", "facility_name", "day"], (view.path, cols[:3])
        assert len(cols) == len(set(cols)), view.path
        assert all(c == c.lower() and c.replace("_", "").isalnum() for c in cols), (view.path, cols)
        assert not PII & set(cols), (view.path, PII & set(cols))
        # canonical names only: every dataset joins dim_facility
        assert (view.target[0].replace("analytics", "hims_masters"), "dim_facility") in views.referenced_tables(view.sql)


def test_datasets_follow_views_and_their_dependencies() -> None:
    ordered = views.load_all_sql(PROJECT, "env1")
    position = {v.target: i for i, v in enumerate(ordered)}
    assert ordered[0].name == "kx_env1_hims_masters.dim_facility"
    for v in ordered:
        for ref in views.referenced_tables(v.sql) - {v.target}:
            if ref in position:
                assert position[ref] < position[v.target], (v.name, ref)


def test_dependency_order_does_not_follow_file_names(tmp_path) -> None:
    (tmp_path / "views").mkdir()
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "a_top.sql").write_text(
        "CREATE OR REPLACE VIEW {{ analytics }}.a_top AS SELECT * FROM {{ analytics }}.z_base")
    (tmp_path / "datasets" / "z_base.sql").write_text(
        "CREATE OR REPLACE VIEW {{ analytics }}.z_base AS SELECT 1 AS x FROM {{ hims_masters }}.dim_facility")
    (tmp_path / "views" / "dim_facility.sql").write_text(
        "CREATE OR REPLACE VIEW {{ hims_masters }}.dim_facility AS SELECT 1 AS x")
    assert [v.target[1] for v in views.load_all_sql(PROJECT, "env1", tmp_path)] == ["dim_facility", "z_base", "a_top"]
    assert [v.target[1] for v in views.load_sql_views(PROJECT, "env1", tmp_path)] == ["dim_facility"]
    (tmp_path / "datasets" / "z_base.sql").write_text(
        "CREATE OR REPLACE VIEW {{ analytics }}.z_base AS SELECT * FROM {{ analytics }}.a_top")
    with pytest.raises(views.ViewSqlError, match="reference cycle"):
        views.load_datasets(PROJECT, "env1", tmp_path)


def test_analytics_placeholder_renders_per_environment() -> None:
    sql = "CREATE OR REPLACE VIEW {{ analytics }}.x AS SELECT * FROM {{ hims_billing }}.bills_latest"
    for env in ("env1", "env2", "env3"):
        assert views.render_template(sql, PROJECT.environments[env], PROJECT.databases) == (
            f"CREATE OR REPLACE VIEW kx_{env}_analytics.x AS SELECT * FROM kx_{env}_hims_billing.bills_latest")
