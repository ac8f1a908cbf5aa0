"""QuickSight deploy and refresh against moto's real server (HTTP, botocore validation and parsing).

moto 5.2.5 implements, and these tests send to the server: CreateGroup, DescribeGroup,
CreateDataSource, DescribeDataSource, UpdateDataSource, CreateDataSet, CreateDashboard,
DescribeDashboard, CreateIngestion.

moto does not implement DescribeDataSet, UpdateDataSet, Describe/UpdateDataSetPermissions,
Describe/UpdateDataSourcePermissions, UpdateDashboard, UpdateDashboardPublishedVersion,
Describe/UpdateDashboardPermissions, DescribeIngestion (nor CancelIngestion). Those requests are
still built and validated by the client (botocore's ParamValidator) and, explicitly, by the strict
model check; then a `before-call` hook answers them from moto's own backend state (the server runs
in this process, so DescribeDataSet sees exactly the data sets moto created) instead of sending them.
Each such call is recorded, so the tests can assert which operations a re-deploy used.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto.quicksight.models import quicksight_backends

from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.dashboards import quicksight_deploy as deploy
from kx_lake.lib.dashboards.quicksight_client import IngestionFailedError, QuickSightClient, QuickSightError
from kx_lake.lib.dashboards.quicksight_config import QuickSightTarget
from kx_lake_tests.fixtures.moto_server import MotoServer, unique_name
from kx_lake_tests.fixtures.quicksight_model import validate
from kx_lake_tests.fixtures.quicksight_samples import write_samples

pytestmark = pytest.mark.integration

EMULATED = {
    "DescribeDataSet", "UpdateDataSet", "DescribeDataSetPermissions", "UpdateDataSetPermissions",
    "DescribeDataSourcePermissions", "UpdateDataSourcePermissions", "UpdateDashboard",
    "UpdateDashboardPublishedVersion", "DescribeDashboardPermissions", "UpdateDashboardPermissions",
    "DescribeIngestion", "CancelIngestion",
}


class MotoGaps:
    """Answers the QuickSight operations moto lacks, from moto's backend state; records every call."""

    def __init__(self, server: MotoServer, client: Any) -> None:
        self.backend = quicksight_backends[server.account_id][server.region]
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.permissions: dict[str, list[dict[str, Any]]] = {}
        self.versions: dict[str, int] = {}
        self.ingestion_outcome: dict[str, dict[str, Any]] = {}  # DataSetId → final Ingestion fields
        events = client.meta.events
        events.register("before-parameter-build.quicksight.*", self._remember)
        events.register("before-call.quicksight.*", self._answer)

    def _remember(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["kx_params"] = dict(params)
        self.calls.append((model.name, dict(params)))
        problems = validate(model.name, dict(params))
        assert problems == [], problems

    def _answer(self, model: Any, context: dict[str, Any], **_: Any) -> Any:
        if model.name not in EMULATED:
            return None  # sent to moto's server
        p = context["kx_params"]
        body, status = getattr(self, "_" + model.name)(p)
        return AWSResponse("http://moto-gap", status, {}, None), body

    @staticmethod
    def _not_found(what: str) -> tuple[dict[str, Any], int]:
        return {"Error": {"Code": "ResourceNotFoundException", "Message": f"{what} not found"}}, 404

    def _DescribeDataSet(self, p: dict) -> tuple[dict, int]:
        ds = self.backend.data_sets.get(p["DataSetId"])
        if ds is None:
            return self._not_found(p["DataSetId"])
        return {"DataSet": {"Arn": ds.arn, "DataSetId": p["DataSetId"], "Name": ds.name}, "Status": 200}, 200

    def _UpdateDataSet(self, p: dict) -> tuple[dict, int]:
        ds = self.backend.data_sets.get(p["DataSetId"])
        if ds is None:
            return self._not_found(p["DataSetId"])
        ds.name = p["Name"]
        return {"Arn": ds.arn, "DataSetId": p["DataSetId"], "Status": 200}, 200

    def _perms(self, key: str) -> tuple[dict, int]:
        return {"Permissions": self.permissions.get(key, []), "Status": 200}, 200

    def _update_perms(self, key: str, p: dict) -> tuple[dict, int]:
        current = {x["Principal"]: set(x["Actions"]) for x in self.permissions.get(key, [])}
        for g in p.get("GrantPermissions", []):
            current.setdefault(g["Principal"], set()).update(g["Actions"])
        for r in p.get("RevokePermissions", []):
            current.get(r["Principal"], set()).difference_update(r["Actions"])
        self.permissions[key] = [{"Principal": k, "Actions": sorted(v)} for k, v in current.items() if v]
        return {"Status": 200}, 200

    def _DescribeDataSetPermissions(self, p: dict) -> tuple[dict, int]:
        return self._perms(p["DataSetId"])

    def _UpdateDataSetPermissions(self, p: dict) -> tuple[dict, int]:
        return self._update_perms(p["DataSetId"], p)

    def _DescribeDataSourcePermissions(self, p: dict) -> tuple[dict, int]:
        return self._perms(p["DataSourceId"])

    def _UpdateDataSourcePermissions(self, p: dict) -> tuple[dict, int]:
        return self._update_perms(p["DataSourceId"], p)

    def _DescribeDashboardPermissions(self, p: dict) -> tuple[dict, int]:
        return self._perms(p["DashboardId"])

    def _UpdateDashboardPermissions(self, p: dict) -> tuple[dict, int]:
        return self._update_perms(p["DashboardId"], p)

    def _UpdateDashboard(self, p: dict) -> tuple[dict, int]:
        dash = self.backend.dashboards.get(p["DashboardId"])
        if dash is None:
            return self._not_found(p["DashboardId"])
        dash.name, dash.definition = p["Name"], p.get("Definition")
        self.versions[p["DashboardId"]] = self.versions.get(p["DashboardId"], 1) + 1
        return {"Arn": dash.arn, "VersionArn": f"{dash.arn}/version/{self.versions[p['DashboardId']]}",
                "DashboardId": p["DashboardId"], "CreationStatus": "CREATION_IN_PROGRESS", "Status": 202}, 202

    def _UpdateDashboardPublishedVersion(self, p: dict) -> tuple[dict, int]:
        return {"DashboardId": p["DashboardId"], "Status": 200}, 200

    def _DescribeIngestion(self, p: dict) -> tuple[dict, int]:
        final = self.ingestion_outcome.get(p["DataSetId"], {"IngestionStatus": "COMPLETED",
                                                            "RowInfo": {"RowsIngested": 10, "RowsDropped": 0}})
        return {"Ingestion": {"Arn": f"arn:ingestion/{p['IngestionId']}", "CreatedTime": "2026-01-01T00:00:00Z",
                              **final}, "Status": 200}, 200

    def _CancelIngestion(self, p: dict) -> tuple[dict, int]:
        return {"Status": 200}, 200

    def operations(self) -> Counter:
        return Counter(name for name, _ in self.calls)


@pytest.fixture
def env(moto_server: MotoServer, tmp_path: Path, repo_project: ProjectConfig) -> tuple[deploy.DeployPlan, QuickSightClient, MotoGaps]:
    project = repo_project
    sql_dir, dash_dir = write_samples(tmp_path)
    plan = deploy.plan(project, "env1", sql_dir=sql_dir, dashboards_dir=dash_dir)
    # moto's account, a unique env name so tests sharing the session server never collide
    name = unique_name("env1").replace("_", "-")
    t = plan.target
    owners = tuple(o.replace(t.account_id, moto_server.account_id) for o in t.owners)
    target = QuickSightTarget(**{**t.__dict__, "env": name, "account_id": moto_server.account_id, "owners": owners,
                                 "admin_group": f"{name}-admins", "tenant_group_prefix": f"{name}-"})
    plan = deploy.DeployPlan(target, plan.datasets, plan.tenants, plan.dashboards, plan.column_source)
    qs = deploy.make_client(target, endpoint_url=moto_server.endpoint_url, session=moto_server.session(),
                            sleep=lambda s: None, poll_initial_s=0.01)
    gaps = MotoGaps(moto_server, qs.client)
    return plan, qs, gaps


def _ours(backend_items: dict, env: str) -> list[str]:
    return sorted(k for k in backend_items if k.startswith(f"kx-{env}-"))


def test_deploy_creates_everything_then_redeploy_updates_without_duplicates(moto_server: MotoServer, env) -> None:
    plan, qs, gaps = env
    backend = quicksight_backends[moto_server.account_id][moto_server.region]
    t = plan.target

    first = deploy.deploy(qs, plan)
    counts = first.counts()
    assert counts["data_source"] == {"created": 1}
    assert counts["rls_data_set"] == {"created": 1}
    assert counts["data_set"] == {"created": len(plan.datasets)}
    assert counts["dashboard"] == {"created": len(plan.dashboards)}
    assert counts["group"] == {"created": 1 + len(plan.tenants)}
    data_sets = _ours(backend.data_sets, t.env)
    dashboards = _ours(backend.dashboards, t.env)
    assert data_sets == sorted([f"kx-{t.env}-rls-tenants", *(f"kx-{t.env}-{n}" for n in plan.datasets)])
    assert dashboards == sorted(f"kx-{t.env}-{s.id}" for s in plan.dashboards)
    assert _ours(backend.data_sources, t.env) == [f"kx-{t.env}-athena"]
    stored = backend.dashboards[f"kx-{t.env}-fin_revenue"]
    assert stored.definition["DataSetIdentifierDeclarations"][0]["Identifier"] == "fin_revenue_daily"
    assert stored.permissions == next(r for r in deploy.dashboard_requests(plan)
                                      if r["DashboardId"] == stored.dashboard_id)["Permissions"]

    gaps.calls.clear()
    second = deploy.deploy(qs, plan)
    assert set(second.counts()) == {"data_source", "rls_data_set", "data_set", "dashboard"}  # no group created
    assert all(set(c) == {"updated"} for c in second.counts().values())
    ops = gaps.operations()
    assert not {"CreateDataSet", "CreateDashboard", "CreateDataSource", "CreateGroup"} & set(ops)
    assert ops["UpdateDataSet"] == len(plan.datasets) + 1
    assert ops["UpdateDashboard"] == ops["UpdateDashboardPublishedVersion"] == len(plan.dashboards)
    assert ops["UpdateDataSource"] == 1
    assert _ours(backend.data_sets, t.env) == data_sets  # nothing duplicated
    assert _ours(backend.dashboards, t.env) == dashboards
    assert backend.data_sources[f"kx-{t.env}-athena"].status == "UPDATE_SUCCESSFUL"  # moto's own update


def test_refresh_ingests_every_spice_data_set_and_names_the_failed_one(moto_server: MotoServer, env) -> None:
    plan, qs, gaps = env
    deploy.deploy(qs, plan, dashboards=False)
    failing = f"kx-{plan.target.env}-ops_bed_occupancy"
    gaps.ingestion_outcome[failing] = {"IngestionStatus": "FAILED", "ErrorInfo": {
        "Type": "SQL_EXCEPTION", "Message": "COLUMN_NOT_FOUND: wait_minutes"}}
    gaps.calls.clear()
    with pytest.raises(IngestionFailedError) as exc:
        deploy.refresh(qs, plan)
    assert exc.value.failed == ["ops_bed_occupancy"]
    assert f"ops_bed_occupancy ({failing}): FAILED: SQL_EXCEPTION: COLUMN_NOT_FOUND: wait_minutes" in str(exc.value)
    assert gaps.operations()["CreateIngestion"] == len(plan.datasets)  # sent to moto's server
    ok = deploy.refresh(qs, plan, only=["fin_revenue_daily"])
    assert [(r.name, r.status) for r in ok] == [("fin_revenue_daily", "COMPLETED")]


def test_errors_and_logs_carry_no_credentials(moto_server: MotoServer, env, caplog: pytest.LogCaptureFixture) -> None:
    import boto3

    plan, _, _ = env
    secret = "kxMOTOsecretMustNotLeak000000000000000000"
    session = boto3.Session(aws_access_key_id="AKIAKXLEAKCHECK00000", aws_secret_access_key=secret,
                            region_name=moto_server.region)
    qs = deploy.make_client(plan.target, endpoint_url=moto_server.endpoint_url, session=session)
    with caplog.at_level(logging.DEBUG, logger="kx_lake"), pytest.raises(QuickSightError) as exc:
        qs.upsert_data_set({"AwsAccountId": plan.target.account_id, "DataSetId": "kx-x", "Name": "x",
                            "ImportMode": "SPICE", "PhysicalTableMap": {}})  # DescribeDataSet: moto has no route
    assert "data set x (kx-x): describe_data_set failed" in str(exc.value)
    for text in (str(exc.value), caplog.text):
        assert secret not in text and "AKIAKXLEAKCHECK" not in text
