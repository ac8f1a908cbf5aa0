"""Data-quality checks on a tiny real lake (FerretDB → Parquet → DuckDB catalog): they pass on a
consistent lake, never fail the sync they run in, and fail when the lake is made inconsistent on
purpose — a version stored twice (a copied Parquet file), a deleted partition, a renamed facility —
and when a sync widens the schema.

The facility check is pointed (operations.yaml) at scratch collections q_facilities / q_encounters /
q_bills, and dim_facility.sql is run with its inputs renamed to them, as the catalog tests do.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from kx_lake.builders.collection_assets import collection_key
from kx_lake.builders.resources import load_project
from kx_lake.builders.run_report import check_outcomes
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.catalog import duckdb_catalog, views
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

pytestmark = pytest.mark.integration

ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
q_facilities,hims_masters,updated_at,date,,true
q_encounters,hims_patient,updated_at,date,facility_id,true
q_bills,hims_billing,updated_at,date,facility_id,true
"""
COLLS = (("hims_masters", "q_facilities"), ("hims_patient", "q_encounters"), ("hims_billing", "q_bills"))
OPERATIONS = """checks:
  freshness_max_lag_hours: 48
  facility_names: {asset: hims_masters.q_facilities, spellings_from: [hims_patient.q_encounters, hims_billing.q_bills]}
"""
NOW = datetime.now(UTC).replace(microsecond=0)


def ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def scratch_sql_dir(tmp_path: Path) -> Path:
    text = (views.SQL_DIR / "views" / "dim_facility.sql").read_text()
    for coll in ("facilities", "encounters", "bills"):
        text = text.replace(f".{coll}_latest", f".q_{coll}_latest")
    (tmp_path / "sql" / "views").mkdir(parents=True)
    (tmp_path / "sql" / "views" / "dim_facility.sql").write_text(text)
    return tmp_path / "sql"


class Lake:
    def __init__(self, project, definitions, instance, client, storage, sql_dir):
        self.project, self.defs, self.instance, self.client, self.storage = project, definitions, instance, client, storage
        self.sql_dir = sql_dir
        today = NOW.astimezone(project.environment("env1").tz).date()
        # a full load (from the first partition): only that gives a collection its synced point
        self.first, self.last = project.partitions_start, today

    def sync(self, *names: str) -> dict[tuple[str, str], object]:
        group = SyncGroup("env1", self.first, self.last, tuple(self.project.collection(n) for n in names), True)
        summary = run_sync(self.defs, "sync_collections", [group], instance=self.instance)
        assert all(r.ok for r in summary.results), [r.error for r in summary.results]
        return {(c.asset, c.check): c for c in check_outcomes(self.instance, summary.run_ids[0])}

    def refresh_catalog(self) -> None:
        duckdb_catalog.refresh(self.project, "env1", views=views.load_sql_views(self.project, "env1", self.sql_dir))

    def checks(self) -> dict[tuple[str, str], object]:
        """A check-only run (no sync), so deliberate damage to the lake is not repaired first."""
        keys = [collection_key(self.project.collection(c)) for _, c in COLLS]
        job = dg.define_asset_job("quality_only", selection=dg.AssetSelection.checks_for_assets(*keys))
        merged = dg.Definitions.merge(self.defs, dg.Definitions(jobs=[job]))
        result = merged.resolve_job_def("quality_only").execute_in_process(
            instance=self.instance, tags={"kx_lake/env": "env1"})
        assert result.success  # failing checks never fail the run
        return {(c.asset, c.check): c for c in check_outcomes(self.instance, result.run_id)}


@pytest.fixture
def lake(request, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS)
    (tmp_path / "cfg" / "operations.yaml").write_text(OPERATIONS)
    client = local_source.client("env1")
    for db, coll in COLLS:
        client[db][coll].drop()
    client.hims_masters.q_facilities.insert_many([
        {"_id": "F1", "name": "Apollo Care, Pune", "updated_at": ago(30)},
        {"_id": "F2", "name": "Sunrise Clinic", "updated_at": ago(30)}])
    client.hims_patient.q_encounters.insert_many([
        {"_id": "E1", "facility_id": "F1", "facility_name": "Apollo Care, Pune", "status": "open", "updated_at": ago(30)},
        {"_id": "E2", "facility_id": "F1", "facility_name": "Apolo Care Pune", "status": "open", "updated_at": ago(5)},
        {"_id": "E3", "facility_id": "F2", "facility_name": "Sunrise Clinic", "status": "open", "updated_at": ago(1)}])
    client.hims_billing.q_bills.insert_many([
        {"_id": "B1", "facility_id": "F1", "facility_name": "Apollo Care, Pune", "amount": 10.0, "updated_at": ago(3)},
        {"_id": "B2", "facility_id": "F2", "facility_name": "Sunrise Clinic", "amount": 20.0, "updated_at": ago(2)}])
    from kx_lake.definitions import defs

    project = load_project()
    duckdb_catalog.catalog_path(project, "env1").unlink(missing_ok=True)
    yield Lake(project, defs(), dg.DagsterInstance.ephemeral(), client, LakeStorage.from_root(root),
               scratch_sql_dir(tmp_path))
    duckdb_catalog.catalog_path(project, "env1").unlink(missing_ok=True)
    for db, coll in COLLS:
        client[db][coll].drop()


def test_checks_pass_on_a_consistent_lake_and_fail_on_purposeful_damage(lake: Lake) -> None:
    first = lake.sync("q_facilities", "q_encounters", "q_bills")
    # the checks ran inside the sync; without a catalog they warn instead of failing it
    rec = first[("hims_patient.q_encounters", "reconciliation")]
    assert not rec.passed and rec.severity == "WARN" and "no catalog" in rec.description
    assert first[("hims_patient.q_encounters", "freshness")].passed

    lake.refresh_catalog()
    ok = lake.checks()
    assert len(ok) == 3 * 5 + 1  # 4 quality checks and quarantine (rejects_check.py) per collection; facilities
    assert {k: (v.passed, v.description) for k, v in ok.items() if not v.passed} == {}
    assert "3 ids in _latest = 3 documents in MongoDB" in ok[("hims_patient.q_encounters", "reconciliation")].description
    assert "2 facilities" in ok[("hims_masters.q_facilities", "facility_names")].description

    # a version stored twice: a copy of one Parquet file beside it
    [bill] = [p for p in lake.storage.list_partitions("env1", "hims_billing", "q_bills") if ("facility_id", "F2") in p.ids]
    src = bill.path.removeprefix("file://")
    shutil.copy(src, src.replace("part-00000", "part-00001"))
    # a deleted partition: the newest date of q_encounters
    parts = lake.storage.list_partitions("env1", "hims_patient", "q_encounters")
    newest = max(p.date for p in parts)
    for p in parts:
        if p.date == newest:
            Path(p.path.removeprefix("file://")).unlink()
    bad = lake.checks()
    dup = bad[("hims_billing.q_bills", "id_unique")]
    assert not dup.passed and dup.severity == "ERROR" and "stored more than once" in dup.description
    lost = bad[("hims_patient.q_encounters", "reconciliation")]
    assert not lost.passed and lost.severity == "ERROR" and "missing from the lake" in lost.description
    assert bad[("hims_masters.q_facilities", "facility_names")].passed

    # a renamed facility: the master says "Sunset Clinic", every transaction still says "Sunrise Clinic"
    lake.client.hims_masters.q_facilities.update_one({"_id": "F2"}, {"$set": {"name": "Sunset Clinic",
                                                                            "updated_at": ago(0.5)}})
    renamed = lake.sync("q_facilities")
    fac = renamed[("hims_masters.q_facilities", "facility_names")]
    assert not fac.passed and "F2" in fac.description and "renamed" in fac.description


def test_schema_drift_is_reported_once_by_the_sync_that_widened(lake: Lake) -> None:
    lake.sync("q_encounters")
    lake.client.hims_patient.q_encounters.insert_one(
        {"_id": "E9", "facility_id": "F1", "facility_name": "Apollo Care, Pune", "status": {"code": "closed"}, "ward": "W1",
         "updated_at": ago(0.2)})
    widened = lake.sync("q_encounters")[("hims_patient.q_encounters", "schema_drift")]
    assert not widened.passed and widened.severity == "WARN"
    # new: ward, status.code, status._kx_value (string + struct → struct{code, _kx_value}); widened: status
    assert "3 new, 1 widened" in widened.description
    again = lake.sync("q_encounters")[("hims_patient.q_encounters", "schema_drift")]
    assert again.passed
