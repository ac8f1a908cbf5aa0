"""The Glue table definition rendered as Trino DDL (trino_ddl), and the Athena→Trino seam."""

from __future__ import annotations

import pytest

from kx_lake.lib.catalog.glue import GlueCatalogError, table_input
from kx_lake.lib.catalog.trino_ddl import (
    TrinoDdlError,
    create_table_sql,
    fingerprint,
    local_location,
    trino_type,
)
from kx_lake.lib.catalog.trino_catalog import athena_sql_on_trino


@pytest.mark.parametrize(("hive", "trino"), [
    ("string", "VARCHAR"),
    ("bigint", "BIGINT"),
    ("timestamp", "TIMESTAMP(3)"),
    ("decimal(38,9)", "DECIMAL(38, 9)"),
    ("array<string>", "ARRAY(VARCHAR)"),
    # struct field names that are SQL keywords stay field names (general SQL parsers drop them)
    ("struct<order:string,from:array<struct<select:bigint,_kx_value:string>>>",
     'ROW("order" VARCHAR, "from" ARRAY(ROW("select" BIGINT, "_kx_value" VARCHAR)))'),
    ("map<string,double>", "MAP(VARCHAR, DOUBLE)"),
])
def test_hive_types_become_trino_types(hive: str, trino: str) -> None:
    assert trino_type(hive) == trino


@pytest.mark.parametrize("bad", ["struct<a:bigint", "array<string>>", "varchar2", "struct<a bigint>", "", "a-b"])
def test_unreadable_hive_types_are_refused(bad: str) -> None:
    with pytest.raises(TrinoDdlError):
        trino_type(bad)


def _bills_input(location: str = "/lake/env1/hims_billing/bills") -> dict:
    return table_input("kx_env1_hims_billing", "bills",
                       [("_id", "string"), ("items", "array<struct<amount:double,order:bigint>>")],
                       ["date", "facility_id"], location, local_ok=True)


def test_create_table_is_the_glue_definition_with_partition_keys_last() -> None:
    sql = create_table_sql("lake", "kx_env1_hims_billing", _bills_input(), "local:///lake/env1/hims_billing/bills/")
    assert sql.startswith('CREATE TABLE "lake"."kx_env1_hims_billing"."bills" (\n  "_id" VARCHAR,\n'
                          '  "items" ARRAY(ROW("amount" DOUBLE, "order" BIGINT)),\n  "date" VARCHAR,\n'
                          '  "facility_id" VARCHAR\n)')
    assert "partitioned_by = ARRAY['date', 'facility_id']" in sql
    assert "external_location = 'local:///lake/env1/hims_billing/bills/'" in sql
    assert f"COMMENT 'kx-lake {fingerprint(_bills_input())}'" in sql


def test_the_fingerprint_changes_with_a_widened_column_only() -> None:
    widened = table_input("kx_env1_hims_billing", "bills",
                          [("_id", "string"), ("items", "array<struct<amount:double,order:string>>")],
                          ["date", "facility_id"], "/lake/env1/hims_billing/bills", local_ok=True)
    assert fingerprint(_bills_input()) == fingerprint(_bills_input())
    assert fingerprint(widened) != fingerprint(_bills_input())


def test_what_glue_refuses_is_refused_before_trino() -> None:
    with pytest.raises(GlueCatalogError, match="also a partition key"):
        table_input("db", "t", [("date", "string")], ["date"], "/lake/t", local_ok=True)
    with pytest.raises(GlueCatalogError, match="s3://"):
        table_input("db", "t", [("a", "string")], ["date"], "/lake/t")  # Glue itself needs s3://


def test_a_bad_column_type_names_the_table_and_column() -> None:
    bad = table_input("db", "t", [("a", "struct<x:bigint")], ["date"], "/lake/t", local_ok=True)
    with pytest.raises(TrinoDdlError, match=r"db\.t\.a"):
        create_table_sql("lake", "db", bad, "local:///lake/t/")


def test_local_locations() -> None:
    assert local_location("/work/lake/env1/x") == "local:///work/lake/env1/x/"
    with pytest.raises(TrinoDdlError, match="local lake only"):
        local_location("s3://bucket/lake")


def test_athena_sql_runs_on_trino_as_written() -> None:
    sql = 'CREATE OR REPLACE VIEW a.b AS SELECT approx_percentile(x, 0.5) FROM c.d CROSS JOIN UNNEST(y) AS t(z)'
    assert athena_sql_on_trino(sql) == sql
