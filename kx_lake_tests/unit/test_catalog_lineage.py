"""SQL view assets take their lineage from the SQL as sqlglot reads it, not from text patterns."""

from pathlib import Path

import dagster as dg
import pytest

from kx_lake.builders.catalog_assets import build_sql_view_assets, sql_lineage
from kx_lake.lib.catalog.views import ViewSqlError
from kx_lake.lib.config import ProjectConfig


SQL = """\
-- was: SELECT * FROM {{ hims_billing }}.old_bills  (a comment: not a dependency)
CREATE OR REPLACE VIEW {{ analytics }}.daily AS
WITH recent AS (SELECT * FROM {{ hims_billing }}.bills_latest WHERE status <> '{{ hims_billing }}.nope')
SELECT r.facility_id, f.facility_name, count(*) AS n
FROM recent AS r JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = r.facility_id
GROUP BY 1, 2
"""


def test_lineage_ignores_comments_literals_and_ctes(tmp_path: Path, repo_project: ProjectConfig) -> None:
    (tmp_path / "datasets").mkdir()
    (tmp_path / "views").mkdir()
    (tmp_path / "datasets" / "daily.sql").write_text(SQL)
    target, refs = sql_lineage(tmp_path / "datasets" / "daily.sql", list(repo_project.databases))
    assert target == ("analytics", "daily")
    assert refs == {("hims_billing", "bills_latest"), ("hims_masters", "dim_facility")}
    [asset] = build_sql_view_assets(repo_project, tmp_path)
    assert asset.key == dg.AssetKey(["analytics", "daily"])
    assert set(asset.asset_deps[asset.key]) == {dg.AssetKey(["hims_billing", "bills_latest"]),
                                                dg.AssetKey(["hims_masters", "dim_facility"])}


def test_a_file_that_is_not_one_view_is_refused_by_name(tmp_path: Path, repo_project: ProjectConfig) -> None:
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "bad.sql").write_text("SELECT * FROM {{ hims_billing }}.bills_latest")
    with pytest.raises(ViewSqlError, match=r"bad\.sql: expected exactly one CREATE OR REPLACE VIEW"):
        build_sql_view_assets(repo_project, tmp_path)
