"""QuickSight InputColumn types (STRING, INTEGER, DECIMAL, DATETIME, BOOLEAN) of a dataset's columns.

A CustomSql physical table must declare each column's type. Two sources, best first:

1. The embedded DuckDB catalog, when it holds the dataset view (`DESCRIBE <db>.<view>`): the types
   the engine actually computes. DuckDB and Athena agree on these views' types (both derive them
   from the same Parquet schema and the same SQL, transpiled), so they transfer.
2. The dataset SQL alone, with sqlglot (`sql/datasets/<name>.sql`), for a machine without a lake
   (CI, a deploy box): the outermost SELECT's expressions are type-annotated without a schema.
   CASTs, literals, COUNT, date functions and arithmetic of known types come out exact; an
   aggregate of an unknown column falls back by function (SUM/AVG → DECIMAL, COUNT → INTEGER,
   MIN/MAX → the column contract or STRING), and a bare unknown column by the column contract
   (facility_id/facility_name STRING, day DATETIME), else STRING. STRING is the safe wrong answer:
   QuickSight still loads the column, and a dashboard spec using it as a measure fails validation
   at deploy rather than at render time. Dataset authors who want exact types CAST their measures.

Both return `[(column, type), ...]` in the SELECT's order. No Dagster; DuckDB only when handed a
connection.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types

STRING, INTEGER, DECIMAL, DATETIME, BOOLEAN = "STRING", "INTEGER", "DECIMAL", "DATETIME", "BOOLEAN"
CONTRACT = {"facility_id": STRING, "facility_name": STRING, "day": DATETIME}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

_T = exp.DataType.Type


def _types(*names: str) -> frozenset:
    """sqlglot type members by name (members differ between sqlglot releases; absent ones are skipped)."""
    return frozenset(getattr(_T, n) for n in names if hasattr(_T, n))


_INTEGER_TYPES = _types("TINYINT", "SMALLINT", "INT", "BIGINT", "INT128", "UTINYINT", "USMALLINT", "UINT", "UBIGINT")
_DECIMAL_TYPES = _types("DECIMAL", "DOUBLE", "FLOAT", "BIGDECIMAL")
_DATETIME_TYPES = _types("DATE", "DATETIME", "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMPLTZ", "TIMESTAMP_MS",
                         "TIMESTAMP_S", "TIMESTAMP_NS")
_STRING_TYPES = _types("VARCHAR", "CHAR", "TEXT", "NVARCHAR", "NCHAR")


_DATE_FUNCTIONS = tuple(getattr(exp, n) for n in ("DateTrunc", "TimestampTrunc", "DatetimeTrunc", "TsOrDsToDate",
                                                  "StrToDate", "StrToTime", "CurrentDate", "CurrentTimestamp",
                                                  "DateAdd", "TimestampAdd") if hasattr(exp, n))


def _from_sqlglot_type(dtype: exp.DataType | None) -> str | None:
    if dtype is None:
        return None
    t = dtype.this
    if t in _INTEGER_TYPES:
        return INTEGER
    if t in _DECIMAL_TYPES:
        return DECIMAL
    if t in _DATETIME_TYPES:
        return DATETIME
    if t == _T.BOOLEAN:
        return BOOLEAN
    if t in _STRING_TYPES:
        return STRING
    return None


def _projection_type(name: str, node: exp.Expression) -> str:
    inner = node.this if isinstance(node, exp.Alias) else node
    known = _from_sqlglot_type(inner.type)
    if known:
        return known
    if isinstance(inner, (exp.Count, exp.ApproxDistinct)):
        return INTEGER
    if isinstance(inner, (exp.Sum, exp.Avg, exp.Div, exp.Add, exp.Sub, exp.Mul)):
        return DECIMAL
    if isinstance(inner, _DATE_FUNCTIONS):
        return DATETIME
    if isinstance(inner, (exp.Min, exp.Max, exp.Coalesce)):
        return CONTRACT.get(name, STRING)
    return CONTRACT.get(name, STRING)


def _outer_select(sql: str, source: str) -> exp.Select:
    text = _PLACEHOLDER.sub(lambda m: m.group(1), sql)
    try:
        statements = [s for s in sqlglot.parse(text, read="athena") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise ValueError(f"{source}: not valid Athena SQL: {exc}") from None
    if len(statements) != 1:
        raise ValueError(f"{source}: expected exactly one statement")
    query = statements[0].expression if isinstance(statements[0], exp.Create) else statements[0]
    while isinstance(query, exp.SetOperation):
        query = query.this
    if isinstance(query, exp.Subquery):
        query = query.unnest()
    if not isinstance(query, exp.Select):
        raise ValueError(f"{source}: the dataset's body is not a SELECT")
    return query


def columns_from_sql(sql: str, source: str = "<sql>") -> list[tuple[str, str]]:
    """(name, QuickSight type) of each output column of a dataset's CREATE VIEW ... AS SELECT."""
    select = annotate_types(_outer_select(sql, source).copy(), dialect="athena")
    out = []
    for node in select.expressions:
        if isinstance(node, exp.Star) or (isinstance(node, exp.Column) and node.is_star):
            raise ValueError(f"{source}: SELECT * in a dataset: list its columns explicitly")
        name = node.alias_or_name
        out.append((name, CONTRACT[name] if name in CONTRACT else _projection_type(name, node)))
    return out


def _from_sql_type(type_name: str) -> str:
    """QuickSight's type for an engine's column type: DuckDB (DOUBLE), Trino (double, timestamp(3)) or
    Glue/Hive (double, int, string) names alike."""
    t = type_name.upper()
    if t.startswith(("DECIMAL", "NUMERIC")) or t in {"DOUBLE", "FLOAT", "REAL"}:
        return DECIMAL
    if t in {"TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
             "UBIGINT"}:
        return INTEGER
    if t.startswith(("DATE", "TIMESTAMP")):
        return DATETIME
    if t == "BOOLEAN":
        return BOOLEAN
    return STRING


def columns_from_catalog(catalog: Any, database: str, view: str) -> list[tuple[str, str]] | None:
    """(name, QuickSight type) of `<database>.<view>` as the catalog backend (lib.catalog.backend) has
    it — DuckDB's DESCRIBE, Trino's information_schema, or the Glue entry Athena made —, or None if absent."""
    columns = catalog.columns(f"{database}.{view}")
    return None if columns is None else [(name, _from_sql_type(t)) for name, t in columns]


def check_columns(dataset: str, columns: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The column contract: facility_id, facility_name and day present (else RLS and filters break)."""
    names = [c for c, _ in columns]
    missing = [c for c in CONTRACT if c not in names]
    if missing:
        raise ValueError(f"data set {dataset}: missing contract column(s) {', '.join(missing)} (has {', '.join(names)})")
    return [(c, CONTRACT.get(c, t)) for c, t in columns]
