"""SQL for the local site: a spec's visual + the request's filters + the principal → one DuckDB query.

Why it is shaped this way:
* Identifiers (dataset, columns) come only from validated specs — every column was checked against
  the dataset's select list — and are still quoted. Every value a user can influence (facility ids,
  dates, select-filter values) is a `?` parameter; nothing from a request is concatenated into SQL.
* Tenant isolation is applied here, server-side, on `facility_id`: `resolve_scope` refuses (raises
  `Forbidden`) a requested facility outside the principal's set, and a tenant with nothing selected is
  still restricted to its own facilities. Only the admin may run without a facility predicate.
* The queries are DuckDB SQL (the local catalog), not Athena: they run only on the embedded catalog;
  the datasets themselves stay Athena SQL and are shared with QuickSight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from kx_lake.lib.dashboards.spec import (
    DAY_COLUMN,
    FACILITY_ID_COLUMN,
    Aggregation,
    DashboardSpec,
    Granularity,
    Measure,
    Operand,
    Visual,
    VisualType,
)
from kx_lake.lib.dashboards.tenants import Principal

MAX_SELECT_OPTIONS = 500


class Forbidden(PermissionError):
    """A request for facilities outside the signed-in tenant's (HTTP 403)."""


def q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class FilterState:
    """The request's filters, already parsed (dates) but not yet authorised."""

    facility_ids: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    selects: dict[str, tuple[str, ...]] = field(default_factory=dict)


def resolve_scope(principal: Principal, requested: Sequence[str]) -> tuple[str, ...] | None:
    """The facility ids a query is restricted to (None: no restriction, admin only).

    Raises Forbidden naming the first requested facility the principal may not see.
    """
    for fid in requested:
        if not principal.may_see(fid):
            raise Forbidden(f"facility {fid!r} is not visible to {principal.name}")
    if requested:
        return tuple(dict.fromkeys(requested))
    if principal.facility_ids is None:
        return None
    return tuple(sorted(principal.facility_ids))


def _in(column: str, values: Sequence[object]) -> tuple[str, list[object]]:
    if not values:
        return "FALSE", []
    return f"{q(column)} IN ({', '.join('?' for _ in values)})", list(values)


def scope_predicate(scope: tuple[str, ...] | None) -> tuple[list[str], list[object]]:
    if scope is None:
        return [], []
    sql, params = _in(FACILITY_ID_COLUMN, scope)
    return [sql], params


def where(spec: DashboardSpec, state: FilterState, scope: tuple[str, ...] | None) -> tuple[str, list[object]]:
    """WHERE clause (or "") and its parameters for the facility scope, dates and select filters."""
    clauses, params = scope_predicate(scope)
    if state.date_from:
        clauses.append(f"{q(DAY_COLUMN)} >= ?")
        params.append(state.date_from)
    if state.date_to:
        clauses.append(f"{q(DAY_COLUMN)} <= ?")
        params.append(state.date_to)
    allowed = {f.column for f in spec.select_filters}
    for column, values in state.selects.items():
        if column in allowed and values:
            sql, vs = _in(column, values)
            clauses.append(sql)
            params += vs
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _agg(op: Operand | Measure) -> str:
    col = q(op.column)
    if op.aggregation is Aggregation.count_distinct:
        return f"count(DISTINCT {col})"
    if op.aggregation is Aggregation.count:
        return f"count({col})"
    return f"{op.aggregation.value}({col})"


def measure_sql(m: Measure) -> str:
    if m.divide_by is None:
        return f"CAST({_agg(m)} AS DOUBLE)"
    return f"CAST({_agg(m)} AS DOUBLE) / NULLIF(CAST({_agg(m.divide_by)} AS DOUBLE), 0)"


def dimension_sql(column: str, granularity: Granularity | None) -> str:
    if granularity in (Granularity.week, Granularity.month):
        return f"CAST(date_trunc('{granularity.value}', {q(column)}) AS DATE)"
    return q(column)


def visual_sql(relation: str, visual: Visual, where_sql: str) -> str:
    """One aggregate query for a visual: columns d0.., m0.. in that order."""
    dims = [f"{dimension_sql(d.column, d.granularity)} AS d{i}" for i, d in enumerate(visual.dimensions)]
    meas = [f"{measure_sql(m)} AS m{i}" for i, m in enumerate(visual.measures)]
    group = f" GROUP BY {', '.join(str(i + 1) for i in range(len(dims)))}" if dims else ""
    base = f"SELECT {', '.join(dims + meas)} FROM {relation} {where_sql}{group}"
    nd = len(dims)
    is_time = nd > 0 and visual.dimensions[0].column == DAY_COLUMN
    if visual.sort is not None:
        by = visual.sort.by
        key = f"m{by}" if isinstance(by, int) else next(
            (f"d{i}" for i, d in enumerate(visual.dimensions) if d.column == by),
            next((f"m{i}" for i, m in enumerate(visual.measures) if m.column == by), "1"))
        order = f"{key} {'DESC' if visual.sort.descending else 'ASC'} NULLS LAST"
    elif is_time or visual.type is VisualType.heatmap or not meas:
        order = ", ".join(f"d{i} ASC NULLS LAST" for i in range(nd)) or "1"
    else:
        order = "m0 DESC NULLS LAST"
    if nd and not (is_time and visual.type is not VisualType.table):
        order += ", " + ", ".join(f"d{i}" for i in range(nd))
    if visual.limit and nd == 2 and meas and visual.type is not VisualType.table:
        # top N of the first dimension by total, keeping every series of each
        return (f"SELECT * EXCLUDE (kx_total) FROM (SELECT *, sum(m0) OVER (PARTITION BY d0) AS kx_total FROM ({base})) "
                f"QUALIFY dense_rank() OVER (ORDER BY kx_total DESC NULLS LAST, d0) <= {int(visual.limit)} "
                f"ORDER BY {order}")
    limit = f" LIMIT {int(visual.limit)}" if visual.limit else ""
    return f"{base} ORDER BY {order}{limit}"


def facilities_sql(relation: str, scope: tuple[str, ...] | None) -> tuple[str, list[object]]:
    clauses, params = scope_predicate(scope)
    w = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return (f"SELECT facility_id, min(facility_name) FROM {relation} {w} GROUP BY 1 ORDER BY 2, 1", params)


def bounds_sql(relation: str, scope: tuple[str, ...] | None) -> tuple[str, list[object]]:
    clauses, params = scope_predicate(scope)
    w = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"SELECT min({q(DAY_COLUMN)}), max({q(DAY_COLUMN)}) FROM {relation} {w}", params


def options_sql(relation: str, column: str, scope: tuple[str, ...] | None) -> tuple[str, list[object]]:
    clauses, params = scope_predicate(scope)
    clauses.append(f"{q(column)} IS NOT NULL")
    return (f"SELECT DISTINCT CAST({q(column)} AS VARCHAR) FROM {relation} WHERE {' AND '.join(clauses)} "
            f"ORDER BY 1 LIMIT {MAX_SELECT_OPTIONS}", params)
