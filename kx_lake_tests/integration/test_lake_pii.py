"""pii_columns never reach the lake in clear: a seeded sync's Parquet files, spool and rejects hold
tokens, not the synthetic patients' names, phones, e-mails or national ids (real FerretDB).

The spool only exists while a sync runs (publication removes it), so a scan after a finished run
could not fail on it. The sync is therefore first run as `kx-lake sync` killed by SIGKILL once every
file is published and before the state is written (KX_LAKE_KILL_AT=before_state, lib/faults.py): its
spool, leaves and rejects spool stay on disk and are scanned — with a check that they really hold the
documents (their non-PII values are there). The Dagster event log is scanned too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from kx_lake.builders.resources import load_project
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.pii import TOKEN_PREFIX
from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.lake_faults import write_lease_settings
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
    home = local_source.settings.home
    write_lease_settings(tmp_path / "cfg")  # the killed run's lease is taken over seconds later
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    killed = subprocess.run(
        [str(Path(sys.executable).with_name("kx-lake")), "sync", "--env", "env1", "--dates", "2026-01-01..2026-01-03"],
        env={**os.environ, "KX_LAKE_KILL_AT": "before_state"}, capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr[-2000:]  # SIGKILL: nothing of it cleaned up
    spool = [p for p in (home / "staging").rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert {p.name for p in spool} >= {"spool.bson", "rejects.bson"}, spool  # the documents and the rejects
    assert any(b"Pune" in p.read_bytes() for p in spool if p.name != "rejects.bson")  # the documents are there
    assert any(b"P2" in p.read_bytes() for p in spool if p.name == "rejects.bson")  # and the reject
    for path in spool:
        data = path.read_bytes()
        assert not any(v.encode() in data for v in PII), path
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:
        [run] = instance.get_runs()
        killed_log = "\n".join(repr(e) for e in instance.all_logs(run.run_id))
    assert "p_patients" in killed_log and not any(v in killed_log for v in PII)

    from kx_lake.definitions import defs

    project = load_project()
    group = SyncGroup("env1", date(2026, 1, 1), date(2026, 1, 3), (project.collection("p_patients"),), False)
    instance = dg.DagsterInstance.ephemeral()
    summary = run_sync(defs(), "sync_collections", [group], instance=instance)
    assert [(r.ok, r.rows, r.rejected) for r in summary.results] == [(True, 1, 1)]
    log = "\n".join(repr(e) for run_id in summary.run_ids for e in instance.all_logs(run_id))
    assert "p_patients" in log and not any(v in log for v in PII)

    row = LakeStorage.from_root(root).read_table("env1", "hims_patient", "p_patients").to_pylist()[0]
    assert row["phone"].startswith(f"{TOKEN_PREFIX}:") and row["national_id"].startswith(f"{TOKEN_PREFIX}:")
    assert row["name"]["full"].startswith(f"{TOKEN_PREFIX}:") and row["name"]["given"] == "Asha"
    assert row["contacts"][0]["phone"].startswith(f"{TOKEN_PREFIX}:") and row["city"] == "Pune"
    # every file under the lake root and what is left of the staging area: no raw value, in any form
    scanned = 0
    for base in (Path(root), home / "staging"):
        for path in base.rglob("*") if base.exists() else []:
            if path.is_file():
                data = path.read_bytes()
                scanned += 1
                assert not any(v.encode() in data for v in PII), path
    assert scanned >= 3  # data file, rejects file, state
    coll.drop()
