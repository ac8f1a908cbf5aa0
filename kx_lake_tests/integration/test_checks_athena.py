"""Data-quality checks in glue mode go to Athena, scoped to the dates a sync touched.

A lake synced from the real local FerretDB onto SeaweedFS S3, registered in Glue and Athena served by
moto's real server (as test_catalog_aws does). moto executes no SQL: every query "succeeds" with no
row. So what this proves is the request shape — the checks send their SQL to Athena (not to a DuckDB
file), each statement is valid Athena SQL (sqlglot's Athena parser), a sync's checks read the table
only through its date-partition predicate, and a check that got no answer says so (a WARN "could not
measure"), never a pass. That the same SQL computes the right numbers on the Athena engine is shown
on Trino (Athena engine v3), in test_checks_trino.py.

One thing Athena does that moto does not: CREATE VIEW registers the view in Glue (a VIRTUAL_VIEW
table). The test registers `q_bills_latest` in Glue itself, as Athena would have, so the checks find it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest
import sqlglot
import yaml

from kx_lake.builders.catalog_runner import run_catalog_refresh
from kx_lake.builders.checks import QUALITY_JOB
from kx_lake.builders.resources import load_project
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake_tests.fixtures.moto_server import MotoServer
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

pytestmark = pytest.mark.integration

ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
q_bills,hims_billing,updated_at,date,facility_id,true
"""
DB = "kx_env1_hims_billing"
WORKGROUP = "kx-lake-env1"
SCOPED = f"(SELECT * FROM {DB}.q_bills WHERE \"date\" BETWEEN '2026-01-04' AND '2026-01-05')"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def glue_mode() -> None:
    cfg = load_project().settings.config_dir / "environments.yaml"
    raw = yaml.safe_load(cfg.read_text())
    raw["environments"]["env1"]["catalog"] = "glue"
    cfg.write_text(yaml.safe_dump(raw))
    from kx_lake.builders import resources
    resources._load.cache_clear()  # the project is cached per Settings; this config file just changed


def statements(athena) -> dict[str, str]:
    out = {}
    for page in athena.get_paginator("list_query_executions").paginate(WorkGroup=WORKGROUP):
        for i in page["QueryExecutionIds"]:
            out[i] = athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"]
    return out


def evaluations(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[bool, str, str]]:
    out = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        ev = entry.dagster_event.event_specific_data
        out[ev.check_name] = (bool(ev.passed), ev.severity.value, ev.description or "")
    return out


@pytest.fixture
def glue_lake(request, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_server: MotoServer):
    scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS, "s3")
    for key in ("GLUE", "ATHENA"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{key}", moto_server.endpoint_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", moto_server.region)
    glue_mode()
    athena = moto_server.client("athena")
    try:
        athena.create_work_group(Name=WORKGROUP)
    except athena.exceptions.InvalidRequestException:
        pass  # another test of the session made it
    client = local_source.client("env1")
    client.hims_billing.q_bills.drop()
    client.hims_billing.q_bills.insert_many([
        {"_id": "B1", "facility_id": "F1", "amount": 10.0, "updated_at": utc(2026, 1, 1, 4)},
        {"_id": "B4", "facility_id": "F1", "amount": 40.0, "updated_at": utc(2026, 1, 4, 4)},
        {"_id": "B5", "facility_id": "F2", "amount": 50.0, "updated_at": utc(2026, 1, 5, 4)}])
    yield client
    client.hims_billing.q_bills.drop()
    from kx_lake.builders import resources
    resources._load.cache_clear()


def test_glue_mode_checks_send_scoped_athena_sql_and_never_pass_without_an_answer(
        glue_lake, moto_server: MotoServer) -> None:
    from kx_lake.definitions import defs

    definitions, instance = defs(), dg.DagsterInstance.ephemeral()
    project = load_project()
    spec = project.collection("q_bills")

    def sync(first: date, last: date) -> str:
        group = SyncGroup("env1", first, last, (spec,), first == project.partitions_start)
        summary = run_sync(definitions, "sync_collections", [group], instance=instance)
        assert all(r.ok for r in summary.results), [r.error for r in summary.results]
        return summary.run_ids[0]

    sync(project.partitions_start, date(2026, 1, 5))
    done = run_catalog_refresh(definitions, "refresh_catalog", "env1", [spec], instance=instance)
    assert done.success, done.errors
    glue = moto_server.client("glue")
    if any(t["Name"] == "q_bills_latest" for t in glue.get_tables(DatabaseName=DB)["TableList"]):
        glue.delete_table(DatabaseName=DB, Name="q_bills_latest")  # another test of the session made it
    glue.create_table(DatabaseName=DB, TableInput={"Name": "q_bills_latest", "TableType": "VIRTUAL_VIEW"})

    athena = moto_server.client("athena")
    before = set(statements(athena))
    run_id = sync(date(2026, 1, 4), date(2026, 1, 5))
    sent = [q for i, q in statements(athena).items() if i not in before]
    checks = evaluations(instance, run_id)

    assert sent, "the checks sent nothing to Athena"
    for sql in sent:
        sqlglot.parse_one(sql, read="athena")  # valid Athena SQL, or this raises
    assert any(SCOPED in q for q in sent)
    # the table is read only through the run's date predicate, and _latest not at all
    assert not [q for q in sent if re.search(rf"{DB}\.q_bills(?:_latest)?\b", q.replace(SCOPED, ""))], sent
    for name in ("reconciliation", "id_unique"):
        passed, severity, description = checks[name]
        assert not passed and severity == "WARN" and "could not measure" in description and "no row" in description

    before = set(statements(athena))
    result = definitions.resolve_job_def(QUALITY_JOB).execute_in_process(instance=instance, tags={"kx_lake/env": "env1"})
    full = [q for i, q in statements(athena).items() if i not in before]
    assert f'SELECT DISTINCT "_id", "_kx_id_type" FROM {DB}.q_bills)' in " ".join(full)
    assert not any("BETWEEN" in q for q in full)
    assert not evaluations(instance, result.run_id)["reconciliation"][0]


def test_glue_mode_columns_come_from_the_glue_entry(moto_server: MotoServer, repo_project) -> None:
    """What QuickSight's deploy reads for a data set's column types in glue mode (AwsBackend.columns)."""
    from kx_lake.lib.catalog.backend import AwsBackend
    from kx_lake.lib.catalog.glue import GlueCatalog
    from kx_lake_tests.fixtures.moto_server import unique_name

    glue = moto_server.client("glue")
    database = unique_name("kx_env1_analytics")
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(DatabaseName=database, TableInput={
        "Name": "fin_revenue_daily", "TableType": "VIRTUAL_VIEW",
        "StorageDescriptor": {"Columns": [{"Name": "facility_id", "Type": "string"}, {"Name": "day", "Type": "date"},
                                          {"Name": "bills", "Type": "bigint"}]}})
    backend = AwsBackend(repo_project, "env1", GlueCatalog(glue), athena=None)
    assert backend.columns(f"{database}.fin_revenue_daily") == [("facility_id", "string"), ("day", "date"),
                                                                ("bills", "bigint")]
    assert backend.columns(f"{database}.absent") is None
