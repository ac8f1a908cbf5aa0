"""Data-quality checks through the DuckDB catalog backend: a sync's checks read only the dates it
touched, a full check reads everything, and tombstones and rejects enter the reconciliation.

A scratch collection q_bills (facility_id partitions) on the real local FerretDB, fixed dates (UTC
04:00, the same calendar date in IST): B1 F1 01-01 · B2 F2 01-02 · B3 F1 01-02 · B4 F1 01-04 · B5 F2
01-05. A full load (from the first partition) then the DuckDB catalog. What a check read is asserted
on the SQL it sent (a recording wrapper around the real backend) and on damage it must or must not see.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kx_lake.builders.reconcile_job import run_reconcile
from kx_lake.lib.catalog import duckdb_catalog
from kx_lake.lib.catalog.backend import DuckDbBackend
from kx_lake.lib.lake.rejects import read_rejects
from kx_lake.lib.ops import catalog_checks
from kx_lake_tests.fixtures.checks_lake import TABLE, TOUCHED, Lake, Recording, checks_lake, utc

pytestmark = pytest.mark.integration


@pytest.fixture
def lake(request, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    yield from checks_lake(request, local_source, tmp_path, monkeypatch)


def test_a_syncs_checks_cover_its_dates_and_the_check_job_all_dates(lake: Lake) -> None:
    lake.client.hims_billing.q_bills.update_one({"_id": "B4"}, {"$set": {"updated_at": utc(2026, 1, 5, 6)}})
    lake.client.hims_billing.q_bills.insert_one({"_id": "B6", "facility_id": "F1", "amount": 60.0,
                                                 "updated_at": utc(2026, 1, 5, 7)})
    checks = lake.sync(TOUCHED.first, TOUCHED.last)
    rec, uniq = checks["reconciliation"], checks["id_unique"]
    assert rec.passed and uniq.passed, (rec.description, uniq.description)
    assert rec.metadata["scope"] == "2026-01-04..2026-01-05"
    # B4 (moved to 01-05), B5, B6 in MongoDB's window; B4 (both versions), B5, B6 in the lake's dates
    assert rec.metadata["mongo_docs_in_window"] == 3 and rec.metadata["lake_ids_in_window"] == 3
    assert uniq.metadata["ids_in_dates"] == 3  # the _ids found in 01-04..01-05 only

    full = lake.check_run()
    assert full["reconciliation"].passed and full["reconciliation"].metadata["scope"] == "all dates"
    assert "6 ids in _latest = 6 documents in MongoDB" in full["reconciliation"].description
    assert full["id_unique"].metadata["latest_distinct_ids"] == 6


def test_a_scoped_check_reads_only_its_dates_and_a_full_check_sees_older_damage(lake: Lake) -> None:
    # damage outside the touched dates: 01-02/F1 (B3) stored twice, 01-01 (B1) lost
    [b3] = [p for p in lake.files("2026-01-02") if "F1" in str(p)]
    shutil.copy(b3, b3.with_name("part-00001.parquet"))
    for p in lake.files("2026-01-01"):
        p.unlink()
    client, state = lake.client, lake.state()
    con = duckdb_catalog.connect(lake.project, "env1")
    try:
        scoped = Recording(DuckDbBackend(lake.project, "env1", con))
        assert catalog_checks.id_unique(scoped, lake.env, lake.spec, state, TOUCHED).passed
        assert catalog_checks.reconciliation(client, scoped, lake.env, lake.spec, state, 0, TOUCHED).passed
        # what it read: a scan of 01-04 and 01-05 only — neither the table nor _latest (each binds every file)
        assert not [q for q in scoped.sql if re.search(re.escape(TABLE) + r"(?:_latest)?\b", q)], scoped.sql
        [(scan_sql,)] = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'kx_scan_q_bills'").fetchall()
        assert sorted(set(re.findall(r"date=([0-9-]+)/", scan_sql))) == ["2026-01-04", "2026-01-05"]

        full = DuckDbBackend(lake.project, "env1", con)
        dup = catalog_checks.id_unique(full, lake.env, lake.spec, state)
        assert not dup.passed and "stored more than once" in dup.description and "B3" in dup.description
        lost = catalog_checks.reconciliation(client, full, lake.env, lake.spec, state, 0)
        assert not lost.passed and lost.severity == "ERROR" and "missing from the lake" in lost.description

        # the same damage inside the touched dates is seen by the scoped checks
        [b5] = lake.files("2026-01-05")
        shutil.copy(b5, b5.with_name("part-00001.parquet"))
        assert not catalog_checks.id_unique(scoped, lake.env, lake.spec, state, TOUCHED).passed
        b5.unlink()
        b5.with_name("part-00001.parquet").unlink()
        gone = catalog_checks.reconciliation(client, scoped, lake.env, lake.spec, state, 0, TOUCHED)
        assert not gone.passed and "missing from the lake's dates 2026-01-04..2026-01-05" in gone.description
        assert gone.metadata["mongo_docs_in_window"] == 2 and gone.metadata["lake_ids_in_window"] == 1
    finally:
        con.close()


def test_tombstones_and_rejects_enter_the_reconciliation(lake: Lake) -> None:
    lake.client.hims_billing.q_bills.delete_one({"_id": "B2"})
    before = lake.check_run()["reconciliation"]
    assert not before.passed and before.severity == "WARN" and "not yet tombstoned" in before.description

    run_reconcile(lake.defs, "env1", ["q_bills"], instance=lake.instance)
    lake.refresh()
    after = lake.check_run()["reconciliation"]
    assert after.passed and "4 ids in _latest (1 tombstoned) = 4 documents in MongoDB" in after.description
    assert after.metadata["tombstoned_ids"] == 1

    lake.client.hims_billing.q_bills.insert_one({"_id": "N1", "facility_id": "F1", "amount": 1.0})  # no timestamp
    lake.full_sync()
    assert read_rejects(lake.storage, "env1", "hims_billing", "q_bills").num_rows == 1
    lake.refresh()
    rejected = lake.check_run()["reconciliation"]
    assert rejected.passed and "4 ids in _latest (1 tombstoned) + 1 rejected = 5 documents" in rejected.description
