"""Lossless sync on the real local FerretDB: nothing the source holds is skipped without being counted.

* Documents no partition can hold (no timestamp, null, another BSON type, text that is not ISO-8601,
  before the first partition date, in the future) go to the kx_rejects table with a reason, are counted
  in the run summary, and leave it once fixed at the source and synced.
* Timestamps in any encoding land: epoch seconds, ISO text without an offset (the env's timezone).
* A run over a later range than the collection has reached (a scheduler outage) publishes its dates but
  does not mark the gap as synced, so the next incremental plan starts before the gap; the warning naming
  env, collection and the gap's dates reaches the CLI output, the run summary and the Dagster log.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kx_lake.cli import app
from kx_lake.builders.resources import load_project
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.catalog import duckdb_catalog
from kx_lake.lib.lake.plan import SyncGroup, plan_sync
from kx_lake.lib.lake.rejects import read_rejects
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

pytestmark = pytest.mark.integration

ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
l_bills,hims_billing,updated_at,date,,true
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def lake(request: pytest.FixtureRequest, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS)
    coll = local_source.client("env1").hims_billing.l_bills
    coll.drop()
    from kx_lake.definitions import defs

    yield load_project(), defs(), coll, LakeStorage.from_root(root)
    coll.drop()


def sync(project, definitions, first: date, last: date, instance: dg.DagsterInstance | None = None):
    group = SyncGroup("env1", first, last, (project.collection("l_bills"),), False)
    summary = run_sync(definitions, "sync_collections", [group], instance=instance or dg.DagsterInstance.ephemeral())
    assert all(r.ok for r in summary.results), [r.error for r in summary.results]
    return summary


def result_run(instance: dg.DagsterInstance) -> str:
    [run] = instance.get_runs()
    return run.run_id


def lake_ids(storage: LakeStorage) -> list[str]:
    return sorted(storage.read_table("env1", "hims_billing", "l_bills").column("_id").to_pylist())


def test_unplaceable_documents_are_rejected_with_a_reason_and_counted(lake) -> None:
    project, definitions, coll, storage = lake
    coll.insert_many([
        {"_id": "ok-date", "updated_at": utc(2026, 1, 2, 6)},
        {"_id": "ok-seconds", "updated_at": int(utc(2026, 1, 2, 7).timestamp())},
        {"_id": "ok-naive-iso", "updated_at": "2026-01-02T10:00:00"},  # IST wall clock
        {"_id": "no-ts"},
        {"_id": "null-ts", "updated_at": None},
        {"_id": "bool-ts", "updated_at": True},
        {"_id": "object-ts", "updated_at": {"when": "yesterday"}},
        {"_id": "text-ts", "updated_at": "N/A"},
        {"_id": "too-old", "updated_at": utc(1970, 1, 2)},
        {"_id": "future", "updated_at": utc(2099, 1, 1)},
        {"_id": 7, "updated_at": None},
        {"_id": "7", "updated_at": utc(2026, 1, 2, 8)},
    ])
    summary = sync(project, definitions, date(2026, 1, 1), date(2026, 1, 3))
    [result] = summary.results
    assert (result.rows, result.rejected, summary.rejected) == (4, 8, 8)
    assert lake_ids(storage) == ["7", "ok-date", "ok-naive-iso", "ok-seconds"]
    table = storage.read_table("env1", "hims_billing", "l_bills")
    naive = dict(zip(table.column("_id").to_pylist(), table.column("updated_at").to_pylist()))["ok-naive-iso"]
    assert naive == datetime(2026, 1, 2, 10, 0)  # stored as IST wall clock, as given

    rejects = {(r["_id"], r["_kx_id_type"]): r for r in read_rejects(storage, "env1", "hims_billing", "l_bills").to_pylist()}
    assert set(rejects) == {("no-ts", "string"), ("null-ts", "string"), ("bool-ts", "string"), ("object-ts", "string"),
                            ("text-ts", "string"), ("too-old", "string"), ("future", "string"), ("7", "int")}
    assert "missing" in rejects[("no-ts", "string")]["reason"]
    assert "null" in rejects[("null-ts", "string")]["reason"]
    assert "boolean" in rejects[("bool-ts", "string")]["reason"]
    assert "not ISO-8601" in rejects[("text-ts", "string")]["reason"]
    assert "before the first partition date" in rejects[("too-old", "string")]["reason"]
    assert "in the future" in rejects[("future", "string")]["reason"]
    assert '"when":"yesterday"' in rejects[("object-ts", "string")]["document"]

    # `kx-lake catalog refresh` registers the rejects table through the job and lists it with its partitions
    shown = CliRunner().invoke(app, ["catalog", "refresh", "--env", "env1", "--collections", "l_bills"],
                               env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    [line] = [ln for ln in shown.stdout.splitlines() if "kx_env1_lake.kx_rejects" in ln]
    assert [c.strip() for c in line.split("│") if c.strip()] == ["table", "kx_env1_lake.kx_rejects", "created", "1 partition"]
    con = duckdb_catalog.connect(project, "env1")
    try:
        rows = con.execute("select collection, count(*) from kx_env1_lake.kx_rejects group by 1").fetchall()
    finally:
        con.close()
    assert rows == [("l_bills", 8)]

    # fixed at the source: the document lands and leaves the rejects table; the rest stay, first_seen kept
    coll.update_one({"_id": "no-ts"}, {"$set": {"updated_at": utc(2026, 1, 3, 6)}})
    again = sync(project, definitions, date(2026, 1, 1), date(2026, 1, 3))
    assert again.results[0].rejected == 7
    assert "no-ts" in lake_ids(storage)
    after = {(r["_id"], r["_kx_id_type"]): r for r in read_rejects(storage, "env1", "hims_billing", "l_bills").to_pylist()}
    assert ("no-ts", "string") not in after and len(after) == 7
    assert after[("text-ts", "string")]["first_seen"] == rejects[("text-ts", "string")]["first_seen"]


def test_an_outage_gap_is_published_but_never_marked_as_synced(lake) -> None:
    project, definitions, coll, storage = lake
    coll.insert_many([{"_id": f"d{day}", "updated_at": utc(2026, 1, day, 6)} for day in range(1, 7)])
    sync(project, definitions, project.partitions_start, date(2026, 1, 3))  # a full load up to the 3rd
    reached = CollectionState.read(storage, "env1", "hims_billing", "l_bills").synced_until_ms
    assert reached == int(datetime(2026, 1, 3, 18, 30, tzinfo=UTC).timestamp() * 1000)  # 01-04 00:00 IST

    # the scheduler was down on the 4th and 5th; a run of the 6th alone (`--dates`) publishes it, leaves the
    # gap and says so where a user looks: the CLI's output, the run summary (--json, the e-mail) and the Dagster log
    gap = "gap 2026-01-04..2026-01-05: synced only until 2026-01-03T18:30:00.000+00:00 but this run starts at 2026-01-06"
    runner = CliRunner()
    shown = runner.invoke(app, ["sync", "--env", "env1", "--collections", "l_bills", "--dates", "2026-01-06"],
                          env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    assert f"warning: env1/hims_billing.l_bills: {gap}" in shown.stdout
    assert "d6" in lake_ids(storage) and "d4" not in lake_ids(storage)
    assert CollectionState.read(storage, "env1", "hims_billing", "l_bills").synced_until_ms == reached
    instance = dg.DagsterInstance.ephemeral()
    [result] = sync(project, definitions, date(2026, 1, 6), date(2026, 1, 6), instance).results
    assert result.coverage_gap.startswith(gap) and "not advanced across the gap" in result.coverage_gap
    warnings = [e.user_message for e in instance.all_logs(result_run(instance)) if e.level == logging.WARNING]
    assert any(w.startswith(f"env1/hims_billing.l_bills: {gap}") for w in warnings), warnings
    assert CollectionState.read(storage, "env1", "hims_billing", "l_bills").synced_until_ms == reached
    [plan] = plan_sync(project, "env1", [project.collection("l_bills")], now=utc(2026, 1, 6, 12))
    assert (plan.first, plan.last) == (date(2026, 1, 3), date(2026, 1, 6))

    sync(project, definitions, plan.first, plan.last)
    assert lake_ids(storage) == [f"d{day}" for day in range(1, 7)]
    assert CollectionState.read(storage, "env1", "hims_billing", "l_bills").synced_until_ms > reached


def test_ids_that_render_alike_stay_distinct_documents(lake) -> None:
    """1 and '1', 1.5 and '1.5': four documents, four rows in _latest. (ObjectId('65a1…') next to the text
    '65a1…' is the same case, but FerretDB 1.24 refuses to store both — E11000 — so that pair is covered
    by test_lake_identity.py on the converter path; real MongoDB stores both.)"""
    project, definitions, coll, storage = lake
    coll.insert_many([{"_id": 1, "updated_at": utc(2026, 1, 2, 8), "v": "int"},
                      {"_id": "1", "updated_at": utc(2026, 1, 2, 9), "v": "text one"},
                      {"_id": 1.5, "updated_at": utc(2026, 1, 2, 10), "v": "double"},
                      {"_id": "1.5", "updated_at": utc(2026, 1, 2, 11), "v": "text one and a half"}])
    sync(project, definitions, project.partitions_start, date(2026, 1, 3))
    duckdb_catalog.refresh(project, "env1", [project.collection("l_bills")], views=[])
    con = duckdb_catalog.connect(project, "env1")
    try:
        rows = con.execute('select "_id", "_kx_id_type", v from kx_env1_hims_billing.l_bills_latest order by v').fetchall()
    finally:
        con.close()
    assert rows == [("1.5", "double", "double"), ("1", "int", "int"), ("1", "string", "text one"),
                    ("1.5", "string", "text one and a half")]


def test_the_lake_never_shrinks_because_the_source_did(lake) -> None:
    """Re-materializing merges: a purged document and a moved document's old version stay; a widening
    rewrites the older files from the files themselves (the purged document's date included)."""
    project, definitions, coll, storage = lake
    coll.insert_many([{"_id": "a", "updated_at": utc(2026, 1, 2, 6), "amount": 100},
                      {"_id": "b", "updated_at": utc(2026, 1, 3, 6), "amount": 200}])
    sync(project, definitions, project.partitions_start, date(2026, 1, 5))
    coll.delete_one({"_id": "b"})  # purged at the source (TTL, archival)
    coll.update_one({"_id": "a"}, {"$set": {"updated_at": utc(2026, 1, 4, 6), "amount": 150}})  # moves to the 4th
    coll.insert_one({"_id": "c", "updated_at": utc(2026, 1, 4, 7), "amount": "860.00"})  # amount widens to text
    sync(project, definitions, project.partitions_start, date(2026, 1, 5))  # every date re-materialized

    table = storage.read_table("env1", "hims_billing", "l_bills")
    rows = sorted((r["_id"], str(r["date"]), r["amount"]) for r in table.to_pylist())
    assert rows == [("a", "2026-01-02", "100"), ("a", "2026-01-04", "150"), ("b", "2026-01-03", "200"),
                    ("c", "2026-01-04", "860.00")]
    state = CollectionState.read(storage, "env1", "hims_billing", "l_bills")
    assert str(state.schema.get("amount")) == "string"
    for part in storage.list_partitions("env1", "hims_billing", "l_bills"):  # every file has the catalog's type
        with storage.fs.open(part.path.replace("file://", ""), "rb") as fh:
            assert str(pq.read_schema(fh).field("amount").type) == "string"

    duckdb_catalog.refresh(project, "env1", [project.collection("l_bills")], views=[])
    con = duckdb_catalog.connect(project, "env1")
    try:
        latest = con.execute('select "_id", amount from kx_env1_hims_billing.l_bills_latest order by 1').fetchall()
    finally:
        con.close()
    assert latest == [("a", "150"), ("b", "200"), ("c", "860.00")]

    # the same versions extracted again replace their copies: nothing doubles
    sync(project, definitions, project.partitions_start, date(2026, 1, 5))
    assert storage.read_table("env1", "hims_billing", "l_bills").num_rows == 4


def test_history_with_integral_doubles_survives_a_widening_to_text(lake) -> None:
    """A double column holding 100.0 (an int at the source, or a double) widens to text. Current versions
    come from the source ("100"); a history version only the lake holds keeps its exact value as the
    double's text ("100.0") instead of failing the collection or being dropped."""
    project, definitions, coll, storage = lake
    coll.insert_many([{"_id": "a", "updated_at": utc(2026, 1, 2, 6), "amount": 100.5},
                      {"_id": "b", "updated_at": utc(2026, 1, 2, 7), "amount": 100}])
    sync(project, definitions, project.partitions_start, date(2026, 1, 5))
    coll.update_one({"_id": "b"}, {"$set": {"updated_at": utc(2026, 1, 3, 6)}})  # b's old version: history
    coll.insert_one({"_id": "c", "updated_at": utc(2026, 1, 3, 7), "amount": "n/a"})  # amount widens to text
    sync(project, definitions, project.partitions_start, date(2026, 1, 5))
    rows = sorted((r["_id"], str(r["date"]), r["amount"])
                  for r in storage.read_table("env1", "hims_billing", "l_bills").to_pylist())
    assert rows == [("a", "2026-01-02", "100.5"), ("b", "2026-01-02", "100.0"), ("b", "2026-01-03", "100"),
                    ("c", "2026-01-03", "n/a")]
