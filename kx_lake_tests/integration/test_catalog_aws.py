"""Glue and crawler catalog modes end to end: a lake synced from the real local FerretDB onto
SeaweedFS S3, then the `refresh_catalog` Dagster job (the CLI's path) registering it in Glue and
creating the views on Athena — both served by moto's real server (botocore validates every request).

Endpoints are chosen the way a deployment would: botocore's per-service variables
(AWS_ENDPOINT_URL_S3 → SeaweedFS, AWS_ENDPOINT_URL_GLUE / _ATHENA → moto).

The data, by hand (UTC; each falls on the same IST date): bills B1 F1 01-01 · B2 F3 01-02 · B3 F1 01-02.
So the lake has partitions 01-01/F1, 01-02/F1, 01-02/F3. Then B2 moves to 01-05 and a new bill B4
carries its amount as text ("12.50"), so 01-05/F3 arrives (01-02/F3 keeps B2's old version as
history) and `amount` widens from double to string.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import bson
import dagster as dg
import pytest
import yaml
from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

from kx_lake.builders.catalog_runner import run_catalog_refresh
from kx_lake.builders.resources import load_project
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.catalog import aws_catalog
from kx_lake.lib.catalog.glue import GlueCatalog
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.lake.pipeline import storage_for
from kx_lake.lib.lake.rejects import RejectSpool, drop_rejects, publish_rejects
from kx_lake_tests.fixtures.aws_requests import RequestLog
from kx_lake_tests.fixtures.moto_server import MotoServer
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

pytestmark = pytest.mark.integration

ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
t_bills,hims_billing,updated_at,date,facility_id,true
"""
DB = "kx_env1_hims_billing"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


BILLS = [
    {"_id": "B1", "facility_id": "F1", "amount": 100.0, "updated_at": utc(2026, 1, 1, 4)},
    {"_id": "B2", "facility_id": "F3", "amount": 50.0, "updated_at": utc(2026, 1, 2, 4)},
    {"_id": "B3", "facility_id": "F1", "amount": 75.5, "updated_at": utc(2026, 1, 2, 5)},
]


def set_catalog_mode(mode: str) -> None:
    cfg = load_project().settings.config_dir / "environments.yaml"
    raw = yaml.safe_load(cfg.read_text())
    raw["environments"]["env1"]["catalog"] = mode
    cfg.write_text(yaml.safe_dump(raw))
    from kx_lake.builders import resources
    resources._load.cache_clear()  # the project is cached per Settings; this config file just changed


@pytest.fixture
def s3_lake(request: pytest.FixtureRequest, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            moto_server: MotoServer):
    root = scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS, "s3")
    monkeypatch.setenv("AWS_ENDPOINT_URL_GLUE", moto_server.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ATHENA", moto_server.endpoint_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", moto_server.region)
    client = local_source.client("env1")
    client.hims_billing.t_bills.drop()
    client.hims_billing.t_bills.insert_many([dict(d) for d in BILLS])
    from kx_lake.definitions import defs

    definitions = defs()
    instance = dg.DagsterInstance.ephemeral()

    def sync(first: date, last: date) -> None:
        project = load_project()
        group = SyncGroup("env1", first, last, (project.collection("t_bills"),), False)
        summary = run_sync(definitions, "sync_collections", [group], instance=instance)
        assert all(r.ok for r in summary.results), [r.error for r in summary.results]

    sync(date(2026, 1, 1), date(2026, 1, 2))
    yield root, client, definitions, instance, sync
    client.hims_billing.t_bills.drop()
    from kx_lake.builders import resources
    resources._load.cache_clear()


def glue_partitions(glue: Any, table: str) -> dict[tuple[str, ...], str]:
    parts = glue.get_partitions(DatabaseName=DB, TableName=table)["Partitions"]
    return {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for p in parts}


def athena_statements(athena: Any) -> list[str]:
    ids = athena.list_query_executions(WorkGroup="kx-lake-env1")["QueryExecutionIds"]
    return [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]


def test_glue_mode_registers_tables_partitions_and_views_through_the_job(s3_lake, moto_server: MotoServer) -> None:
    root, client, definitions, instance, sync = s3_lake
    set_catalog_mode("glue")
    glue, athena = moto_server.client("glue"), moto_server.client("athena")
    try:
        athena.create_work_group(Name="kx-lake-env1")
    except athena.exceptions.InvalidRequestException:
        pass  # another test of the session made it
    project = load_project()
    spec = project.collection("t_bills")

    done = run_catalog_refresh(definitions, "refresh_catalog", "env1", [spec], instance=instance)
    assert done.success, done.errors
    objects = {o.name: o for o in done.objects}
    assert objects[f"{DB}.t_bills"].status == "created"
    assert "partitions +3 updated 0 removed 0" in objects[f"{DB}.t_bills"].reason
    assert objects[f"{DB}.t_bills_latest"].status == "created"
    # the env's rejects table is registered by the same job: no document was rejected, so no partition
    rejects = glue.get_table(DatabaseName="kx_env1_lake", Name="kx_rejects")["Table"]
    assert rejects["StorageDescriptor"]["Location"] == f"{root}/env1/kx_rejects/"
    assert glue.get_partitions(DatabaseName="kx_env1_lake", TableName="kx_rejects")["Partitions"] == []

    table = glue.get_table(DatabaseName=DB, Name="t_bills")["Table"]
    columns = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
    assert columns["amount"] == "double" and columns["_id"] == "string"
    assert [k["Name"] for k in table["PartitionKeys"]] == ["date", "facility_id"]
    assert table["StorageDescriptor"]["Location"] == f"{root}/env1/hims_billing/t_bills/"
    assert set(glue_partitions(glue, "t_bills")) == {("2026-01-01", "F1"), ("2026-01-02", "F1"), ("2026-01-02", "F3")}
    assert glue_partitions(glue, "t_bills")[("2026-01-02", "F3")] == (
        f"{root}/env1/hims_billing/t_bills/date=2026-01-02/facility_id=F3/")
    [view_sql] = [q for q in athena_statements(athena) if "t_bills_latest" in q]
    assert view_sql.startswith(f"CREATE OR REPLACE VIEW {DB}.t_bills_latest AS")
    assert 'row_number() OVER (PARTITION BY "_id", "_kx_id_type" ORDER BY "updated_at" DESC' in view_sql

    # a repeated refresh changes nothing and duplicates nothing
    again = run_catalog_refresh(definitions, "refresh_catalog", "env1", [spec], instance=instance)
    assert "table unchanged; partitions +0 updated 0 removed 0" in {o.name: o for o in again.objects}[f"{DB}.t_bills"].reason

    # B2 moves to 01-05 (its old version stays in 01-02/F3 as history: the lake keeps every version),
    # B4 brings a text amount: the amount column widens, every partition restated
    client.hims_billing.t_bills.delete_one({"_id": "B2"})
    client.hims_billing.t_bills.insert_many([
        {"_id": "B2", "facility_id": "F3", "amount": 50.0, "updated_at": utc(2026, 1, 5, 4)},
        {"_id": "B4", "facility_id": "F1", "amount": "12.50", "updated_at": utc(2026, 1, 5, 5)},
    ])
    sync(date(2026, 1, 2), date(2026, 1, 5))
    third = run_catalog_refresh(definitions, "refresh_catalog", "env1", [spec], instance=instance)
    assert third.success, third.errors
    assert "table updated" in {o.name: o for o in third.objects}[f"{DB}.t_bills"].reason
    assert set(glue_partitions(glue, "t_bills")) == {("2026-01-01", "F1"), ("2026-01-02", "F1"), ("2026-01-02", "F3"),
                                                     ("2026-01-05", "F1"), ("2026-01-05", "F3")}
    table = glue.get_table(DatabaseName=DB, Name="t_bills")["Table"]
    assert {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}["amount"] == "string"
    for part in glue.get_partitions(DatabaseName=DB, TableName="t_bills")["Partitions"]:  # no schema mismatch
        assert part["StorageDescriptor"]["Columns"] == table["StorageDescriptor"]["Columns"]


def test_glue_mode_refuses_a_local_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request, local_source) -> None:
    scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS, "local")
    set_catalog_mode("glue")
    try:
        project = load_project()
        with pytest.raises(Exception, match=r"env1: catalog mode 'glue' registers s3:// locations.*lake root"):
            aws_catalog.register_tables(project, "env1", [project.collection("t_bills")], GlueCatalog(object()))
    finally:
        from kx_lake.builders import resources
        resources._load.cache_clear()


def test_crawler_mode_retargets_the_database_crawler_at_the_synced_collections(
    s3_lake, moto_server: MotoServer
) -> None:
    """moto 5.2 has no UpdateCrawler: the request is validated against botocore's model and answered
    locally; GetCrawler and StartCrawler reach moto."""
    root, _client, _defs, _instance, _sync = s3_lake
    set_catalog_mode("crawler")
    project = load_project()
    glue = moto_server.client("glue")
    name = "kx-lake-env1-hims_billing"
    try:
        glue.create_crawler(Name=name, Role="arn:aws:iam::123456789012:role/kx-lake-glue", DatabaseName=DB,
                            Targets={"S3Targets": [{"Path": "s3://old/place/"}]})
    except glue.exceptions.AlreadyExistsException:
        glue.stop_crawler(Name=name)
    sent: list[dict[str, Any]] = []
    shape = glue.meta.service_model.operation_model("UpdateCrawler").input_shape

    def record(params: dict[str, Any], **_: Any) -> None:
        validate_parameters(params, shape)
        sent.append(dict(params))

    glue.meta.events.register("before-parameter-build.glue.UpdateCrawler", record)
    glue.meta.events.register("before-call.glue.UpdateCrawler",
                              lambda **_: (AWSResponse("", 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}))
    done = aws_catalog.crawl_collections(project, "env1", [project.collection("t_bills")], GlueCatalog(glue))
    assert [(o.status, o.reason) for o in done] == [("created", f"crawler {name}")]
    assert sent == [{"Name": name, "Targets": {"S3Targets": [{"Path": f"{root}/env1/hims_billing/t_bills/"}]}}]
    assert glue.get_crawler(Name=name)["Crawler"]["State"] == "RUNNING"


def test_glue_mode_registers_the_rejects_table_and_a_partition_per_collection(
    s3_lake, moto_server: MotoServer, tmp_path: Path
) -> None:
    """kx_rejects in Glue: every request checked against botocore's model, the table typed as the
    DuckDB view is, one partition per collection with rejects, a cleared collection's pruned."""
    root, _client, _defs, _instance, _sync = s3_lake
    set_catalog_mode("glue")
    project = load_project()
    storage = storage_for(project, project.environment("env1"))
    glue = moto_server.client("glue")
    try:  # another test of the session (sharing moto) may have registered it over its own lake
        glue.delete_table(DatabaseName="kx_env1_lake", Name="kx_rejects")
    except glue.exceptions.EntityNotFoundException:
        pass
    spool = RejectSpool(tmp_path / "spool" / "bills.bson")
    for i in ("B7", "B8"):
        spool.append("updated_at: not a timestamp", bson.encode({"_id": i}), {"_id": i})
    publish_rejects(storage, "env1", "hims_billing", "t_bills", spool, landed=[], now=utc(2026, 1, 3))
    spool = RejectSpool(tmp_path / "spool" / "visits.bson")
    spool.append("no usable timestamp", bson.encode({"_id": "V1"}), {"_id": "V1"})
    publish_rejects(storage, "env1", "hims_clinical", "t_visits", spool, landed=[], now=utc(2026, 1, 3))

    log = RequestLog(glue)
    done = aws_catalog.register_tables(project, "env1", [project.collection("t_bills")], GlueCatalog(glue))
    assert ("kx_env1_lake.kx_rejects", "created", "table created; partitions +2 updated 0 removed 0; 2 partitions") in \
        [(o.name, o.status, o.reason) for o in done]
    [create] = [p for p in log.params("CreateTable") if p["TableInput"]["Name"] == "kx_rejects"]
    assert log.problems == []  # every request (CreateTable included) passed botocore's model
    table = glue.get_table(DatabaseName="kx_env1_lake", Name="kx_rejects")["Table"]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("env", "string"), ("_id", "string"), ("_kx_id_type", "string"), ("reason", "string"),
        ("document", "string"), ("first_seen", "timestamp"), ("last_seen", "timestamp")]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["database", "collection"] == \
        [k["Name"] for k in create["TableInput"]["PartitionKeys"]]
    parts = {tuple(p["Values"]): p["StorageDescriptor"]["Location"]
             for p in glue.get_partitions(DatabaseName="kx_env1_lake", TableName="kx_rejects")["Partitions"]}
    assert parts == {("hims_billing", "t_bills"): f"{root}/env1/kx_rejects/database=hims_billing/collection=t_bills/",
                     ("hims_clinical", "t_visits"): f"{root}/env1/kx_rejects/database=hims_clinical/collection=t_visits/"}

    drop_rejects(storage, "env1", "hims_clinical", "t_visits", [("V1", "string")])
    again = aws_catalog.register_rejects(project, "env1", GlueCatalog(glue))
    assert again.reason == "table unchanged; partitions +0 updated 0 removed 1; 1 partition"
    assert [p["Values"] for p in glue.get_partitions(DatabaseName="kx_env1_lake", TableName="kx_rejects")["Partitions"]] \
        == [["hims_billing", "t_bills"]]
