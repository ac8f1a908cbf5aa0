"""The lake end to end on the real local FerretDB: Dagster assets → staged → published Parquet.

FerretDB v1 cannot store Decimal128 (its SQLite backend rejects the type and drops the connection),
so Decimal128 is covered by the harmonization unit tests, not here. A small dedicated config (three collections in a scratch database of env1) keeps these fast and
independent of the synthetic HIMS data; the seeded-data tests live in test_lake_seeded.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bson import ObjectId

from kx_lake.builders.resources import load_project
from kx_lake.builders.sync_runner import run_sync
from kx_lake_tests.fixtures.scratch_lake import scratch_lake
from kx_lake.lib.harmonize import check_round_trip
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.storage import LakeStorage

pytestmark = pytest.mark.integration

ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
t_bills,hims_billing,updated_at,date,facility_id,true
t_vitals,hims_patient,recorded_ms,epoch_ms,facility_id;ward_id,true
t_broken,hims_admin,updated_at,date,tenant_id,true
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """(project, definitions, env1 client, storage) with the lake on local disk or on SeaweedFS S3."""
    root = scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS, request.param)
    client = local_source.client("env1")
    for db, coll in (("hims_billing", "t_bills"), ("hims_patient", "t_vitals"), ("hims_admin", "t_broken")):
        client[db][coll].drop()
    from kx_lake.definitions import defs

    project = load_project()
    yield project, defs(), client, LakeStorage.from_root(root)
    for db, coll in (("hims_billing", "t_bills"), ("hims_patient", "t_vitals"), ("hims_admin", "t_broken")):
        client[db][coll].drop()


def sync(project, defs, first: date, last: date, names=("t_bills", "t_vitals", "t_broken")):
    group = SyncGroup("env1", first, last, tuple(project.collection(n) for n in names), False)
    return run_sync(defs, "sync_collections", [group], instance=dg.DagsterInstance.ephemeral())


def read_schema(storage: LakeStorage, path: str) -> pa.Schema:
    with storage.fs.open(path, "rb") as fh:
        return pq.read_schema(fh)


def assert_lossless(coll, storage, project, database: str, collection: str) -> None:
    """Every leaf of every source document is found in its lake row (harmonize.check_round_trip)."""
    spec = project.collection(collection)
    state = CollectionState.read(storage, "env1", database, collection)
    files = storage.list_partitions("env1", database, collection)
    table = pa.concat_tables(pq.read_table(p.path, filesystem=storage.fs) for p in files)
    index = {v: i for i, v in enumerate(table.column("_id").to_pylist())}
    docs = [dict(d) for d in coll.find()]
    for d in docs:
        for col in spec.partition_columns:
            d.pop(col, None)
    rows = table.take([index[str(d["_id"])] for d in docs])
    problems = check_round_trip(docs, rows, state.schema, tz=project.environment("env1").tz,
                                timestamp_column=spec.timestamp_column,
                                reserved_columns=("date", *spec.partition_columns))
    assert problems == []


BILLS = [
    {"_id": ObjectId("650000000000000000000001"), "updated_at": utc(2026, 1, 1, 20, 0), "facility_id": "F1",
     "amount": 1250.5, "items": ["consult", "xray"], "patient": {"name": "A", "age": 40}},
    {"_id": "BILL-2", "updated_at": utc(2026, 1, 1, 10, 0), "facility_id": "F2",
     "amount": "999", "items": [{"code": "LAB1", "qty": 2}], "patient": None, "phone": 9876543210123},
    {"_id": ObjectId("650000000000000000000003"), "updated_at": utc(2026, 1, 2, 3, 0), "facility_id": "F1",
     "amount": 15.25, "items": [], "extra": {"a": {"b": {"c": {"d": [1, 2]}}}}},
]


def test_sync_lands_partitions_losslessly_and_isolates_failures(lake) -> None:
    project, defs, client, storage = lake
    client.hims_billing.t_bills.insert_many([dict(d) for d in BILLS])
    client.hims_patient.t_vitals.insert_many([
        {"_id": i, "recorded_ms": int(utc(2026, 1, 2, 12, i).timestamp() * 1000), "facility_id": "F1",
         "ward_id": None if i == 0 else f"W{i % 2}", "pulse": 70 + i} for i in range(4)
    ])
    client.hims_admin.t_broken.insert_one({"_id": 1, "updated_at": utc(2026, 1, 2, 5, 0), "x": 1})

    summary = sync(project, defs, date(2026, 1, 1), date(2026, 1, 3))

    status = {r.collection: r for r in summary.results}
    assert status["t_bills"].ok and status["t_vitals"].ok
    assert not status["t_broken"].ok
    assert "none of the configured partition columns ['tenant_id']" in status["t_broken"].error

    parts = {(p.date.isoformat(), p.ids): p.rows for p in storage.list_partitions("env1", "hims_billing", "t_bills")}
    # 2026-01-01T20:00Z is 2026-01-02 01:30 IST: the IST day boundary decides the partition
    assert parts == {
        ("2026-01-01", (("facility_id", "F2"),)): 1,
        ("2026-01-02", (("facility_id", "F1"),)): 2,
    }
    vit = storage.list_partitions("env1", "hims_patient", "t_vitals")
    assert {p.ids: p.rows for p in vit} == {
        (("facility_id", "F1"), ("ward_id", None)): 1,  # null → __HIVE_DEFAULT_PARTITION__
        (("facility_id", "F1"), ("ward_id", "W0")): 1,
        (("facility_id", "F1"), ("ward_id", "W1")): 2,
    }
    for p in storage.list_partitions("env1", "hims_billing", "t_bills"):
        assert p.path.endswith("/part-00000.parquet")

    table = storage.read_table("env1", "hims_billing", "t_bills")
    rows = {r["_id"]: r for r in table.to_pylist()}
    first = rows["650000000000000000000001"]
    assert first["updated_at"] == datetime(2026, 1, 2, 1, 30)  # naive IST wall clock, ms precision
    schema = read_schema(storage, storage.list_partitions("env1", "hims_billing", "t_bills")[0].path)
    assert str(schema.field("updated_at").type) == "timestamp[ms]"
    assert "facility_id" not in schema.names and "date" not in schema.names
    assert_lossless(client.hims_billing.t_bills, storage, project, "hims_billing", "t_bills")
    # amount was double, string and double: one string column holding each value's canonical text
    assert {r["_id"]: r["amount"] for r in rows.values()} == {
        "650000000000000000000001": "1250.5", "BILL-2": "999", "650000000000000000000003": "15.25"}


def test_incremental_resync_is_idempotent_and_keeps_the_old_version_of_a_moved_document(lake) -> None:
    project, defs, client, storage = lake
    client.hims_billing.t_bills.insert_many([dict(d) for d in BILLS])
    sync(project, defs, date(2026, 1, 1), date(2026, 1, 3), names=("t_bills",))
    before = sorted((p.path, p.rows) for p in storage.list_partitions("env1", "hims_billing", "t_bills"))
    sync(project, defs, date(2026, 1, 1), date(2026, 1, 3), names=("t_bills",))
    assert sorted((p.path, p.rows) for p in storage.list_partitions("env1", "hims_billing", "t_bills")) == before

    # BILL-2 is modified on 2026-01-03: its new version lands in 2026-01-03, its old one stays in
    # 2026-01-01 as history (the lake keeps every version it has seen; _latest picks the newest)
    client.hims_billing.t_bills.update_one({"_id": "BILL-2"}, {"$set": {"updated_at": utc(2026, 1, 3, 6, 0), "status": "paid"}})
    sync(project, defs, date(2026, 1, 1), date(2026, 1, 3), names=("t_bills",))
    parts = {p.date.isoformat(): p.rows for p in storage.list_partitions("env1", "hims_billing", "t_bills")}
    assert parts == {"2026-01-01": 1, "2026-01-02": 2, "2026-01-03": 1}
    versions = sorted((r["_id"], r.get("status") or "") for r in storage.read_table("env1", "hims_billing", "t_bills").to_pylist()
                      if r["_id"] == "BILL-2")
    assert len(versions) == 2 and ("BILL-2", "paid") in versions
    state = storage.read_json("env1", "hims_billing/t_bills.json")
    assert state["watermark"] == "2026-01-03T06:00:00.000+00:00"


def test_widening_rewrites_older_partitions_to_the_table_schema(lake) -> None:
    project, defs, client, storage = lake
    client.hims_billing.t_bills.insert_many([
        {"_id": 1, "updated_at": utc(2026, 1, 1, 6), "facility_id": "F1", "score": 5},
        {"_id": 2, "updated_at": utc(2026, 1, 2, 6), "facility_id": "F1", "score": 6},
    ])
    sync(project, defs, date(2026, 1, 1), date(2026, 1, 2), names=("t_bills",))
    paths = lambda: {p.date.isoformat(): p.path for p in storage.list_partitions("env1", "hims_billing", "t_bills")}  # noqa: E731
    mtimes = lambda: {d: storage.fs.info(p).get("mtime", storage.fs.info(p).get("LastModified")) for d, p in paths().items()}  # noqa: E731
    before = mtimes()

    # an added column alone: older files stay (read by name), their column types already match
    client.hims_billing.t_bills.insert_one({"_id": 3, "updated_at": utc(2026, 1, 3, 6), "facility_id": "F1",
                                            "score": 7, "new_field": [1]})
    assert sync(project, defs, date(2026, 1, 3), date(2026, 1, 3), names=("t_bills",)).results[0].ok
    assert {d: m for d, m in mtimes().items() if d in before} == before
    assert storage.read_json("env1", "hims_billing/t_bills.json")["schema_version"] == 2

    # a changed type (bigint → string): every older partition is rewritten to the table's types
    client.hims_billing.t_bills.insert_one({"_id": 4, "updated_at": utc(2026, 1, 4, 6), "facility_id": "F1",
                                            "score": "high"})
    assert sync(project, defs, date(2026, 1, 4), date(2026, 1, 4), names=("t_bills",)).results[0].ok
    state = CollectionState.read(storage, "env1", "hims_billing", "t_bills")
    table_schema = state.schema.to_arrow_schema()
    files = storage.list_partitions("env1", "hims_billing", "t_bills")
    assert len(files) == 4
    for p in files:
        file_schema = read_schema(storage, p.path).remove_metadata()
        assert file_schema == table_schema.remove_metadata(), p.path
    values = {r["_id"]: r["score"] for r in storage.read_table("env1", "hims_billing", "t_bills").to_pylist()}
    assert values == {"1": "5", "2": "6", "3": "7", "4": "high"}
    assert state.schema_version == 3


@pytest.mark.parametrize("lake", ["local"], indirect=True)
def test_zero_rows_with_newer_source_data_is_a_loud_error(lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """The classic silent failure (extraction filter of the wrong type) is caught by the guard."""
    project, defs, client, storage = lake
    coll = client.hims_patient.t_vitals
    coll.insert_one({"_id": 1, "recorded_ms": int(utc(2026, 1, 1, 6).timestamp() * 1000), "facility_id": "F1"})
    assert sync(project, defs, date(2026, 1, 1), date(2026, 1, 2), names=("t_vitals",)).results[0].ok
    coll.insert_one({"_id": 2, "recorded_ms": int(utc(2026, 1, 2, 6).timestamp() * 1000), "facility_id": "F1"})

    import kx_lake.lib.lake.scan as scan  # the extraction step both engines share

    def dates_only(column, window, bounds=None):  # a broken filter: only BSON dates, so epoch millis are missed
        return {column: {"$gte": window.start_utc, "$lt": window.end_utc}}

    monkeypatch.setattr(scan, "window_filter", dates_only)
    result = sync(project, defs, date(2026, 1, 1), date(2026, 1, 2), names=("t_vitals",)).results[0]
    assert not result.ok
    assert "WatermarkGuardError" in result.error and "newer than the watermark" in result.error
    state = storage.read_json("env1", "hims_patient/t_vitals.json")
    assert state["watermark"] == "2026-01-01T06:00:00.000+00:00"  # not advanced
    assert {p.rows for p in storage.list_partitions("env1", "hims_patient", "t_vitals")} == {1}  # untouched


@pytest.mark.parametrize("lake", ["local"], indirect=True)
def test_runs_are_recorded_per_partition_in_the_batching_instance(lake, tmp_path: Path, monkeypatch) -> None:
    """The CLI's instance (batched SQLite event writes) records every partition like stock Dagster."""
    from kx_lake.builders.dagster_home import ensure_dagster_home

    project, defs, client, storage = lake
    client.hims_billing.t_bills.insert_many([dict(d) for d in BILLS])
    home = ensure_dagster_home(tmp_path / "dagster")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        assert type(instance.event_log_storage).__name__ == "BatchingSqliteEventLogStorage"
        group = SyncGroup("env1", date(2026, 1, 1), date(2026, 1, 10), (project.collection("t_bills"),), False)
        summary = run_sync(defs, "sync_collections", [group], instance=instance)
        assert summary.results[0].ok
        key = dg.AssetKey(["hims_billing", "t_bills"])
        materialized = instance.get_materialized_partitions(key)
        assert materialized == {f"2026-01-{d:02d}|env1" for d in range(1, 11)}
        event = instance.get_latest_materialization_event(key)
        assert event.asset_materialization.metadata["rows"].value == 3
        assert instance.event_log_storage.batched_events >= 10  # through the batched branch, not the stock loop


@pytest.mark.parametrize("lake", ["local"], indirect=True)
def test_catalog_assets_refresh_the_dedup_view_after_a_sync(lake) -> None:
    """The `_latest` asset, materialized through Dagster, gives one row per _id with the newest values."""
    from kx_lake.lib.catalog import duckdb_catalog

    project, defs, client, storage = lake
    client.hims_billing.t_bills.insert_many([dict(d) for d in BILLS])
    sync(project, defs, date(2026, 1, 1), date(2026, 1, 3), names=("t_bills",))
    client.hims_billing.t_bills.update_one({"_id": "BILL-2"}, {"$set": {"updated_at": utc(2026, 1, 5, 6, 0), "status": "paid"}})
    sync(project, defs, date(2026, 1, 5), date(2026, 1, 5), names=("t_bills",))  # the old version stays on 01-01

    job = defs.resolve_job_def("refresh_catalog")
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey(["hims_billing", "t_bills_latest"])],
        run_config={"ops": {"catalog_hims_billing": {"config": {"envs": ["env1"]}}}},
    )
    assert result.success
    con = duckdb_catalog.connect(project, "env1")
    try:
        assert con.execute("select count(*) from kx_env1_hims_billing.t_bills").fetchone()[0] == 4
        rows = con.execute('select "_id", status from kx_env1_hims_billing.t_bills_latest order by 1').fetchall()
    finally:
        con.close()
    assert rows == [("650000000000000000000001", None), ("650000000000000000000003", None), ("BILL-2", "paid")]
