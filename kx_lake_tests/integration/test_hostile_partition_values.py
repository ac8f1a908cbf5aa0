"""Hostile partition values synced end to end: real FerretDB → Dagster sync → Parquet lake (local disk) →
DuckDB catalog (and the same lake in the self-hosted Trino and in Spark's partition discovery). `_latest` must show every document exactly once with its original value, and no
two distinct values may share a folder even as a case-insensitive, normalising filesystem sees names.
Two collections: one partitioned by a single id, one by two (a second, ordinary id beside it).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from kx_lake.builders.resources import load_project
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.catalog import duckdb_catalog, views
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.storage import LakeStorage
from kx_lake.lib.storage.segments import DEFAULT_PARTITION, HASH_SEPARATOR
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

pytestmark = pytest.mark.integration

ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
t_hostile,hims_billing,updated_at,date,facility_id,true
t_hostile2,hims_patient,updated_at,date,facility_id;ward_id,true
"""
MISSING = object()
VALUES: list[object] = [
    "a/b", "..", "../../etc", "a\x00b", "a\tb", "a=b", "100%", "%2F", "x" * 300, "\U0001F600" * 70, "", None,
    MISSING, DEFAULT_PARTITION, 5, "5", "F1", "f1", unicodedata.normalize("NFC", "café"),
    unicodedata.normalize("NFD", "café"), ["F1", "F2"], {"zone": "N", "no": 1}, "CHK-TRV-01",
]


def expected_text(value: object) -> str | None:
    if value is None or value is MISSING:
        return None
    if isinstance(value, list):
        return '["F1","F2"]'
    if isinstance(value, dict):
        return '{"no":1,"zone":"N"}'
    return str(value)


def documents() -> list[dict]:
    docs = []
    for i, value in enumerate(VALUES):
        doc = {"_id": f"D{i:02d}", "updated_at": datetime(2026, 1, 2, 6, i, tzinfo=UTC), "n": i}
        if value is not MISSING:
            doc["facility_id"] = value
        docs.append(doc)
    return docs


@pytest.fixture
def synced(request: pytest.FixtureRequest, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS, "local")
    client = local_source.client("env1")
    colls = (client.hims_billing.t_hostile, client.hims_patient.t_hostile2)
    for coll in colls:
        coll.drop()
    colls[0].insert_many(documents())
    colls[1].insert_many([{**d, "ward_id": "W1" if i % 2 else "w1"} for i, d in enumerate(documents())])
    from kx_lake.definitions import defs

    project = load_project()
    duckdb_catalog.catalog_path(project, "env1").unlink(missing_ok=True)
    group = SyncGroup("env1", date(2026, 1, 1), date(2026, 1, 3),
                      (project.collection("t_hostile"), project.collection("t_hostile2")), False)
    summary = run_sync(defs(), "sync_collections", [group], instance=dg.DagsterInstance.ephemeral())
    assert all(r.ok for r in summary.results), [r.error for r in summary.results]
    duckdb_catalog.refresh(project, "env1", views=[])
    yield project, client, LakeStorage.from_root(root)
    duckdb_catalog.catalog_path(project, "env1").unlink(missing_ok=True)
    for coll in colls:
        coll.drop()


def query(project, sql: str) -> list[tuple]:
    con = duckdb_catalog.connect(project, "env1")
    try:
        return views.execute_athena_sql_on_duckdb(con, sql).fetchall()
    finally:
        con.close()


def test_latest_shows_every_original_value_once(synced) -> None:
    project, client, _ = synced
    stored = {d["_id"]: d.get("facility_id", MISSING) for d in client.hims_billing.t_hostile.find()}
    assert len(stored) == len(VALUES)  # FerretDB kept every document
    rows = query(project, 'SELECT "_id", facility_id FROM kx_env1_hims_billing.t_hostile_latest')
    assert Counter(r[0] for r in rows) == Counter(list(stored))  # each document exactly once
    got = dict(rows)
    for i, value in enumerate(VALUES):
        assert got[f"D{i:02d}"] == expected_text(value), (i, value)
    rows2 = query(project, 'SELECT "_id", facility_id, ward_id FROM kx_env1_hims_patient.t_hostile2_latest')
    assert {r[0]: (r[1], r[2]) for r in rows2} == {
        f"D{i:02d}": (expected_text(v), "W1" if i % 2 else "w1") for i, v in enumerate(VALUES)}


def test_folders_are_distinct_safe_and_short(synced) -> None:
    project, _, storage = synced
    folders: dict[str, set[str | None]] = {}
    table_dir = Path(storage.table_dir("env1", "hims_billing", "t_hostile"))
    for leaf in table_dir.glob("date=*/facility_id=*"):
        assert len(leaf.name.encode()) <= 255 and leaf.name.isascii() and leaf.name.isprintable()
        key = unicodedata.normalize("NFC", leaf.name).casefold()
        ids = query(project, "SELECT DISTINCT coalesce(_kx_orig_facility_id, facility_id) FROM "
                    f"kx_env1_hims_billing.t_hostile WHERE facility_id IS NOT DISTINCT FROM "
                    f"{_sql_text(_folder_value(leaf.name))}")
        folders.setdefault(key, set()).update(v for (v,) in ids)
    # one folder per distinct text, except null and missing (both NULL) and 5 / "5" (the same text)
    assert all(len(s) == 1 for s in folders.values()), folders
    assert set().union(*folders.values()) == {expected_text(v) for v in VALUES}
    assert len(folders) == len(VALUES) - 1  # null and missing share the default partition
    plain = [k for k in folders if HASH_SEPARATOR not in k and k != f"facility_id={DEFAULT_PARTITION}".casefold()]
    assert sorted(plain) == sorted(f"facility_id={s}".casefold() for s in ("..", "100%25", "%252F", "5", "F1", "CHK-TRV-01"))


def _folder_value(name: str) -> str | None:
    from kx_lake.lib.storage import unescape_partition_value

    return unescape_partition_value(name.split("=", 1)[1])


def _sql_text(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _expected_rows() -> tuple[dict[str, str | None], dict[str, tuple[str | None, str]]]:
    one = {f"D{i:02d}": expected_text(v) for i, v in enumerate(VALUES)}
    two = {f"D{i:02d}": (expected_text(v), "W1" if i % 2 else "w1") for i, v in enumerate(VALUES)}
    return one, two


@pytest.mark.trino
@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_trino_latest_shows_every_original_value_once(synced, trino_server) -> None:
    """The same lake registered in the self-hosted Trino (Hive connector, partitions from the folders):
    `_latest` shows each document once with its original value, as DuckDB does."""
    project, _, _ = synced
    specs = [project.collection("t_hostile"), project.collection("t_hostile2")]
    con = trino_server.connect()
    try:
        trino = trino_server.catalog(project, "env1", con)
        done = trino.sync_tables(specs) + trino.sync_latest_views(specs)
        assert all(o.status == "created" for o in done), done
        rows = trino.query('SELECT "_id", facility_id FROM kx_env1_hims_billing.t_hostile_latest').rows
        rows2 = trino.query('SELECT "_id", facility_id, ward_id FROM kx_env1_hims_patient.t_hostile2_latest').rows
    finally:
        con.close()
    one, two = _expected_rows()
    assert sorted(r[0] for r in rows) == sorted(one)  # each document exactly once
    assert dict(rows) == one
    assert {r[0]: (r[1], r[2]) for r in rows2} == two


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_spark_partition_discovery_reads_every_original_value(synced, spark_session) -> None:
    """Spark reading the table folder with Hive partition discovery (partition values as text, as the
    catalog types them): `coalesce(_kx_orig_<column>, <column>)` is every document's original value."""
    _, _, storage = synced
    conf = "spark.sql.sources.partitionColumnTypeInference.enabled"
    before = spark_session.conf.get(conf)
    spark_session.conf.set(conf, "false")
    try:
        def read(collection: str, database: str, columns: str) -> list[tuple]:
            table_dir = storage.table_dir("env1", database, collection)
            frame = (spark_session.read.option("basePath", table_dir).option("mergeSchema", "true")
                     .parquet(table_dir))
            frame.createOrReplaceTempView("kx_hostile")
            return [tuple(r) for r in spark_session.sql(f'SELECT `_id`, {columns} FROM kx_hostile').collect()]

        rows = read("t_hostile", "hims_billing", "coalesce(_kx_orig_facility_id, facility_id)")
        rows2 = read("t_hostile2", "hims_patient",
                     "coalesce(_kx_orig_facility_id, facility_id), coalesce(_kx_orig_ward_id, ward_id)")
    finally:
        spark_session.conf.set(conf, before)
    one, two = _expected_rows()
    assert sorted(r[0] for r in rows) == sorted(one)  # one version each: every document exactly once
    assert dict(rows) == one
    assert {r[0]: (r[1], r[2]) for r in rows2} == two
