"""The reconcile pass on the real local FerretDB: deletions become tombstones (hidden from `_latest`, kept
in the history), the `keep` policy leaves them, a backdated write and a stale version are repaired
through the sync job, unplaceable documents count as rejected, and a second pass has nothing to do.
The clock is injected (fixed dates, never today)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest
from bson import ObjectId
from typer.testing import CliRunner

from kx_lake.builders.resources import load_project
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.catalog import duckdb_catalog
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.lake.reconcile import reconcile_env
from kx_lake.lib.lake.rejects import read_rejects
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

pytestmark = pytest.mark.integration

ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled,on_source_delete,\
timestamp_fallback
l_bills,hims_billing,updated_at,date,facility_id,true,,
l_payments,hims_billing,updated_at,date,,true,keep,
l_fallback,hims_billing,updated_at,date,,true,,objectid
"""
NAMES = ("l_bills", "l_payments", "l_fallback")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def lake(request: pytest.FixtureRequest, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS, getattr(request, "param", "local"))
    db = local_source.client("env1").hims_billing
    for name in NAMES:
        db[name].drop()
    from kx_lake.definitions import defs

    yield load_project(), defs(), db, LakeStorage.from_root(root), local_source.client("env1")
    for name in NAMES:
        db[name].drop()


def sync(project, definitions, groups: list[SyncGroup]) -> None:
    synced(definitions, groups)


def synced(definitions, groups: list[SyncGroup]) -> dg.DagsterInstance:
    """Run the sync job over `groups` (every collection must succeed); the instance that recorded it."""
    instance = dg.DagsterInstance.ephemeral()
    summary = run_sync(definitions, "sync_collections", groups, instance=instance)
    assert all(r.ok for r in summary.results), [r.error for r in summary.results]
    return instance


def fallback_deferred(instance: dg.DagsterInstance, name: str) -> int:
    """The run's count of timestamp_fallback documents placed on dates outside it (its metadata)."""
    mat = instance.get_latest_materialization_event(dg.AssetKey(["hims_billing", name])).asset_materialization
    return mat.metadata["fallback_deferred"].value


def full_sync(project, definitions, *names: str, last: date = date(2026, 1, 12)) -> None:
    sync(project, definitions, [SyncGroup("env1", date(2026, 1, 1), last, tuple(project.collection(n) for n in names),
                                          False)])


def reconcile(project, definitions, client, tmp_path: Path, names: list[str], at: datetime) -> dict:
    results = reconcile_env(
        client=client, project=project, env="env1", specs=[project.collection(n) for n in names],
        workdir=tmp_path / "work", repair=lambda groups: sync(project, definitions, groups),
        now_ms=lambda: int(at.timestamp() * 1000),
    )
    assert all(r.status == "ok" and r.error is None for r in results), [r.error for r in results]
    return {r.collection: r for r in results}


def catalog(project, names: list[str], sql: str) -> list[tuple]:
    duckdb_catalog.refresh(project, "env1", [project.collection(n) for n in names], views=[])
    con = duckdb_catalog.connect(project, "env1")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


COUNTS = ("source_documents", "latest_ids", "missing", "stale", "deleted", "tombstoned", "repaired", "rejected")


def counts(result) -> tuple:
    return tuple(getattr(result, k) for k in COUNTS)


@pytest.mark.parametrize("lake", ["local", "s3"], indirect=True)
def test_deletions_become_tombstones_hidden_from_latest_and_kept_in_history(lake, tmp_path: Path) -> None:
    project, definitions, db, storage, client = lake
    db.l_bills.insert_many([
        {"_id": "a", "updated_at": utc(2026, 1, 2, 6), "facility_id": "F1", "amount": 10},
        {"_id": "b", "updated_at": utc(2026, 1, 3, 6), "facility_id": "F2", "amount": 20},
        {"_id": "c", "updated_at": utc(2026, 1, 3, 7), "facility_id": "F1", "amount": 30},
    ])
    db.l_payments.insert_many([{"_id": "p1", "updated_at": utc(2026, 1, 2, 6)},
                               {"_id": "p2", "updated_at": utc(2026, 1, 2, 7)}])
    full_sync(project, definitions, "l_bills", "l_payments")
    db.l_bills.delete_one({"_id": "b"})
    db.l_payments.delete_one({"_id": "p2"})

    first = reconcile(project, definitions, client, tmp_path, ["l_bills", "l_payments"], utc(2026, 1, 10, 6))
    assert counts(first["l_bills"]) == (2, 3, 0, 0, 1, 1, 0, 0)
    assert counts(first["l_payments"]) == (1, 2, 0, 0, 1, 0, 0, 0)  # policy keep: counted, not tombstoned
    assert first["l_payments"].policy == "keep"

    latest = "select _id from kx_env1_hims_billing.{}_latest order by 1"
    assert catalog(project, ["l_bills", "l_payments"], latest.format("l_bills")) == [("a",), ("c",)]
    assert catalog(project, ["l_bills", "l_payments"], latest.format("l_payments")) == [("p1",), ("p2",)]
    history = catalog(project, ["l_bills"], "select _id, amount, coalesce(_kx_deleted, false), date, facility_id, "
                      "updated_at from kx_env1_hims_billing.l_bills where _id = 'b' order by updated_at")
    # timestamps are the lake's wall clock in Asia/Kolkata; the tombstone's is the detection time
    assert history == [("b", 20, False, "2026-01-03", "F2", datetime(2026, 1, 3, 11, 30)),
                       ("b", None, True, "2026-01-10", "F2", datetime(2026, 1, 10, 11, 30))]

    # nothing left to do; re-materializing every date (the tombstone's too) keeps the tombstone
    again = reconcile(project, definitions, client, tmp_path, ["l_bills", "l_payments"], utc(2026, 1, 10, 7))
    assert counts(again["l_bills"]) == (2, 2, 0, 0, 0, 0, 0, 0)
    assert counts(again["l_payments"]) == (1, 2, 0, 0, 1, 0, 0, 0)
    full_sync(project, definitions, "l_bills")
    assert catalog(project, ["l_bills"], latest.format("l_bills")) == [("a",), ("c",)]
    assert catalog(project, ["l_bills"], "select count(*) from kx_env1_hims_billing.l_bills where _id = 'b'") == [(2,)]

    # the document comes back, newer than its tombstone: stale, repaired, visible again
    db.l_bills.insert_one({"_id": "b", "updated_at": utc(2026, 1, 11, 6), "facility_id": "F2", "amount": 21})
    back = reconcile(project, definitions, client, tmp_path, ["l_bills"], utc(2026, 1, 12, 6))
    assert counts(back["l_bills"]) == (3, 2, 0, 1, 0, 0, 1, 0)
    assert back["l_bills"].repair_dates == ["2026-01-11"]
    assert catalog(project, ["l_bills"], "select _id, amount from kx_env1_hims_billing.l_bills_latest order by 1") == [
        ("a", 10), ("b", 21), ("c", 30)]


def test_backdated_and_stale_documents_are_repaired_and_rejects_counted(lake, tmp_path: Path) -> None:
    project, definitions, db, storage, client = lake
    db.l_bills.insert_many([
        {"_id": "a", "updated_at": utc(2026, 1, 2, 6), "facility_id": "F1", "amount": 10},
        {"_id": "b", "updated_at": utc(2026, 1, 4, 6), "facility_id": "F1", "amount": 20},
        {"_id": 1, "updated_at": utc(2026, 1, 4, 7), "facility_id": "F1", "amount": 1},
    ])
    full_sync(project, definitions, "l_bills", last=date(2026, 1, 8))
    # written after synced_until minus the look-back, with older timestamps: an incremental sync can't see them
    db.l_bills.insert_one({"_id": "late", "updated_at": utc(2026, 1, 2, 9), "facility_id": "F2", "amount": 5})
    db.l_bills.update_one({"_id": "a"}, {"$set": {"updated_at": utc(2026, 1, 5, 20), "amount": 11}})  # 01-06 IST
    db.l_bills.insert_one({"_id": "1", "updated_at": utc(2026, 1, 4, 8), "facility_id": "F1"})  # not the int 1
    db.l_bills.insert_one({"_id": "bad", "updated_at": "not a time", "facility_id": "F1"})

    first = reconcile(project, definitions, client, tmp_path, ["l_bills"], utc(2026, 1, 9, 6))
    assert counts(first["l_bills"]) == (6, 3, 2, 1, 0, 0, 3, 1)
    assert first["l_bills"].repair_dates == ["2026-01-02", "2026-01-04", "2026-01-06"]
    rows = catalog(project, ["l_bills"], "select _id, _kx_id_type, amount from kx_env1_hims_billing.l_bills_latest "
                                         "order by 1, 2")
    assert rows == [("1", "int", 1), ("1", "string", None), ("a", "string", 11), ("b", "string", 20),
                    ("late", "string", 5)]
    # the repair's sync swept the unplaceable document into kx_rejects; a second pass has nothing to do
    assert catalog(project, ["l_bills"], "select _id from kx_env1_lake.kx_rejects") == [("bad",)]
    second = reconcile(project, definitions, client, tmp_path, ["l_bills"], utc(2026, 1, 9, 7))
    assert counts(second["l_bills"]) == (6, 5, 0, 0, 0, 0, 0, 1)
    assert second["l_bills"].repair_dates == []


def reject_ids(storage: LakeStorage, collection: str) -> set[str]:
    return set(read_rejects(storage, "env1", "hims_billing", collection).column("_id").to_pylist())


def test_reconcile_clears_rejects_fixed_or_deleted_at_the_source(lake, tmp_path: Path) -> None:
    project, definitions, db, storage, client = lake
    db.l_bills.insert_many([
        {"_id": "a", "updated_at": utc(2026, 1, 2, 6), "facility_id": "F1"},
        {"_id": "fixme", "updated_at": "not a time", "facility_id": "F1"},
        {"_id": "dropme", "facility_id": "F2"},
        {"_id": "stays", "updated_at": True, "facility_id": "F2"},
    ])
    full_sync(project, definitions, "l_bills")
    assert reject_ids(storage, "l_bills") == {"fixme", "dropme", "stays"}
    db.l_bills.update_one({"_id": "fixme"}, {"$set": {"updated_at": utc(2026, 1, 3, 6)}})  # fixed at the source
    db.l_bills.delete_one({"_id": "dropme"})  # deleted at the source: no sync would ever see it again

    first = reconcile(project, definitions, client, tmp_path, ["l_bills"], utc(2026, 1, 10, 6))
    assert counts(first["l_bills"]) == (3, 1, 1, 0, 0, 0, 1, 1)  # fixme missing then repaired; stays rejected
    assert first["l_bills"].rejects_cleared == 2
    assert reject_ids(storage, "l_bills") == {"stays"}
    assert catalog(project, ["l_bills"], "select _id from kx_env1_lake.kx_rejects") == [("stays",)]
    assert catalog(project, ["l_bills"], "select _id from kx_env1_hims_billing.l_bills_latest order by 1") == [
        ("a",), ("fixme",)]

    db.l_bills.delete_one({"_id": "stays"})  # the last one: the rejects file goes
    second = reconcile(project, definitions, client, tmp_path, ["l_bills"], utc(2026, 1, 10, 7))
    assert (second["l_bills"].rejected, second["l_bills"].rejects_cleared) == (0, 1)
    assert len(read_rejects(storage, "env1", "hims_billing", "l_bills")) == 0
    third = reconcile(project, definitions, client, tmp_path, ["l_bills"], utc(2026, 1, 10, 8))
    assert counts(third["l_bills"]) == (2, 2, 0, 0, 0, 0, 0, 0) and third["l_bills"].rejects_cleared == 0


def test_timestamp_fallback_places_on_the_objectid_date_once_and_reconciles(lake, tmp_path: Path) -> None:
    """`timestamp_fallback = objectid`: a document with a missing or null timestamp lands on its ObjectId's
    date (the timestamp column stays null), is found again by every run's sweep but written only by runs
    covering that date — replacing its copy, never duplicating it — and does not move the watermark."""
    project, definitions, db, storage, client = lake
    no_ts = ObjectId.from_datetime(utc(2026, 1, 5, 20))  # 2026-01-06 01:30 in Asia/Kolkata
    null_ts = ObjectId.from_datetime(utc(2026, 1, 3, 6))
    text_ts = ObjectId.from_datetime(utc(2026, 1, 4, 6))
    db.l_fallback.insert_many([
        {"_id": no_ts, "amount": 1},
        {"_id": null_ts, "updated_at": None, "amount": 2},
        {"_id": "dated", "updated_at": utc(2026, 1, 2, 6), "amount": 3},
        {"_id": "text-id", "amount": 4},  # no ObjectId to take a time from: rejected
        {"_id": text_ts, "updated_at": "N/A", "amount": 5},  # the timestamp column cannot store it: rejected
    ])
    full_sync(project, definitions, "l_fallback", last=date(2026, 1, 8))
    table = "select _id, date, updated_at, amount from kx_env1_hims_billing.l_fallback{} order by 2"
    expected = [("dated", "2026-01-02", datetime(2026, 1, 2, 11, 30), 3), (str(null_ts), "2026-01-03", None, 2),
                (str(no_ts), "2026-01-06", None, 1)]
    assert catalog(project, ["l_fallback"], table.format("")) == expected
    assert reject_ids(storage, "l_fallback") == {"text-id", str(text_ts)}
    state = CollectionState.read(storage, "env1", "hims_billing", "l_fallback")
    assert state.watermark_ms == int(utc(2026, 1, 2, 6).timestamp() * 1000)  # the ObjectId times do not count

    # incremental runs: one covering the ObjectId's date replaces the copy (changed at the source, still
    # without a timestamp), one not covering it leaves it; never a second row
    db.l_fallback.update_one({"_id": no_ts}, {"$set": {"amount": 11}})
    covering = synced(definitions, [SyncGroup("env1", date(2026, 1, 6), date(2026, 1, 8),
                                          (project.collection("l_fallback"),), False)])
    after = synced(definitions, [SyncGroup("env1", date(2026, 1, 7), date(2026, 1, 8),
                                       (project.collection("l_fallback"),), False)])
    # never dropped unsaid: the run not covering its date counts it among the deferred ones
    assert fallback_deferred(after, "l_fallback") == fallback_deferred(covering, "l_fallback") + 1
    expected[2] = (str(no_ts), "2026-01-06", None, 11)
    assert catalog(project, ["l_fallback"], table.format("")) == expected
    assert catalog(project, ["l_fallback"], table.format("_latest")) == expected
    assert reject_ids(storage, "l_fallback") == {"text-id", str(text_ts)}

    # reconcile reads the null lake timestamp as the ObjectId time, as the source side: nothing stale or missing;
    # a document inserted with an old ObjectId and no timestamp, which no incremental run covers, is repaired
    late = ObjectId.from_datetime(utc(2026, 1, 4, 7))
    db.l_fallback.insert_one({"_id": late, "amount": 6})
    first = reconcile(project, definitions, client, tmp_path, ["l_fallback"], utc(2026, 1, 9, 6))
    assert counts(first["l_fallback"]) == (6, 3, 1, 0, 0, 0, 1, 2)
    assert first["l_fallback"].repair_dates == ["2026-01-04"]
    again = reconcile(project, definitions, client, tmp_path, ["l_fallback"], utc(2026, 1, 9, 7))
    assert counts(again["l_fallback"]) == (6, 4, 0, 0, 0, 0, 0, 2)
    assert catalog(project, ["l_fallback"], f"select date from kx_env1_hims_billing.l_fallback_latest "
                                            f"where _id = '{late}'") == [("2026-01-04",)]


def test_cli_runs_the_reconcile_job(lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, definitions, db, storage, client = lake
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    db.l_bills.insert_many([{"_id": "a", "updated_at": utc(2026, 1, 2, 6), "facility_id": "F1"},
                            {"_id": "b", "updated_at": utc(2026, 1, 2, 7), "facility_id": "F1"}])
    full_sync(project, definitions, "l_bills")
    db.l_bills.delete_one({"_id": "a"})
    db.l_bills.insert_one({"_id": "late", "updated_at": utc(2026, 1, 3, 6), "facility_id": "F2"})
    from kx_lake.cli import app

    result = CliRunner().invoke(app, ["reconcile", "--env", "env1", "--collections", "l_bills", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    [row] = out["collections"]
    assert {k: row[k] for k in (*COUNTS, "status", "repair_dates")} == {
        "source_documents": 2, "latest_ids": 2, "missing": 1, "stale": 0, "deleted": 1, "tombstoned": 1,
        "repaired": 1, "rejected": 0, "status": "ok", "repair_dates": ["2026-01-03"]}
    runs = dg.DagsterInstance.get().get_run_records()
    assert {r.dagster_run.job_name for r in runs} == {"reconcile_lake", "sync_collections"}


def test_reconcile_holds_the_environment_lease_waiting_for_a_sync_or_exiting_75(lake, tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch):
    """Reconcile and sync never overlap: reconcile takes the lease every sync takes, waits for a holder,
    gives up naming it (exit 75, nothing written); its repair syncs join its lease instead of waiting."""
    import os
    import threading
    from datetime import timedelta

    from kx_lake.cli import app
    from kx_lake.builders.reconcile_job import RECONCILE_JOB, run_config
    from kx_lake.builders import run_lease
    from kx_lake.builders.run_lease import LEASE_HOLDER_TAG
    from kx_lake.builders.sync_runner import step_error
    from kx_lake.lib.lake.lease import EnvironmentLease

    project, definitions, db, storage, client = lake
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    settings = Path(os.environ["KX_LAKE_CONFIG_DIR"]) / "operations.yaml"
    db.l_bills.insert_many([{"_id": "a", "updated_at": utc(2026, 1, 2, 6), "facility_id": "F1"},
                            {"_id": "b", "updated_at": utc(2026, 1, 2, 7), "facility_id": "F1"}])
    full_sync(project, definitions, "l_bills")
    db.l_bills.delete_one({"_id": "a"})
    db.l_bills.insert_one({"_id": "late", "updated_at": utc(2026, 1, 3, 6), "facility_id": "F2"})
    args = ["reconcile", "--env", "env1", "--collections", "l_bills", "--json"]

    settings.write_text("lease:\n  ttl_seconds: 30\n  wait_seconds: 1\n")
    sync_holder = EnvironmentLease(storage, "env1", "run-held-by-test", wait=timedelta(0))
    with sync_holder:
        busy = CliRunner().invoke(app, args)
        job = definitions.resolve_job_def(RECONCILE_JOB).execute_in_process(  # the schedule's path: no CLI
            run_config=run_config("env1", ["l_bills"]), instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert busy.exit_code == 75, busy.output
    assert "env1: the lake is being synced by run run-held-by-test (host " in busy.output
    assert "waiting up to 1s for the lake's lease" in busy.output
    assert not job.success
    [failure] = [e for e in job.all_events if e.event_type_value == "STEP_FAILURE"]
    assert step_error(failure.event_specific_data.error).startswith(
        "kx_lake.lib.lake.lease.LeaseHeldError: env1: the lake is being synced by run run-held-by-test (host ")
    assert "_kx_deleted" not in storage.read_table("env1", "hims_billing", "l_bills").column_names  # nothing written

    settings.write_text("lease:\n  ttl_seconds: 30\n  wait_seconds: 120\n")
    sync_holder = EnvironmentLease(storage, "env1", "run-held-by-test", wait=timedelta(0))
    sync_holder.__enter__()
    waiting = threading.Event()

    class HearsTheWait(run_lease.PrintingLog):  # the CLI's own notice, plus a signal to end the "sync"
        def info(self, msg: str) -> None:
            super().info(msg)
            waiting.set()

    monkeypatch.setattr(run_lease, "PrintingLog", HearsTheWait)
    ends = threading.Thread(target=lambda: (waiting.wait(300), sync_holder.__exit__(None, None, None)))
    ends.start()  # the sync ends once the reconcile is waiting for it
    waited = CliRunner().invoke(app, args)
    ends.join()
    assert waited.exit_code == 0, waited.output
    assert "waiting up to 120s for the lake's lease, held by run run-held-by-test" in waited.output
    [row] = json.loads(waited.stdout[waited.stdout.index("{"):])["collections"]
    assert (row["tombstoned"], row["repaired"], row["status"]) == (1, 1, "ok")
    runs = {r.dagster_run.job_name: r.dagster_run for r in dg.DagsterInstance.get().get_run_records()}
    assert runs["sync_collections"].tags[LEASE_HOLDER_TAG] == runs["reconcile_lake"].run_id
    assert storage.read_json("env1", "_lease.json") is None


LEAK = "repair refused: mongodb://user:S3cretPw@host:27017 key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_a_failing_repair_is_logged_and_reported_scrubbed(lake, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    import logging

    project, definitions, db, storage, client = lake
    db.l_bills.insert_one({"_id": "a", "updated_at": utc(2026, 1, 2, 6), "facility_id": "F1", "amount": 10})
    full_sync(project, definitions, "l_bills", last=date(2026, 1, 8))
    db.l_bills.insert_one({"_id": "late", "updated_at": utc(2026, 1, 2, 9), "facility_id": "F2", "amount": 5})

    def refuse(groups: list[SyncGroup]) -> None:  # the traceback shows this line: the secrets are not on it
        raise OSError(LEAK)

    with caplog.at_level(logging.ERROR, logger="kx_lake"):
        [result] = reconcile_env(client=client, project=project, env="env1", specs=[project.collection("l_bills")],
                                 workdir=tmp_path / "work", repair=refuse,
                                 now_ms=lambda: int(utc(2026, 1, 9, 6).timestamp() * 1000))
    said = caplog.text + "\n" + (result.error or "")
    assert "repair sync failed: OSError: repair refused: mongodb://user:***@host" in caplog.text
    assert result.error.startswith("repair failed: OSError: repair refused: mongodb://user:***@host")
    assert "S3cretPw" not in said and "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" not in said
