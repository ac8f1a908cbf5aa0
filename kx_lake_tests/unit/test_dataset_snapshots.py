"""Dataset snapshots (catalog/snapshots.py): `sync_sql_views` writes each dataset's Parquet snapshot
beside the catalog file, and the dashboard site answers from it (and from the view when there is
none), re-reading it when a refresh replaces it. Real DuckDB files, no lake needed."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from kx_lake.lib.catalog import duckdb_catalog
from kx_lake.lib.catalog.snapshots import SnapshotError, snapshot_path, write_snapshot
from kx_lake.lib.catalog.views import DATASET_KIND, VIEW_KIND, SqlView
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake_tests.unit.test_dashboard_site_app import client, signed  # noqa: F401 - the shared fixture


@pytest.fixture
def project(tmp_path: Path) -> ProjectConfig:
    environ = {"KX_LAKE_HOME": str(tmp_path), "KX_LAKE_ROOT": str(tmp_path / "lake")}
    return ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ=environ))


def test_refresh_writes_a_snapshot_per_dataset_not_per_view(project: ProjectConfig, tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "env1.duckdb"))
    con.execute("CREATE SCHEMA kx_env1_hims_billing")
    con.execute("CREATE TABLE kx_env1_hims_billing.bills AS SELECT * FROM (VALUES ('F1', 10.0), ('F1', 5.0), "
                "('F2', 1.0)) AS t(facility_id, amount)")
    helper = SqlView(tmp_path / "v.sql", "CREATE OR REPLACE VIEW kx_env1_hims_billing.big AS "
                     "SELECT * FROM kx_env1_hims_billing.bills WHERE amount > 2", ("kx_env1_hims_billing", "big"))
    dataset = SqlView(tmp_path / "d.sql", "CREATE OR REPLACE VIEW kx_env1_analytics.fin_x AS SELECT facility_id, "
                      "sum(amount) AS amount FROM kx_env1_hims_billing.big GROUP BY 1",
                      ("kx_env1_analytics", "fin_x"), DATASET_KIND)
    assert helper.kind == VIEW_KIND
    counted = SqlView(tmp_path / "c.sql", "CREATE OR REPLACE VIEW kx_env1_analytics.fin_n AS SELECT facility_id, "
                      "sum(CAST(amount AS BIGINT)) AS n FROM kx_env1_hims_billing.bills GROUP BY 1",
                      ("kx_env1_analytics", "fin_n"), DATASET_KIND)
    done = duckdb_catalog.sync_sql_views(project, "env1", con, [helper, dataset, counted])
    live = con.sql("SELECT * FROM kx_env1_analytics.fin_n").to_arrow_table()
    con.close()
    assert [(o.kind, o.status) for o in done] == [("sql", "created"), ("dataset", "created"), ("dataset", "created")]
    snap = snapshot_path(project, "env1", "fin_x")
    assert pq.read_table(snap).to_pylist() == [{"facility_id": "F1", "amount": 15.0}]
    counts = pq.read_table(snapshot_path(project, "env1", "fin_n"))
    assert counts.schema.types == live.schema.types  # a sum of BIGINT (HUGEINT) stays an exact decimal
    assert counts.sort_by("facility_id").to_pylist() == live.sort_by("facility_id").to_pylist()
    assert sorted(p.name for p in snap.parent.iterdir()) == ["fin_n.parquet", "fin_x.parquet"]  # no view's, no temp


def test_a_failed_snapshot_names_env_and_dataset_and_leaves_no_file(project: ProjectConfig) -> None:
    con = duckdb.connect()
    with pytest.raises(SnapshotError, match=r"env1: writing the snapshot of kx_env1_analytics\.nope"):
        write_snapshot(con, project, "env1", ("kx_env1_analytics", "nope"))
    assert list(snapshot_path(project, "env1", "nope").parent.iterdir()) == []


def _write(path: Path, amount: float, mtime: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.sql(f"COPY (SELECT 'A-1' AS facility_id, 'Alpha <One>' AS facility_name, DATE '2026-01-01' AS day, "
               f"'cash' AS payer, {amount}::DOUBLE AS amount) TO '{path}' (FORMAT parquet)")
    os.utime(path, ns=(mtime, mtime))  # distinct stamps whatever the file system's clock resolution


def test_site_answers_from_the_snapshot_and_follows_its_refresh(client, tmp_path: Path) -> None:  # noqa: F811
    c, tokens = client
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    snap = tmp_path / "catalog" / "env1.datasets" / "fin_demo.parquet"
    _write(snap, 77.0, 1_000_000_000_000_000_000)
    assert c.get("/api/d/fin_demo", headers=headers).json()["visuals"]["k"]["rows"] == [[77.0]]
    _write(snap, 88.0, 1_000_000_001_000_000_000)  # a later refresh
    assert c.get("/api/d/fin_demo", headers=headers).json()["visuals"]["k"]["rows"] == [[88.0]]
    snap.unlink()  # no snapshot: the catalog's view answers (the fixture's table: A-1 + A-2 + B-1 + June)
    assert c.get("/api/d/fin_demo?from=2025-01-01&to=2026-12-31", headers=headers
                 ).json()["visuals"]["k"]["rows"] == [[1239588.0]]
