"""The catalog-reading checks on the real Trino (the engine Athena v3 is): the same Athena SQL the
glue-mode checks send, executed, with the numbers, the run's-dates scope and the tombstones right.

The scratch q_bills lake of fixtures/checks_lake.py is registered in the session's Trino.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kx_lake.builders.reconcile_job import run_reconcile
from kx_lake.lib.ops import catalog_checks
from kx_lake_tests.fixtures.checks_lake import TABLE, TOUCHED, Lake, Recording, checks_lake

pytestmark = [pytest.mark.integration, pytest.mark.trino]


@pytest.fixture
def lake(request, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    yield from checks_lake(request, local_source, tmp_path, monkeypatch)


def test_checks_on_trino_count_right_scope_to_the_dates_and_see_tombstones(lake: Lake, trino_server) -> None:
    con = trino_server.connect()
    try:
        trino = trino_server.catalog(lake.project, "env1", con)
        trino.refresh([lake.spec], views=[])
        state, client, env, spec = lake.state(), lake.client, lake.env, lake.spec
        assert ("_id", "varchar") in trino.columns(f"{TABLE}_latest") and trino.columns(f"{TABLE}_absent") is None

        rec = catalog_checks.reconciliation(client, trino, env, spec, state, 0)
        assert rec.passed and "5 ids in _latest = 5 documents in MongoDB" in rec.description
        assert catalog_checks.id_unique(trino, env, spec, state).metadata["latest_distinct_ids"] == 5
        scoped = Recording(trino)
        window = catalog_checks.reconciliation(client, scoped, env, spec, state, 0, TOUCHED)
        assert window.passed and (window.metadata["mongo_docs_in_window"], window.metadata["lake_ids_in_window"]) == (2, 2)
        ids = catalog_checks.id_unique(scoped, env, spec, state, TOUCHED)
        assert ids.passed and ids.metadata["ids_in_dates"] == 2  # B4, B5
        scan = f"(SELECT * FROM {TABLE} WHERE \"date\" BETWEEN '2026-01-04' AND '2026-01-05')"
        assert not [q for q in scoped.sql if re.search(re.escape(TABLE) + r"(?:_latest)?\b", q.replace(scan, ""))]  # nor _latest

        # a version stored twice in an untouched date: only the full check reads it
        [b3] = [p for p in lake.files("2026-01-02") if "F1" in str(p)]
        shutil.copy(b3, b3.with_name("part-00001.parquet"))
        assert catalog_checks.id_unique(trino, env, spec, state, TOUCHED).passed
        dup = catalog_checks.id_unique(trino, env, spec, state)
        assert not dup.passed and "B3" in dup.description
        b3.with_name("part-00001.parquet").unlink()

        # deleted at the source: a WARN until reconcile writes the tombstone, then counted as tombstoned
        client.hims_billing.q_bills.delete_one({"_id": "B2"})
        gone = catalog_checks.reconciliation(client, trino, env, spec, state, 0)
        assert not gone.passed and gone.severity == "WARN" and "not yet tombstoned" in gone.description
        run_reconcile(lake.defs, "env1", ["q_bills"], instance=lake.instance)
        trino.refresh([lake.spec], views=[])  # the table gained _kx_deleted
        after = catalog_checks.reconciliation(client, trino, env, spec, lake.state(), 0)
        assert after.passed and "4 ids in _latest (1 tombstoned) = 4 documents" in after.description
    finally:
        con.close()
