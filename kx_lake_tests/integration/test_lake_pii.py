"""pii_columns never reach the lake in clear: a seeded sync's Parquet files, spool and rejects hold
tokens, not the synthetic patients' names, phones, e-mails or national ids (real FerretDB)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from kx_lake.builders.resources import load_project
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.pii import TOKEN_PREFIX
from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

pytestmark = pytest.mark.integration

ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled,pii_columns
p_patients,hims_patient,updated_at,date,,true,name.full;phone;contacts.phone;national_id
"""
PII = ["Asha Verma", "+91 98450 12345", "+91 99000 11111", "XXXX-XXXX-4321"]


def test_pii_columns_are_tokenized_before_anything_is_written(request, local_source, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    root = scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS)
    coll = local_source.client("env1").hims_patient.p_patients
    coll.drop()
    coll.insert_many([
        {"_id": "P1", "updated_at": datetime(2026, 1, 2, 6, tzinfo=UTC), "name": {"full": PII[0], "given": "Asha"},
         "phone": PII[1], "contacts": [{"rel": "spouse", "phone": PII[2]}], "national_id": PII[3], "city": "Pune"},
        {"_id": "P2", "updated_at": None, "phone": PII[1], "national_id": PII[3]},  # a reject: tokenized too
    ])
    from kx_lake.definitions import defs

    project = load_project()
    group = SyncGroup("env1", date(2026, 1, 1), date(2026, 1, 3), (project.collection("p_patients"),), False)
    summary = run_sync(defs(), "sync_collections", [group], instance=dg.DagsterInstance.ephemeral())
    assert [(r.ok, r.rows, r.rejected) for r in summary.results] == [(True, 1, 1)]

    row = LakeStorage.from_root(root).read_table("env1", "hims_patient", "p_patients").to_pylist()[0]
    assert row["phone"].startswith(f"{TOKEN_PREFIX}:") and row["national_id"].startswith(f"{TOKEN_PREFIX}:")
    assert row["name"]["full"].startswith(f"{TOKEN_PREFIX}:") and row["name"]["given"] == "Asha"
    assert row["contacts"][0]["phone"].startswith(f"{TOKEN_PREFIX}:") and row["city"] == "Pune"
    # every file under the lake root and the staging area: no raw value, in any form
    scanned = 0
    for base in (Path(root), local_source.settings.home / "staging"):
        for path in base.rglob("*") if base.exists() else []:
            if path.is_file():
                data = path.read_bytes()
                scanned += 1
                assert not any(v.encode() in data for v in PII), path
    assert scanned >= 3  # data file, rejects file, state
    coll.drop()
