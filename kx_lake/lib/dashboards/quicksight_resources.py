"""QuickSight requests as plain dicts: ids, ARNs, permissions, the Athena data source, the data sets
and the row-level-security rules data set. Pure functions of configuration; no client, no I/O.

Why it is shaped this way:

* Ids are deterministic (`kx-<env>-athena`, `kx-<env>-<dataset>`, `kx-<env>-rls-tenants`,
  `kx-<env>-<dashboard>`), so a re-deploy finds what the last one created and updates it instead of
  creating a twin; nothing is looked up by display name.
* A data set's SQL is `SELECT <its columns> FROM <analytics db>.<dataset>`: it reads the dataset
  *view* that the catalog keeps in Athena, not a copy of the view's body. The SQL logic lives in one
  place (sql/datasets), a view change reaches QuickSight without a re-deploy (SPICE on its next
  refresh), and the explicit column list pins the InputColumns QuickSight is told about.
* Row-level security is a rules data set generated from the tenants file: one row per
  (QuickSight group of a tenant, facility_id), plus the admin group with a NULL facility_id (NULL =
  every value, QuickSight's rule). Its SQL is an Athena `VALUES` list, so the rules need no S3 file
  and change exactly when tenants.yaml does; it is DIRECT_QUERY (always current, tiny). Every
  dashboard data set carries `RowLevelPermissionDataSet` → that rules data set, GRANT_ACCESS:
  a user in no rule sees nothing.
* Requests are built complete for *create*; `update_request` strips what the Update* operation does
  not take (Permissions, Tags), so both paths send the same definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kx_lake.lib.catalog.names import qualified, quote
from kx_lake.lib.dashboards.quicksight_config import ImportMode, QuickSightTarget

PREFIX = "kx"
RLS_DATA_SET = "rls-tenants"
RLS_GROUP_COLUMN = "GroupName"
RLS_FACILITY_COLUMN = "facility_id"

DATA_SOURCE_OWNER_ACTIONS = (
    "quicksight:DescribeDataSource", "quicksight:DescribeDataSourcePermissions", "quicksight:PassDataSource",
    "quicksight:UpdateDataSource", "quicksight:DeleteDataSource", "quicksight:UpdateDataSourcePermissions",
)
DATA_SET_OWNER_ACTIONS = (
    "quicksight:DescribeDataSet", "quicksight:DescribeDataSetPermissions", "quicksight:PassDataSet",
    "quicksight:DescribeIngestion", "quicksight:ListIngestions", "quicksight:UpdateDataSet",
    "quicksight:DeleteDataSet", "quicksight:CreateIngestion", "quicksight:CancelIngestion",
    "quicksight:UpdateDataSetPermissions",
)
DASHBOARD_OWNER_ACTIONS = (
    "quicksight:DescribeDashboard", "quicksight:ListDashboardVersions", "quicksight:UpdateDashboardPermissions",
    "quicksight:QueryDashboard", "quicksight:UpdateDashboard", "quicksight:DeleteDashboard",
    "quicksight:DescribeDashboardPermissions", "quicksight:UpdateDashboardPublishedVersion",
)
DASHBOARD_VIEWER_ACTIONS = ("quicksight:DescribeDashboard", "quicksight:ListDashboardVersions", "quicksight:QueryDashboard")

# Fields of a Create* request that the matching Update* does not accept.
_CREATE_ONLY = frozenset({"Permissions", "Tags", "FolderArns", "LinkSharingConfiguration", "LinkEntities", "Type"})


# ids and ARNs ----------------------------------------------------------------------------------


def resource_id(env: str, name: str) -> str:
    """`kx-env1-fin_revenue_daily`: QuickSight ids allow [\\w-], so dataset names pass unchanged."""
    return f"{PREFIX}-{env}-{name}"


def data_source_id(target: QuickSightTarget) -> str:
    return resource_id(target.env, "athena")


def data_set_id(target: QuickSightTarget, dataset: str) -> str:
    return resource_id(target.env, dataset)


def rls_data_set_id(target: QuickSightTarget) -> str:
    return resource_id(target.env, RLS_DATA_SET)


def dashboard_id(target: QuickSightTarget, dashboard: str) -> str:
    return resource_id(target.env, dashboard)


def arn(target: QuickSightTarget, kind: str, rid: str) -> str:
    return f"arn:aws:quicksight:{target.region}:{target.account_id}:{kind}/{rid}"


def group_arn(target: QuickSightTarget, group: str) -> str:
    return arn(target, "group", f"{target.namespace}/{group}")


def physical_table_id(name: str) -> str:
    """PhysicalTableId allows only [0-9a-zA-Z-] (64 chars): underscores become dashes."""
    return name.replace("_", "-")[:64]


def tags(target: QuickSightTarget) -> list[dict[str, str]]:
    return [{"Key": "kx-lake:env", "Value": target.env}, {"Key": "kx-lake:managed-by", "Value": "kx-lake"}]


def permissions(principals: Iterable[str], actions: Sequence[str]) -> list[dict[str, Any]]:
    return [{"Principal": p, "Actions": sorted(actions)} for p in dict.fromkeys(principals)]


def dashboard_permissions(target: QuickSightTarget, tenant_groups: Iterable[str]) -> list[dict[str, Any]]:
    """Owners get full control; configured viewers, the admin group and each tenant group may view
    (row-level security decides *what* each sees)."""
    owners = list(dict.fromkeys(target.owners))
    viewers = [p for p in dict.fromkeys([*target.viewers, group_arn(target, target.admin_group),
                                         *(group_arn(target, g) for g in tenant_groups)]) if p not in owners]
    return permissions(owners, DASHBOARD_OWNER_ACTIONS) + permissions(viewers, DASHBOARD_VIEWER_ACTIONS)


def update_request(create_request: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in create_request.items() if k not in _CREATE_ONLY}


# the Athena data source ------------------------------------------------------------------------


def data_source_request(target: QuickSightTarget) -> dict[str, Any]:
    return {
        "AwsAccountId": target.account_id,
        "DataSourceId": data_source_id(target),
        "Name": f"kx-lake {target.env} (Athena {target.athena_workgroup})",
        "Type": "ATHENA",
        "DataSourceParameters": {"AthenaParameters": {"WorkGroup": target.athena_workgroup}},
        "Permissions": permissions(target.owners, DATA_SOURCE_OWNER_ACTIONS),
        "Tags": tags(target),
    }


# data sets -------------------------------------------------------------------------------------


def data_set_sql(target: QuickSightTarget, dataset: str, columns: Sequence[str]) -> str:
    """`SELECT facility_id, facility_name, day, ... FROM kx_env1_analytics.fin_revenue_daily`."""
    if not columns:
        raise ValueError(f"data set {dataset}: no columns")
    return f"SELECT {', '.join(quote(c) for c in columns)} FROM {qualified(target.analytics_database, dataset)}"


def _custom_sql_request(
    target: QuickSightTarget, rid: str, name: str, sql: str, columns: Sequence[tuple[str, str]],
    import_mode: ImportMode,
) -> dict[str, Any]:
    return {
        "AwsAccountId": target.account_id,
        "DataSetId": rid,
        "Name": name,
        "PhysicalTableMap": {
            physical_table_id(name): {
                "CustomSql": {
                    "DataSourceArn": arn(target, "datasource", data_source_id(target)),
                    "Name": name,
                    "SqlQuery": sql,
                    "Columns": [{"Name": c, "Type": t} for c, t in columns],
                }
            }
        },
        "ImportMode": import_mode.value,
        "Permissions": permissions(target.owners, DATA_SET_OWNER_ACTIONS),
        "Tags": tags(target),
    }


def data_set_request(target: QuickSightTarget, dataset: str, columns: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """One dashboard data set: CustomSql over the dataset view, RLS by facility_id."""
    names = [c for c, _ in columns]
    if RLS_FACILITY_COLUMN not in names:
        raise ValueError(f"data set {dataset}: no {RLS_FACILITY_COLUMN} column, so row-level security cannot apply")
    request = _custom_sql_request(
        target, data_set_id(target, dataset), dataset, data_set_sql(target, dataset, names), columns, target.import_mode
    )
    request["RowLevelPermissionDataSet"] = {
        "Namespace": target.namespace,
        "Arn": arn(target, "dataset", rls_data_set_id(target)),
        "PermissionPolicy": "GRANT_ACCESS",
        "FormatVersion": "VERSION_1",
        "Status": "ENABLED",
    }
    return request


def _sql_text(value: str | None) -> str:
    return "CAST(NULL AS VARCHAR)" if value is None else "'" + value.replace("'", "''") + "'"


def rls_rules(target: QuickSightTarget, tenants: Mapping[str, Sequence[str]]) -> list[tuple[str, str | None]]:
    """(QuickSight group, facility_id) per tenant facility, then (admin group, None = every facility)."""
    rules: list[tuple[str, str | None]] = []
    for tenant in sorted(tenants):
        group = target.tenant_group(tenant)
        rules.extend((group, fid) for fid in sorted(dict.fromkeys(tenants[tenant])))
    rules.append((target.admin_group, None))
    return rules


def rls_sql(rules: Sequence[tuple[str, str | None]]) -> str:
    rows = ",\n  ".join(f"({_sql_text(group)}, {_sql_text(fid)})" for group, fid in rules)
    return (f"SELECT {quote(RLS_GROUP_COLUMN)}, {RLS_FACILITY_COLUMN}\n"
            f"FROM (VALUES\n  {rows}\n) AS rules ({quote(RLS_GROUP_COLUMN)}, {RLS_FACILITY_COLUMN})")


def rls_data_set_request(target: QuickSightTarget, tenants: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The rules data set (owners only: tenants must not read each other's rules)."""
    return _custom_sql_request(
        target, rls_data_set_id(target), f"{target.env}_rls_tenants", rls_sql(rls_rules(target, tenants)),
        [(RLS_GROUP_COLUMN, "STRING"), (RLS_FACILITY_COLUMN, "STRING")], ImportMode.DIRECT_QUERY,
    )
