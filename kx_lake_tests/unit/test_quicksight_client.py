"""QuickSightClient logic with botocore's Stubber: every request (and canned response) is validated
against the QuickSight service model, and the calls must come in exactly the expected order."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from kx_lake.lib.dashboards.quicksight_client import (
    IngestionFailedError,
    QuickSightClient,
    QuickSightError,
    permission_changes,
)

ACCOUNT = "111111111111"
SECRET = "kxSECRETdoNotLeak0123456789abcdefghijklmn"
OWNER = f"arn:aws:quicksight:ap-south-1:{ACCOUNT}:group/default/admins"


def _client() -> Any:
    session = boto3.Session(aws_access_key_id="AKIAKXTESTKEYID00000", aws_secret_access_key=SECRET,
                            region_name="ap-south-1")
    return session.client("quicksight")


def _qs(client: Any, clock: list[float]) -> QuickSightClient:
    def sleep(s: float) -> None:
        clock[0] += s

    return QuickSightClient(client, ACCOUNT, sleep=sleep, clock=lambda: clock[0], poll_initial_s=1, timeout_s=60)


def _data_set_request(name: str = "fin_revenue_daily") -> dict[str, Any]:
    return {
        "AwsAccountId": ACCOUNT, "DataSetId": f"kx-env1-{name}", "Name": name, "ImportMode": "SPICE",
        "PhysicalTableMap": {"t": {"CustomSql": {
            "DataSourceArn": f"arn:aws:quicksight:ap-south-1:{ACCOUNT}:datasource/kx-env1-athena", "Name": name,
            "SqlQuery": f"SELECT facility_id FROM kx_env1_analytics.{name}",
            "Columns": [{"Name": "facility_id", "Type": "STRING"}]}}},
        "Permissions": [{"Principal": OWNER, "Actions": ["quicksight:DescribeDataSet"]}],
        "Tags": [{"Key": "kx-lake:env", "Value": "env1"}],
    }


def test_permission_changes_grant_missing_and_revoke_stale() -> None:
    grants, revokes = permission_changes(
        [{"Principal": "a", "Actions": ["x", "y"]}, {"Principal": "old", "Actions": ["x"]}],
        [{"Principal": "a", "Actions": ["x", "z"]}, {"Principal": "new", "Actions": ["x"]}])
    assert grants == [{"Principal": "a", "Actions": ["z"]}, {"Principal": "new", "Actions": ["x"]}]
    assert revokes == [{"Principal": "a", "Actions": ["y"]}, {"Principal": "old", "Actions": ["x"]}]


def test_data_set_created_then_updated_never_duplicated() -> None:
    client = _client()
    request = _data_set_request()
    key = {"AwsAccountId": ACCOUNT, "DataSetId": request["DataSetId"]}
    with Stubber(client) as stub:
        stub.add_client_error("describe_data_set", "ResourceNotFoundException", http_status_code=404,
                              expected_params=key)
        stub.add_response("create_data_set", {"DataSetId": request["DataSetId"], "Status": 201}, request)
        stub.add_response("describe_data_set", {"DataSet": {"DataSetId": request["DataSetId"]}}, key)
        update = {k: v for k, v in request.items() if k not in ("Permissions", "Tags")}
        stub.add_response("update_data_set", {"DataSetId": request["DataSetId"]}, update)
        stub.add_response("describe_data_set_permissions", {"Permissions": [
            {"Principal": OWNER, "Actions": ["quicksight:DescribeDataSet"]},
            {"Principal": OWNER.replace("admins", "gone"), "Actions": ["quicksight:DescribeDataSet"]}]}, key)
        stub.add_response("update_data_set_permissions", {}, {
            **key, "RevokePermissions": [{"Principal": OWNER.replace("admins", "gone"),
                                          "Actions": ["quicksight:DescribeDataSet"]}]})
        qs = _qs(client, [0.0])
        assert qs.upsert_data_set(request) == "created"
        assert qs.upsert_data_set(request) == "updated"
        stub.assert_no_pending_responses()


def test_dashboard_update_waits_for_the_version_and_publishes_it() -> None:
    client = _client()
    request = {"AwsAccountId": ACCOUNT, "DashboardId": "kx-env1-d", "Name": "D",
               "Permissions": [{"Principal": OWNER, "Actions": ["quicksight:DescribeDashboard"]}]}
    arn = f"arn:aws:quicksight:ap-south-1:{ACCOUNT}:dashboard/kx-env1-d"
    key = {"AwsAccountId": ACCOUNT, "DashboardId": "kx-env1-d"}
    with Stubber(client) as stub:
        stub.add_response("describe_dashboard", {"Dashboard": {"DashboardId": "kx-env1-d"}}, key)
        stub.add_response("update_dashboard", {"VersionArn": f"{arn}/version/4"}, {k: request[k] for k in key | {"Name": 1}})
        stub.add_response("describe_dashboard", {"Dashboard": {"Version": {"Status": "CREATION_IN_PROGRESS"}}},
                          {**key, "VersionNumber": 4})
        stub.add_response("describe_dashboard", {"Dashboard": {"Version": {"Status": "CREATION_SUCCESSFUL"}}},
                          {**key, "VersionNumber": 4})
        stub.add_response("update_dashboard_published_version", {}, {**key, "VersionNumber": 4})
        stub.add_response("describe_dashboard_permissions", {"Permissions": request["Permissions"]}, key)
        assert _qs(client, [0.0]).upsert_dashboard(request) == "updated"
        stub.assert_no_pending_responses()


def test_dashboard_version_failure_reports_quicksight_errors() -> None:
    client = _client()
    request = {"AwsAccountId": ACCOUNT, "DashboardId": "kx-env1-d", "Name": "D"}
    key = {"AwsAccountId": ACCOUNT, "DashboardId": "kx-env1-d"}
    with Stubber(client) as stub:
        stub.add_client_error("describe_dashboard", "ResourceNotFoundException", http_status_code=404)
        stub.add_response("create_dashboard", {"VersionArn": "arn:aws:quicksight:ap-south-1:1:dashboard/x/version/1"},
                          request)
        stub.add_response("describe_dashboard", {"Dashboard": {"Version": {
            "Status": "CREATION_FAILED", "Errors": [{"Type": "COLUMN_TYPE_MISMATCH", "Message": "day is STRING"}]}}},
            {**key, "VersionNumber": 1})
        with pytest.raises(QuickSightError, match=r"kx-env1-d.*CREATION_FAILED: COLUMN_TYPE_MISMATCH: day is STRING"):
            _qs(client, [0.0]).upsert_dashboard(request)


def _ingestion(status: str, **extra: Any) -> dict[str, Any]:
    return {"Ingestion": {"Arn": "arn:x", "IngestionStatus": status, "CreatedTime": "2026-01-01T00:00:00Z", **extra}}


def test_failed_ingestion_is_reported_with_its_data_set_name(caplog: pytest.LogCaptureFixture) -> None:
    client = _client()
    clock = [0.0]
    with Stubber(client) as stub:
        for rid in ("kx-env1-fin_revenue_daily", "kx-env1-ops_adt"):
            stub.add_response("create_ingestion", {"IngestionStatus": "INITIALIZED"},
                              {"AwsAccountId": ACCOUNT, "DataSetId": rid, "IngestionId": ANY,
                               "IngestionType": "FULL_REFRESH"})
        stub.add_response("describe_ingestion", _ingestion("RUNNING"))
        stub.add_response("describe_ingestion", _ingestion("FAILED", ErrorInfo={
            "Type": "SQL_TABLE_NOT_FOUND", "Message": "Table kx_env1_analytics.ops_adt does not exist"}))
        stub.add_response("describe_ingestion", _ingestion("COMPLETED", RowInfo={"RowsIngested": 1234, "RowsDropped": 0}))
        with caplog.at_level(logging.DEBUG), pytest.raises(IngestionFailedError) as exc:
            _qs(client, clock).refresh({"fin_revenue_daily": "kx-env1-fin_revenue_daily",
                                        "ops_adt": "kx-env1-ops_adt"})
        stub.assert_no_pending_responses()
    err = exc.value
    assert err.failed == ["ops_adt"]
    assert "ops_adt (kx-env1-ops_adt): FAILED: SQL_TABLE_NOT_FOUND: Table kx_env1_analytics.ops_adt" in str(err)
    ok = next(r for r in err.results if r.ok)
    assert (ok.name, ok.rows_ingested) == ("fin_revenue_daily", 1234)
    assert SECRET not in str(err) and SECRET not in caplog.text and "AKIAKXTESTKEYID" not in caplog.text


def test_ingestion_not_started_and_timeout_are_failures_by_name() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error("create_ingestion", "LimitExceededException", "too many ingestions",
                              http_status_code=429)
        stub.add_response("create_ingestion", {"IngestionStatus": "INITIALIZED"})
        for _ in range(40):
            stub.add_response("describe_ingestion", _ingestion("RUNNING"))
        stub.add_response("cancel_ingestion", {})
        results = _qs(client, [0.0]).refresh({"a": "kx-env1-a", "b": "kx-env1-b"}, raise_on_failure=False)
    assert [(r.name, r.status) for r in results] == [("a", "NOT_STARTED"), ("b", "TIMED_OUT")]
    assert "LimitExceededException: too many ingestions" in (results[0].error or "")


def test_client_errors_name_the_resource_and_never_the_credentials() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error("describe_data_source", "AccessDeniedException", "User is not authorized",
                              http_status_code=403)
        with pytest.raises(QuickSightError) as exc:
            _qs(client, [0.0]).upsert_data_source({"AwsAccountId": ACCOUNT, "DataSourceId": "kx-env1-athena",
                                                   "Name": "n", "Type": "ATHENA"})
    text = str(exc.value)
    assert "data source kx-env1-athena" in text and "AccessDeniedException" in text
    assert SECRET not in text and "AKIAKXTESTKEYID" not in text
