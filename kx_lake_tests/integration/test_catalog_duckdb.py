"""The embedded DuckDB catalog end to end: a tiny lake synced from the real local FerretDB (on local
disk and on SeaweedFS S3), `catalog refresh`, then hand-checked answers from the tables, the
`_latest` dedup views and sql/views/dim_facility.sql.

Scratch collections (t_facilities, t_encounters, t_bills) keep env1's seeded collections untouched;
dim_facility.sql is therefore run with its three inputs renamed to the scratch ones — the file's
logic is exercised as written.

The data, by hand (timestamps UTC; every one falls on the same date in IST):
  t_facilities  F1 "Apollo Care, Pune" · F2 "Sunrise Clinic" · F4 "  " (blank: no master name)
  t_encounters  E1 F1 "Apollo Care, Pune" 01-01, later updated to 01-03 (status closed) and only
                01-03 re-synced, so its old version stays in date=2026-01-01 ·
                E2 F1 "Apolo Care Pune" 01-01 · E3 F2 01-02 · E4 F3 "Lotus Hospital" 01-02 ·
                E5 F3 "Lotus Hosp." 01-03 04:00 · E6 F3 "Lotus Hospital" 01-03 05:00 ·
                an ObjectId _id without facility_id (→ __HIVE_DEFAULT_PARTITION__ → NULL)
  t_bills       B1 F1 "Apolo Care Pune" · B2 F3 "Lotus Hosp." · B3 F4 "Moon Hospital"
So: 7 distinct encounters but 8 table rows; F1 has two spellings and the master's wins though the
other is more frequent (2 vs 1); F3 has no master row and a 2–2 tie, won by the most recent
("Lotus Hospital", 01-03 05:00); F4's blank master name falls back to "Moon Hospital".
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest
from bson import ObjectId
from typer.testing import CliRunner

from kx_lake.cli import app
from kx_lake.builders.resources import load_project
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.catalog import duckdb_catalog, names, views
from kx_lake_tests.fixtures.scratch_lake import scratch_lake
from kx_lake.lib.lake.pipeline import table_ref
from kx_lake.lib.lake.plan import SyncGroup

pytestmark = pytest.mark.integration

ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
t_facilities,hims_masters,updated_at,date,,true
t_encounters,hims_patient,updated_at,date,facility_id,true
t_bills,hims_billing,updated_at,date,facility_id,true
"""
COLLECTIONS = (("hims_masters", "t_facilities"), ("hims_patient", "t_encounters"), ("hims_billing", "t_bills"))
ENC = "kx_env1_hims_patient.t_encounters"
DIM = "kx_env1_hims_masters.dim_facility"
OID = ObjectId("650000000000000000000007")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


FACILITIES = [
    {"_id": "F1", "name": "Apollo Care, Pune", "updated_at": utc(2026, 1, 1, 3)},
    {"_id": "F2", "name": "Sunrise Clinic", "updated_at": utc(2026, 1, 1, 3)},
    {"_id": "F4", "name": "  ", "updated_at": utc(2026, 1, 2, 3)},
]
ENCOUNTERS = [
    {"_id": "E1", "facility_id": "F1", "facility_name": "Apollo Care, Pune", "status": "open", "updated_at": utc(2026, 1, 1, 4)},
    {"_id": "E2", "facility_id": "F1", "facility_name": "Apolo Care Pune", "status": "open", "updated_at": utc(2026, 1, 1, 5)},
    {"_id": "E3", "facility_id": "F2", "facility_name": "Sunrise Clinic", "status": "open", "updated_at": utc(2026, 1, 2, 4)},
    {"_id": "E4", "facility_id": "F3", "facility_name": "Lotus Hospital", "status": "open", "updated_at": utc(2026, 1, 2, 5)},
    {"_id": "E5", "facility_id": "F3", "facility_name": "Lotus Hosp.", "status": "open", "updated_at": utc(2026, 1, 3, 4)},
    {"_id": "E6", "facility_id": "F3", "facility_name": "Lotus Hospital", "status": "open", "updated_at": utc(2026, 1, 3, 5)},
    {"_id": OID, "facility_name": "Walk-in", "status": "open", "updated_at": utc(2026, 1, 2, 6)},
]
BILLS = [
    {"_id": "B1", "facility_id": "F1", "facility_name": "Apolo Care Pune", "amount": 100.0, "updated_at": utc(2026, 1, 2, 4)},
    {"_id": "B2", "facility_id": "F3", "facility_name": "Lotus Hosp.", "amount": 50.0, "updated_at": utc(2026, 1, 2, 6)},
    {"_id": "B3", "facility_id": "F4", "facility_name": "Moon Hospital", "amount": 75.5, "updated_at": utc(2026, 1, 2, 7)},
]


def scratch_sql_dir(tmp_path: Path) -> Path:
    """sql/views/dim_facility.sql with its inputs renamed to the scratch collections."""
    text = (views.SQL_DIR / "views" / "dim_facility.sql").read_text()
    for coll in ("facilities", "encounters", "bills"):
        assert f".{coll}_latest" in text
        text = text.replace(f".{coll}_latest", f".t_{coll}_latest")
    out = tmp_path / "sql"
    (out / "views").mkdir(parents=True)
    (out / "views" / "dim_facility.sql").write_text(text)
    return out


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """(project, client, lake root): the tiny lake synced into a fresh root (local or S3) and its catalog refreshed."""
    root = scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS, request.param)
    client = local_source.client("env1")
    for db, coll in COLLECTIONS:
        client[db][coll].drop()
    from kx_lake.definitions import defs

    project = load_project()
    catalog_file = duckdb_catalog.catalog_path(project, "env1")
    catalog_file.unlink(missing_ok=True)
    client.hims_masters.t_facilities.insert_many([dict(d) for d in FACILITIES])
    client.hims_patient.t_encounters.insert_many([dict(d) for d in ENCOUNTERS])
    client.hims_billing.t_bills.insert_many([dict(d) for d in BILLS])
    definitions = defs()

    def sync(first: date, last: date, names_: tuple[str, ...]) -> None:
        group = SyncGroup("env1", first, last, tuple(project.collection(n) for n in names_), False)
        summary = run_sync(definitions, "sync_collections", [group], instance=dg.DagsterInstance.ephemeral())
        assert all(r.ok for r in summary.results), [r.error for r in summary.results]

    sync(date(2026, 1, 1), date(2026, 1, 3), ("t_facilities", "t_encounters", "t_bills"))
    client.hims_patient.t_encounters.update_one(
        {"_id": "E1"}, {"$set": {"status": "closed", "updated_at": utc(2026, 1, 3, 6)}})
    sync(date(2026, 1, 3), date(2026, 1, 3), ("t_encounters",))  # the old E1 stays in date=2026-01-01

    done = duckdb_catalog.refresh(project, "env1", views=views.load_sql_views(project, "env1", scratch_sql_dir(tmp_path)))
    assert [(o.kind, o.name, o.status) for o in done] == [
        ("table", "kx_env1_hims_masters.t_facilities", "created"),
        ("table", "kx_env1_hims_patient.t_encounters", "created"),
        ("table", "kx_env1_hims_billing.t_bills", "created"),
        ("table", "kx_env1_lake.kx_rejects", "created"),  # empty, typed: every document was placed
        ("latest", "kx_env1_hims_masters.t_facilities_latest", "created"),
        ("latest", "kx_env1_hims_patient.t_encounters_latest", "created"),
        ("latest", "kx_env1_hims_billing.t_bills_latest", "created"),
        ("sql", DIM, "created"),
    ]
    yield project, client, root
    catalog_file.unlink(missing_ok=True)
    for db, coll in COLLECTIONS:
        client[db][coll].drop()


def query(project, sql: str) -> list[tuple]:
    con = duckdb_catalog.connect(project, "env1")  # read-only, lake filesystem registered
    try:
        return views.execute_athena_sql_on_duckdb(con, sql).fetchall()
    finally:
        con.close()


def test_tables_and_latest_views_answer_hand_checked_counts(lake) -> None:
    project, client, root = lake
    distinct_ids = len({d["_id"] for d in client.hims_patient.t_encounters.find({}, {"_id": 1})})
    assert distinct_ids == 7
    [(view_sql,)] = query(project, "SELECT sql FROM duckdb_views() WHERE view_name = 't_encounters'")
    assert f"read_parquet('{root}/env1/hims_patient/t_encounters/**/*.parquet'" in view_sql  # local or s3://
    assert query(project, f"SELECT count(*) FROM {ENC}") == [(8,)]  # E1's old version is still on disk
    assert query(project, f"SELECT count(*) FROM {ENC}_latest") == [(distinct_ids,)]
    assert query(project, f"SELECT count(DISTINCT \"_id\") FROM {ENC}_latest") == [(distinct_ids,)]
    assert query(project, 'SELECT "status", "date", "facility_id" FROM ' + ENC + ' WHERE "_id" = \'E1\' ORDER BY "date"') == [
        ("open", "2026-01-01", "F1"), ("closed", "2026-01-03", "F1")]
    assert query(project, f"SELECT \"status\", \"date\", \"updated_at\" FROM {ENC}_latest WHERE \"_id\" = 'E1'") == [
        ("closed", "2026-01-03", datetime(2026, 1, 3, 11, 30))]  # naive IST wall clock
    # null ids read back as NULL partition values; the ObjectId is its 24 hex digits
    assert query(project, f"SELECT \"_id\" FROM {ENC}_latest WHERE facility_id IS NULL") == [(str(OID),)]
    assert query(project, "SELECT count(*), sum(amount) FROM kx_env1_hims_billing.t_bills_latest") == [(3, 225.5)]

    # exactly the catalog's columns: schema columns, (the table: the original values of disambiguated
    # partition folders, kx_lake.lib.storage.segments), then the partition keys as VARCHAR
    con = duckdb_catalog.connect(project, "env1")
    try:
        for name, extra in (("t_encounters", ["_kx_orig_facility_id"]), ("t_encounters_latest", [])):
            described = con.execute(f"DESCRIBE kx_env1_hims_patient.{name}").fetchall()
            schema = table_ref(project, "env1", project.collection("t_encounters")).schema
            assert [r[0] for r in described] == [*schema.names, *extra, "date", "facility_id"]
            assert [r[1] for r in described][-2:] == ["VARCHAR", "VARCHAR"]
    finally:
        con.close()


def test_every_generated_view_transpiles_and_runs(lake) -> None:
    project, _client, _root = lake
    env = project.environment("env1")
    for spec in project.enabled_collections:
        sql = views.latest_view_sql(env, spec, table_ref(project, "env1", spec).schema)
        [statement] = views.to_duckdb(sql)
        assert statement.startswith(f"CREATE OR REPLACE VIEW {names.glue_database(env, spec.database)}.")
        db = names.glue_database(env, spec.database)
        assert query(project, f"SELECT count(*) FROM {db}.{names.latest_view_name(spec)}")[0][0] > 0


def test_dim_facility_has_one_name_per_facility_and_prefers_the_master(lake) -> None:
    project, _client, _root = lake
    rows = query(project, f"SELECT facility_id, facility_name, name_source, observed_spellings FROM {DIM} ORDER BY 1")
    assert rows == [
        ("F1", "Apollo Care, Pune", "master", 2),
        ("F2", "Sunrise Clinic", "master", 1),
        ("F3", "Lotus Hospital", "observed", 2),
        ("F4", "Moon Hospital", "observed", 1),
    ]
    assert query(project, f"SELECT count(*) - count(DISTINCT facility_id) FROM {DIM}") == [(0,)]


def test_cli_query_and_catalog_refresh(lake) -> None:
    project, _client, _root = lake
    runner = CliRunner()
    result = runner.invoke(app, ["query", "--env", "env1", "--format", "json",
                                 f"SELECT \"_id\", status FROM {ENC}_latest WHERE \"_id\" IN ('E1', 'E2') ORDER BY 1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"_id": "E1", "status": "closed"}, {"_id": "E2", "status": "open"}]

    result = runner.invoke(app, ["query", "--env", "env1", "--format", "csv", f"SELECT count(*) AS n FROM {ENC}_latest"])
    assert result.exit_code == 0 and result.stdout.splitlines() == ["n", "7"]

    result = runner.invoke(app, ["query", "--env", "env1", "SELECT * FROM kx_env1_hims_patient.nope"])
    assert result.exit_code == 1 and "nope" in result.output

    # the CLI refresh runs the refresh_catalog job with the repo's sql/: dim_facility's real inputs
    # don't exist here → skipped. The rejects table comes back through the job too (dropped first)
    con = duckdb_catalog.connect(project, "env1", read_only=False)
    try:
        con.execute("DROP VIEW kx_env1_lake.kx_rejects")
    finally:
        con.close()
    result = runner.invoke(app, ["catalog", "refresh", "--env", "env1", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["success"] and out["errors"] == []
    status = {o["name"]: (o["status"], o["reason"]) for o in out["objects"]}
    assert status[f"{ENC}_latest"] == ("created", "")
    assert status[DIM][0] == "skipped" and "kx_env1_hims_masters.facilities_latest" in status[DIM][1]
    assert status["kx_env1_lake.kx_rejects"] == ("created", "0 partitions")  # listed, though no collection's
    result = runner.invoke(app, ["query", "--env", "env1", "--format", "csv", "select count(*) AS n from kx_rejects"])
    assert result.exit_code == 0 and result.stdout.splitlines() == ["n", "0"], result.output


def _row(output: str, name: str) -> list[str]:
    """The cells of the table row that starts with `name` (rich's box drawing stripped)."""
    [line] = [ln for ln in output.splitlines() if name in ln]
    return [c.strip() for c in line.replace("│", "|").replace("┃", "|").split("|") if c.strip()]


def test_cli_lake_ls_counts_files_and_rows_per_table_and_partition(lake) -> None:
    """`kx-lake lake ls`: E1's two versions are two rows in two files; the ObjectId's null facility is a leaf."""
    runner = CliRunner()
    result = runner.invoke(app, ["lake", "ls", "--env", "env1"])
    assert result.exit_code == 0, result.output
    assert _row(result.output, "hims_masters.t_fac")[1:3] == ["2", "3"]
    encounters = _row(result.output, "hims_patient.t_enc")
    assert encounters[1:3] == ["6", "8"] and encounters[4].startswith("2026-01-03T06:00:00") and encounters[5] == "1"
    assert _row(result.output, "hims_billing.t_bil")[1:3] == ["3", "3"]

    result = runner.invoke(app, ["lake", "ls", "--env", "env1", "--collection", "t_encounters"])
    assert result.exit_code == 0, result.output
    leaves = [_row(result.output, f"{d} │ facility_id={f} ")[:3] for d, f in
              [("2026-01-01", "F1"), ("2026-01-02", "F2"), ("2026-01-02", "F3"), ("2026-01-02", "None"),
               ("2026-01-03", "F1"), ("2026-01-03", "F3")]]
    assert [int(r[2]) for r in leaves] == [2, 1, 1, 1, 1, 2]

    result = runner.invoke(app, ["lake", "ls", "--env", "env9"])
    assert result.exit_code == 2 and "env9" in result.output and "env1, env2" in result.output
