"""The new-data sensor against the real local FerretDB: it requests exactly the collections (and the
dates) whose MongoDB data is past their stored watermark, and its cursor keeps it from asking twice.

Three scratch collections in env1, one per timestamp encoding, are synced first; then new documents
land in two of them. The requested runs are then executed as the daemon would (their tags and asset
selection), after which a sensor with no cursor at all finds nothing: the watermarks caught up.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from kx_lake.builders.resources import MongoSourceResource, ProjectResource, load_project
from kx_lake.builders.sensors import build_new_data_sensor
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.lake.pipeline import publish_staged, stage_collection, storage_for
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.ops.config import OperationsConfig
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

pytestmark = pytest.mark.integration

ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
s_bills,hims_billing,updated_at,date,,true
s_vitals,hims_patient,recorded_ms,epoch_ms,,true
s_notes,hims_admin,modified,iso_string,,true
"""
COLLS = (("hims_billing", "s_bills"), ("hims_patient", "s_vitals"), ("hims_admin", "s_notes"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


@pytest.fixture
def synced(request, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS)
    client = local_source.client("env1")
    for db, coll in COLLS:
        client[db][coll].drop()
    client.hims_billing.s_bills.insert_many([{"_id": i, "updated_at": utc(2026, 1, 1, 6, i)} for i in range(3)])
    client.hims_patient.s_vitals.insert_many([{"_id": i, "recorded_ms": ms(utc(2026, 1, 2, 6, i))} for i in range(3)])
    client.hims_admin.s_notes.insert_many([{"_id": i, "modified": f"2026-01-02T10:0{i}:00+05:30"} for i in range(3)])
    from kx_lake.definitions import defs

    project = load_project()
    definitions = defs()
    instance = dg.DagsterInstance.ephemeral()
    group = SyncGroup("env1", project.partitions_start, date(2026, 1, 3),  # a full load up to the 3rd
                      tuple(project.collection(c) for _, c in COLLS), True)
    summary = run_sync(definitions, "sync_collections", [group], instance=instance)
    assert all(r.ok for r in summary.results), [r.error for r in summary.results]
    yield client, definitions, instance
    for db, coll in COLLS:
        client[db][coll].drop()


NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)  # the sensor's clock: 17:30 IST on 2026-01-07


def evaluate(cursor: str | None, now: datetime = NOW):
    sensor = build_new_data_sensor(OperationsConfig(), "sync_collections", clock=lambda: now)
    project = ProjectResource()
    resources = {"kx_project": project, "mongo": MongoSourceResource(kx_project=project)}
    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:  # mongo clients close on exit
        return sensor(context), context.cursor


def test_no_new_data_no_run(synced) -> None:
    result, cursor = evaluate(None)
    assert isinstance(result, dg.SkipReason)
    assert "no data past the watermarks" in result.skip_message
    assert json.loads(cursor) == {}


def test_new_data_in_two_collections_requests_exactly_those_collections_from_where_they_reached(synced) -> None:
    client, definitions, instance = synced
    # s_bills: one new document on 2026-01-05 (IST); s_vitals: two, on 2026-01-04 and 2026-01-06 (IST);
    # s_notes: an ISO-text write *before* its watermark (a late, older value) is not new data.
    client.hims_billing.s_bills.insert_one({"_id": 10, "updated_at": utc(2026, 1, 5, 6)})
    client.hims_patient.s_vitals.insert_many([{"_id": 10, "recorded_ms": ms(utc(2026, 1, 4, 6))},
                                              {"_id": 11, "recorded_ms": ms(utc(2026, 1, 5, 20))}])  # 01-06 01:30 IST
    client.hims_admin.s_notes.insert_one({"_id": 10, "modified": "2026-01-02T09:00:00+05:30"})

    requests, cursor = evaluate(None)
    assert isinstance(requests, list)
    got = sorted(
        (tuple(k.to_user_string() for k in r.asset_selection), r.tags["dagster/asset_partition_range_start"],
         r.tags["dagster/asset_partition_range_end"]) for r in requests
    )
    # both reached 2026-01-04 00:00 IST (the end of the first sync's window): from a day before that
    # (the look-back) to the sensor's today, with no gap behind synced_until
    assert got == [
        (("hims_billing/s_bills", "hims_patient/s_vitals"), "2026-01-03|env1", "2026-01-07|env1"),
    ]
    assert all(r.tags["kx_lake/source"] == "sensor" and r.run_key for r in requests)
    assert json.loads(cursor) == {"env1/hims_billing.s_bills": ms(utc(2026, 1, 5, 6)),
                                  "env1/hims_patient.s_vitals": ms(utc(2026, 1, 5, 20))}

    # the cursor persists: the next tick (runs not finished yet) asks for nothing
    again, cursor2 = evaluate(cursor)
    assert isinstance(again, dg.SkipReason) and json.loads(cursor2) == json.loads(cursor)

    # run what was requested, as the daemon would; then even a cursor-less sensor finds nothing new
    job = definitions.resolve_job_def("sync_collections")
    for req in requests:
        res = job.execute_in_process(instance=instance, tags=req.tags, asset_selection=req.asset_selection,
                                     raise_on_error=False)
        assert res.success
    fresh, _ = evaluate(None)
    assert isinstance(fresh, dg.SkipReason)

    # more data later in one collection: only it is requested, past the cursor
    client.hims_billing.s_bills.insert_one({"_id": 11, "updated_at": utc(2026, 1, 7, 6)})
    later, _ = evaluate(cursor)
    assert [tuple(k.to_user_string() for k in r.asset_selection) for r in later] == [("hims_billing/s_bills",)]


def test_a_future_dated_document_does_not_blind_the_sensor(synced) -> None:
    client, _, _ = synced
    client.hims_billing.s_bills.insert_one({"_id": 20, "updated_at": utc(2099, 1, 1)})
    requests, cursor = evaluate(None)
    assert [tuple(k.to_user_string() for k in r.asset_selection) for r in requests] == [("hims_billing/s_bills",)]
    assert json.loads(cursor)["env1/hims_billing.s_bills"] == ms(NOW) + 10 * 60 * 1000  # capped, not 2099

    # an hour later a document written then arrives: still seen (a 2099 cursor would hide it until 2099)
    later = datetime(2026, 1, 7, 13, 0, tzinfo=UTC)
    client.hims_patient.s_vitals.insert_one({"_id": 20, "recorded_ms": ms(later)})
    client.hims_billing.s_bills.insert_one({"_id": 21, "updated_at": later})
    again, _ = evaluate(cursor, now=later)
    assert {k.to_user_string() for r in again for k in r.asset_selection} == {
        "hims_billing/s_bills", "hims_patient/s_vitals"}


def test_a_synced_document_stamped_later_today_does_not_blind_the_sensor(synced, tmp_path: Path) -> None:
    """A document stamped 23:30 IST on the sensor's today is synced (it is before tomorrow), and the stored
    watermark is hours ahead of the sensor's clock — as a state written before the cap is (a sync whose
    clock reads the next day writes exactly that: the cap is its own time + the skew); a document written
    a minute ago must still be requested. Both clocks are injected, never the wall clock."""
    client, _, _ = synced
    project = load_project()
    client.hims_billing.s_bills.insert_one({"_id": 30, "updated_at": utc(2026, 1, 7, 18, 0)})  # 23:30 IST
    staged = stage_collection(client=client, project=project, env="env1", spec=project.collection("s_bills"),
                              dates=[date(2026, 1, d) for d in range(3, 8)], staging_dir=tmp_path / "staging",
                              now_ms=lambda: ms(utc(2026, 1, 8, 6, 0)))
    publish_staged(project, staged)
    state = CollectionState.read(storage_for(project, project.environment("env1")), "env1", "hims_billing", "s_bills")
    assert state.watermark_ms == ms(utc(2026, 1, 7, 18, 0))  # the premise: a watermark later than NOW

    client.hims_billing.s_bills.insert_one({"_id": 31, "updated_at": utc(2026, 1, 7, 11, 59)})  # NOW − 1 min
    requests, cursor = evaluate(None)
    assert isinstance(requests, list), requests
    assert [tuple(k.to_user_string() for k in r.asset_selection) for r in requests] == [("hims_billing/s_bills",)]
    assert requests[0].tags["dagster/asset_partition_range_end"] == "2026-01-07|env1"
    # found again at the next look (nothing newer): the same run key, which Dagster does not request twice
    again, _ = evaluate(cursor)
    assert [r.run_key for r in again] == [r.run_key for r in requests]
    # a further write changes the key
    client.hims_billing.s_bills.insert_one({"_id": 32, "updated_at": utc(2026, 1, 7, 12, 0)})
    third, _ = evaluate(cursor)
    assert [r.run_key for r in third] != [r.run_key for r in requests]


def test_the_stored_watermark_is_capped_at_the_sync_time_plus_the_skew(synced, tmp_path: Path) -> None:
    """The same document stamped 23:30 IST, synced by a run whose clock reads 16:30 IST (NOW − 1 h): the
    watermark written is that time + 10 minutes, not 23:30 — a reader without the sensor's workaround
    (lag, the next sensor) is not carried hours ahead — and the sensor at NOW requests a write of a minute ago."""
    client, _, _ = synced
    project = load_project()
    client.hims_billing.s_bills.insert_one({"_id": 30, "updated_at": utc(2026, 1, 7, 18, 0)})  # 23:30 IST
    synced_at = datetime(2026, 1, 7, 11, 0, tzinfo=UTC)
    staged = stage_collection(client=client, project=project, env="env1", spec=project.collection("s_bills"),
                              dates=[date(2026, 1, d) for d in range(3, 8)], staging_dir=tmp_path / "staging",
                              now_ms=lambda: ms(synced_at))
    assert staged.max_ts_ms == ms(utc(2026, 1, 7, 18, 0))  # the premise: the document was taken in
    publish_staged(project, staged)
    state = CollectionState.read(storage_for(project, project.environment("env1")), "env1", "hims_billing", "s_bills")
    assert state.watermark_ms == ms(synced_at) + 10 * 60 * 1000

    client.hims_billing.s_bills.insert_one({"_id": 31, "updated_at": utc(2026, 1, 7, 11, 59)})  # NOW − 1 min
    requests, _ = evaluate(None)
    assert [tuple(k.to_user_string() for k in r.asset_selection) for r in requests] == [("hims_billing/s_bills",)]
    assert "@" + str(ms(utc(2026, 1, 7, 11, 59))) in requests[0].run_key  # the newest up to now + skew
