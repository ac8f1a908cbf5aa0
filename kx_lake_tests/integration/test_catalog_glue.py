"""GlueCatalog and AthenaRunner against moto's real server (HTTP, botocore validation and parsing).

What moto cannot do, and what we do instead (each case says so):
* UpdateCrawler is not implemented by moto 5.2 (the server raises NotImplementedError). The request is
  validated by botocore twice — by the client's own parameter validation, and explicitly with
  `botocore.validate.validate_parameters` against the UpdateCrawler input shape — then recorded and
  answered by a `before-call` hook instead of being sent.
* Athena executions only move QUEUED → RUNNING → SUCCEEDED (or CANCELLED when stopped); SQL is not
  executed and FAILED never happens. The FAILED case (with a StateChangeReason) uses botocore's
  Stubber, which also validates every request and canned response against the service model.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ParamValidationError
from botocore.stub import Stubber
from botocore.validate import validate_parameters

from kx_lake.lib.catalog import names
from kx_lake.lib.catalog.athena import AthenaQueryError, AthenaRunner
from kx_lake.lib.catalog.glue import (
    PARQUET_INPUT_FORMAT,
    PARQUET_OUTPUT_FORMAT,
    PARQUET_SERDE,
    GlueCatalog,
    GlueCatalogError,
    PartitionsResult,
    TableChange,
)
from kx_lake.lib.config import EnvironmentSpec
from kx_lake_tests.fixtures.fake_clock import FakeClock
from kx_lake_tests.fixtures.moto_server import MotoServer, unique_name

pytestmark = pytest.mark.integration

COLUMNS = [("_id", "string"), ("bill_no", "string"), ("total_amount", "bigint"), ("items", "array<struct<sku:string,qty:bigint>>")]
KEYS = ["date", "facility_id"]


def glue_database(prefix: str, database: str) -> str:
    """The shared naming rule (names.glue_database) for an environment with this Glue prefix."""
    env = EnvironmentSpec(name="env1", mongodb_uri_secret="KX_LAKE_ENV1_MONGODB_URI", glue_database_prefix=prefix,
                          athena_workgroup="kx_env1", athena_output_location="s3://kx-athena/env1/")
    return names.glue_database(env, database)


@pytest.fixture
def glue(moto_server: MotoServer) -> Any:
    return moto_server.client("glue")


@pytest.fixture
def catalog(glue: Any) -> GlueCatalog:
    return GlueCatalog(glue)


@pytest.fixture
def table(catalog: GlueCatalog) -> tuple[str, str, str]:
    """A fresh database (unique env prefix) with a `bills` table."""
    database = glue_database(unique_name("kx_env1").lower() + "_", "hims_billing")
    catalog.ensure_database(database, "env1 hims_billing")
    location = f"s3://kx-lake-test/{database}/bills"
    catalog.upsert_table(database, "bills", COLUMNS, KEYS, location)
    return database, "bills", location


def record_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """Every call's parameters for `operation` (the request still goes to the server)."""
    calls: list[dict[str, Any]] = []

    def handler(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    client.meta.events.register(f"before-parameter-build.{client.meta.service_model.service_id.hyphenize()}.{operation}",
                                handler)
    return calls


def sd_columns(descriptor: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["Name"], c["Type"]) for c in descriptor["Columns"]]


# Glue: databases and tables ------------------------------------------------------------------------


def test_database_created_once_and_read_back(catalog: GlueCatalog, glue: Any) -> None:
    name = glue_database("kx_env1_", unique_name("hims_billing").lower())
    assert catalog.ensure_database(name, "env1 billing") is True
    assert catalog.ensure_database(name, "env1 billing") is False
    db = glue.get_database(Name=name)["Database"]
    assert (db["Name"], db["Description"]) == (name, "env1 billing")


def test_table_created_and_read_back(catalog: GlueCatalog, glue: Any, table: tuple[str, str, str]) -> None:
    database, name, location = table
    got = glue.get_table(DatabaseName=database, Name=name)["Table"]
    sd = got["StorageDescriptor"]
    assert sd_columns(sd) == COLUMNS
    assert [(k["Name"], k["Type"]) for k in got["PartitionKeys"]] == [("date", "string"), ("facility_id", "string")]
    assert sd["Location"] == location + "/"
    assert sd["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
    assert (sd["InputFormat"], sd["OutputFormat"]) == (PARQUET_INPUT_FORMAT, PARQUET_OUTPUT_FORMAT)
    assert got["TableType"] == "EXTERNAL_TABLE"
    assert got["Parameters"]["classification"] == "parquet"
    assert catalog.upsert_table(database, name, COLUMNS, KEYS, location) is TableChange.UNCHANGED


def test_schema_change_updates_the_table(catalog: GlueCatalog, glue: Any, table: tuple[str, str, str]) -> None:
    database, name, location = table
    widened = [("_id", "string"), ("bill_no", "string"), ("total_amount", "double"),
               ("items", "array<struct<sku:string,qty:bigint>>"), ("payer", "string")]
    updates = record_calls(glue, "UpdateTable")
    assert catalog.upsert_table(database, name, widened, KEYS, location) is TableChange.UPDATED
    assert len(updates) == 1
    got = glue.get_table(DatabaseName=database, Name=name)["Table"]
    assert sd_columns(got["StorageDescriptor"]) == widened
    assert got["Parameters"]["classification"] == "parquet"
    assert catalog.upsert_table(database, name, widened, KEYS, location) is TableChange.UNCHANGED
    assert len(updates) == 1


def test_partition_key_change_is_refused(catalog: GlueCatalog, table: tuple[str, str, str]) -> None:
    database, name, location = table
    with pytest.raises(GlueCatalogError, match=rf"{database}\.bills: partition keys would change"):
        catalog.upsert_table(database, name, COLUMNS, ["date"], location)


# Glue: partitions ----------------------------------------------------------------------------------


def _partitions(location: str, days: int, facilities: int) -> list[tuple[list[str | None], str]]:
    out: list[tuple[list[str | None], str]] = []
    for d, f in itertools.product(range(1, days + 1), range(facilities)):
        day = f"2026-01-{d:02d}"
        fac = None if f == 0 else f"F{f:03d}"
        folder = "__HIVE_DEFAULT_PARTITION__" if fac is None else fac
        out.append(([day, fac], f"{location}/date={day}/facility_id={folder}"))
    return out


def test_partitions_created_in_chunks_read_back_and_never_duplicated(
    catalog: GlueCatalog, glue: Any, table: tuple[str, str, str]
) -> None:
    database, name, location = table
    wanted = _partitions(location, days=25, facilities=10)  # 250 → 3 BatchCreatePartition calls
    creates = record_calls(glue, "BatchCreatePartition")
    assert catalog.add_partitions(database, name, wanted) == PartitionsResult(created=250)
    assert [len(c["PartitionInputList"]) for c in creates] == [100, 100, 50]

    parts = catalog.get_partitions(database, name)
    assert len(parts) == 250
    by_values = {tuple(p["Values"]): p for p in parts}
    assert ("2026-01-01", "__HIVE_DEFAULT_PARTITION__") in by_values
    p = by_values[("2026-01-07", "F003")]
    assert p["StorageDescriptor"]["Location"] == f"{location}/date=2026-01-07/facility_id=F003/"
    assert sd_columns(p["StorageDescriptor"]) == COLUMNS
    assert p["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE

    # the same partitions again, plus one new: only the new one is created
    more = [*wanted, (["2026-02-01", "F001"], f"{location}/date=2026-02-01/facility_id=F001")]
    assert catalog.add_partitions(database, name, more) == PartitionsResult(created=1, existing=250)
    assert len(creates) == 4 and len(creates[-1]["PartitionInputList"]) == 1
    assert catalog.add_partitions(database, name, more) == PartitionsResult(existing=251)
    assert len(creates) == 4
    values = [tuple(p["Values"]) for p in glue.get_partitions(DatabaseName=database, TableName=name)["Partitions"]]
    assert len(values) == len(set(values)) == 251


def test_widened_schema_reaches_the_partitions(catalog: GlueCatalog, glue: Any, table: tuple[str, str, str]) -> None:
    database, name, location = table
    catalog.add_partitions(database, name, _partitions(location, days=3, facilities=2))
    widened = [(n, "double" if n == "total_amount" else t) for n, t in COLUMNS]
    catalog.upsert_table(database, name, widened, KEYS, location)
    assert catalog.refresh_partitions(database, name) == 6
    assert all(sd_columns(p["StorageDescriptor"]) == widened for p in catalog.get_partitions(database, name))
    assert catalog.refresh_partitions(database, name) == 0
    # re-adding a partition with a new location updates it instead of duplicating it
    moved = (["2026-01-01", "F001"], f"{location}-v2/date=2026-01-01/facility_id=F001")
    assert catalog.add_partitions(database, name, [moved]) == PartitionsResult(updated=1)
    got = glue.get_partition(DatabaseName=database, TableName=name, PartitionValues=["2026-01-01", "F001"])
    assert got["Partition"]["StorageDescriptor"]["Location"] == moved[1] + "/"
    assert len(catalog.get_partitions(database, name)) == 6


def test_partition_errors_name_the_table_and_partition(catalog: GlueCatalog, table: tuple[str, str, str]) -> None:
    database, name, location = table
    with pytest.raises(GlueCatalogError, match=rf"{database}\.bills partition \['2026-01-01'\]: 1 values"):
        catalog.add_partitions(database, name, [(["2026-01-01"], f"{location}/date=2026-01-01")])
    with pytest.raises(GlueCatalogError, match=r"partition date=2026-01-01/facility_id=F1: location must be s3://"):
        catalog.add_partitions(database, name, [(["2026-01-01", "F1"], "/tmp/lake/date=2026-01-01")])
    with pytest.raises(GlueCatalogError, match=rf"{database}\.missing: table not found"):
        catalog.add_partitions(database, "missing", [(["2026-01-01", "F1"], f"{location}/x")])


def test_batch_create_errors_are_surfaced(glue: Any, table: tuple[str, str, str]) -> None:
    """A per-partition error other than AlreadyExists (moto only produces that one): Stubber."""
    database, name, location = table
    real = GlueCatalog(glue).get_table(database, name)
    stubbed = GlueCatalog(glue)
    with Stubber(glue) as stub:
        stub.add_response("get_table", {"Table": real}, {"DatabaseName": database, "Name": name})
        stub.add_response("batch_get_partition", {"Partitions": []})
        stub.add_response("batch_create_partition", {"Errors": [{
            "PartitionValues": ["2026-01-01", "F1"],
            "ErrorDetail": {"ErrorCode": "InvalidInputException", "ErrorMessage": "bad location"},
        }]})
        with pytest.raises(GlueCatalogError, match=rf"{database}\.bills: 1 partition\(s\) not created: "
                                                   r"date=2026-01-01/facility_id=F1: InvalidInputException bad location"):
            stubbed.add_partitions(database, name, [(["2026-01-01", "F1"], f"{location}/date=2026-01-01/facility_id=F1")])
        stub.assert_no_pending_responses()


# Glue: crawler mode --------------------------------------------------------------------------------


@pytest.fixture
def crawler_requests(glue: Any) -> Iterator[list[dict[str, Any]]]:
    """UpdateCrawler requests, validated by botocore and answered locally (moto does not implement it)."""
    recorded: list[dict[str, Any]] = []
    shape = glue.meta.service_model.operation_model("UpdateCrawler").input_shape

    def build(params: dict[str, Any], **_: Any) -> None:
        validate_parameters(params, shape)  # raises ParamValidationError on a malformed request
        recorded.append(dict(params))

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("", 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    glue.meta.events.register("before-parameter-build.glue.UpdateCrawler", build)
    glue.meta.events.register("before-call.glue.UpdateCrawler", answer)
    yield recorded


def test_crawler_mode_retargets_and_starts(
    catalog: GlueCatalog, glue: Any, crawler_requests: list[dict[str, Any]]
) -> None:
    name = unique_name("kx_env1_crawler")
    glue.create_crawler(
        Name=name, Role="arn:aws:iam::123456789012:role/kx-lake-glue", DatabaseName="kx_env1_hims_billing",
        Targets={"S3Targets": [{"Path": "s3://kx-lake/env1/hims_billing/old/"}],
                 "JdbcTargets": [{"ConnectionName": "legacy", "Path": "db/%"}]},
    )
    succeeded = ["s3://kx-lake/env1/hims_billing/bills", "s3://kx-lake/env1/hims_billing/payments/"]
    request = catalog.crawl(name, succeeded)
    assert crawler_requests == [request]
    assert request == {
        "Name": name,
        "Targets": {
            "JdbcTargets": [{"ConnectionName": "legacy", "Path": "db/%"}],
            "S3Targets": [{"Path": "s3://kx-lake/env1/hims_billing/bills/"},
                          {"Path": "s3://kx-lake/env1/hims_billing/payments/"}],
        },
    }
    assert glue.get_crawler(Name=name)["Crawler"]["State"] == "RUNNING"  # start_crawler reached moto
    with pytest.raises(ParamValidationError):  # the validation the hook relies on is real
        glue.update_crawler(Name=name, Targets={"S3Targets": [{"Path": 42}]})
    assert len(crawler_requests) == 1
    with pytest.raises(GlueCatalogError, match=f"crawler {name}: already running"):
        catalog.start_crawler(name)


def test_crawler_mode_without_successes_does_nothing(
    catalog: GlueCatalog, glue: Any, crawler_requests: list[dict[str, Any]]
) -> None:
    starts = record_calls(glue, "StartCrawler")
    assert catalog.crawl("kx_env1_crawler_unused", []) is None
    assert crawler_requests == [] and starts == []


def test_unknown_crawler_is_named(catalog: GlueCatalog) -> None:
    with pytest.raises(GlueCatalogError, match="crawler kx_nope: get_crawler failed"):
        catalog.update_crawler_targets("kx_nope", ["s3://b/t"])


# Athena --------------------------------------------------------------------------------------------


@pytest.fixture
def athena(moto_server: MotoServer) -> Any:
    client = moto_server.client("athena")
    try:
        client.create_work_group(Name="kx_env1", Configuration={"ResultConfiguration": {"OutputLocation": "s3://kx-athena/env1/"}})
    except ClientError as exc:  # the server lives for the session; another test created it
        assert "already exists" in str(exc)
    return client


@pytest.fixture
def stepwise_executions(moto_server: MotoServer) -> Iterator[None]:
    """Executions move one state per get_query_execution (QUEUED → RUNNING → SUCCEEDED)."""
    moto_server.set_transition("athena::execution", {"progression": "manual", "times": 1})
    yield
    moto_server.unset_transition("athena::execution")


def runner(athena: Any, clock: FakeClock, **kw: Any) -> AthenaRunner:
    return AthenaRunner(athena, "kx_env1", "s3://kx-athena/env1/", sleep=clock.sleep, clock=clock, **kw)


def test_run_polls_with_backoff_until_succeeded(athena: Any, stepwise_executions: None) -> None:
    clock = FakeClock()
    starts = record_calls(athena, "StartQueryExecution")
    polls = record_calls(athena, "GetQueryExecution")
    sql = "CREATE OR REPLACE VIEW bills_latest AS SELECT * FROM bills"
    execution_id = runner(athena, clock).run("kx_env1_hims_billing.bills_latest view", sql, "kx_env1_hims_billing")
    assert starts == [{
        "QueryString": sql, "WorkGroup": "kx_env1",
        "ResultConfiguration": {"OutputLocation": "s3://kx-athena/env1/"},
        "QueryExecutionContext": {"Database": "kx_env1_hims_billing", "Catalog": "AwsDataCatalog"},
    }]
    assert len(polls) == 2  # RUNNING, then SUCCEEDED
    assert clock.sleeps == [0.25]
    got = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    assert got["Status"]["State"] == "SUCCEEDED"
    assert (got["Query"], got["WorkGroup"]) == (sql, "kx_env1")
    assert got["QueryExecutionContext"]["Database"] == "kx_env1_hims_billing"


def test_results_drop_the_header_row(athena: Any, moto_server: MotoServer) -> None:
    def row(*values: str) -> dict[str, Any]:
        return {"Data": [{"VarCharValue": v} for v in values]}

    columns = [{"Name": n, "Type": "varchar"} for n in ("facility_id", "bills")]
    status = moto_server.post("/moto-api/static/athena/query-results", {
        "account_id": moto_server.account_id, "region": moto_server.region,
        "results": [{"rows": [row("facility_id", "bills"), row("F001", "12"), row("F002", "7")], "column_info": columns}],
    })
    assert status == 201
    r = runner(athena, FakeClock())
    execution_id = r.run("bills per facility", "SELECT facility_id, count(*) AS bills FROM bills GROUP BY 1")
    got = r.results(execution_id)
    assert got.columns == ["facility_id", "bills"]
    assert got.rows == [("F001", "12"), ("F002", "7")]


def test_cancelled_query_is_surfaced_with_its_name(athena: Any, stepwise_executions: None) -> None:
    r = runner(athena, FakeClock())
    execution_id = r.start("kx_env1 dashboard dataset bills_daily", "SELECT 1")
    athena.stop_query_execution(QueryExecutionId=execution_id)  # e.g. an operator in the console
    with pytest.raises(AthenaQueryError, match=r"athena kx_env1 dashboard dataset bills_daily \(.+\) CANCELLED") as err:
        r.wait("kx_env1 dashboard dataset bills_daily", execution_id)
    assert (err.value.state, err.value.execution_id) == ("CANCELLED", execution_id)


def test_timeout_stops_the_query(athena: Any, moto_server: MotoServer) -> None:
    moto_server.set_transition("athena::execution", {"progression": "manual", "times": 10_000})
    try:
        clock = FakeClock()
        r = runner(athena, clock, timeout_s=10.0, poll_max_s=2.0)
        execution_id = r.start("slow view", "SELECT 1")
        with pytest.raises(AthenaQueryError, match=r"athena slow view \(.+\): still QUEUED after 10 s; stopped"):
            r.wait("slow view", execution_id)
        assert max(clock.sleeps) == 2.0 and clock.now <= 10.0
        assert athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]["State"] == "CANCELLED"
    finally:
        moto_server.unset_transition("athena::execution")


def test_failed_query_is_surfaced_with_name_and_reason(athena: Any) -> None:
    """moto never fails an execution (it runs no SQL), so the FAILED answer comes from botocore's Stubber."""
    reason = "line 1:15: Table 'awsdatacatalog.kx_env1_hims_billing.bilz' does not exist"
    with Stubber(athena) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
        stub.add_response("get_query_execution", {"QueryExecution": {
            "QueryExecutionId": "q-1",
            "Status": {"State": "FAILED", "StateChangeReason": reason,
                       "AthenaError": {"ErrorCategory": 2, "ErrorType": 1006, "ErrorMessage": reason}},
        }}, {"QueryExecutionId": "q-1"})
        with pytest.raises(AthenaQueryError) as err:
            runner(athena, FakeClock()).run("kx_env1_hims_billing.bills_latest view", "SELECT * FROM bilz")
        stub.assert_no_pending_responses()
    assert str(err.value) == f"athena kx_env1_hims_billing.bills_latest view (q-1) FAILED: {reason}"
    assert (err.value.name, err.value.state, err.value.reason) == ("kx_env1_hims_billing.bills_latest view", "FAILED", reason)


def test_start_error_names_the_query(moto_server: MotoServer) -> None:
    client = moto_server.client("athena")
    with Stubber(client) as stub:
        stub.add_client_error("start_query_execution", "InvalidRequestException", "WorkGroup kx_env9 is not found")
        with pytest.raises(AthenaQueryError, match="athena bills_latest view \\(workgroup kx_env9\\): could not start"):
            AthenaRunner(client, "kx_env9", "s3://o/").run("bills_latest view", "SELECT 1")


