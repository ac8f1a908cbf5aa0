"""QuickSight data-set column types come from the env's catalog backend, whatever its mode (here the
DuckDB backend over an in-memory DuckDB), and fall back to the dataset SQL for a view it lacks."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from kx_lake.lib.catalog.backend import DuckDbBackend
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.dashboards import quicksight_deploy as deploy
from kx_lake.lib.dashboards.quicksight_columns import _from_sql_type
from kx_lake_tests.fixtures.quicksight_samples import write_samples


def test_plan_takes_column_types_from_the_catalog_backend(repo_project: ProjectConfig, tmp_path: Path) -> None:
    sql_dir, dash_dir = write_samples(tmp_path)
    analytics = deploy.resolve_target(repo_project, "env1").analytics_database
    con = duckdb.connect()
    con.execute(f"CREATE SCHEMA {analytics}")
    con.execute(f"CREATE VIEW {analytics}.ops_bed_occupancy AS SELECT 'F1' AS facility_id, 'A' AS facility_name, "
                "DATE '2026-01-01' AS day, 'W1' AS ward, 3::BIGINT AS occupied_bed_days, 4::BIGINT AS available_bed_days, "
                "2.5::DOUBLE AS wait_minutes, 'Mon' AS weekday, 7::INTEGER AS hour_of_day")
    plan = deploy.plan(repo_project, "env1", sql_dir=sql_dir, dashboards_dir=dash_dir,
                       catalog=DuckDbBackend(repo_project, "env1", con))
    assert plan.column_source == {"ops_bed_occupancy": "duckdb", "fin_revenue_daily": "sql"}
    types = dict(plan.datasets["ops_bed_occupancy"])
    assert (types["hour_of_day"], types["wait_minutes"], types["ward"]) == ("INTEGER", "DECIMAL", "STRING")


@pytest.mark.parametrize(("engine_type", "expected"), [
    ("BIGINT", "INTEGER"), ("int", "INTEGER"), ("integer", "INTEGER"), ("double", "DECIMAL"),
    ("decimal(10,2)", "DECIMAL"), ("timestamp(3)", "DATETIME"), ("date", "DATETIME"), ("boolean", "BOOLEAN"),
    ("string", "STRING"), ("varchar", "STRING"), ("VARCHAR", "STRING"),
])
def test_engine_type_names_of_duckdb_trino_and_glue_map_alike(engine_type: str, expected: str) -> None:
    assert _from_sql_type(engine_type) == expected
