"""View SQL generation (Athena dialect) and its DuckDB transpile, and the DuckDB table views over files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kx_lake.lib.catalog import duckdb_catalog, views
from kx_lake.lib.config import CollectionSpec, EnvironmentSpec, ProjectConfig
from kx_lake.lib.harmonize.types import (
    DecimalType, DoubleType, IntType, JsonType, ListType, StringType, StructType, TimestampType,
)
from kx_lake.lib.lake.pipeline import LakeTableRef

ENV = EnvironmentSpec(name="env1", mongodb_uri_secret="X", glue_database_prefix="kx_env1_",
                      athena_workgroup="wg", athena_output_location="s3://b/p/")
SPEC = CollectionSpec(collection="bills", database="hims_billing", timestamp_column="updatedAt",
                      partition_columns=("facility_id",))
SCHEMA = StructType.of({"_id": StringType(), "amount": DoubleType(), "order": StringType(),
                        "updatedat": TimestampType(), "date_": StringType()})


def test_latest_view_sql_is_exact_athena_sql() -> None:
    assert views.latest_view_sql(ENV, SPEC, SCHEMA) == (
        "CREATE OR REPLACE VIEW kx_env1_hims_billing.bills_latest AS\n"
        'SELECT "_id", "amount", "date_", "order", "updatedat", "date", '
        'coalesce("_kx_orig_facility_id", "facility_id") AS "facility_id"\n'
        "FROM (\n"
        '  SELECT *, row_number() OVER (PARTITION BY "_id" ORDER BY "updatedat" DESC NULLS LAST, "date" DESC) AS kx_rn\n'
        "  FROM kx_env1_hims_billing.bills\n"
        ") AS kx_versions\n"
        "WHERE kx_rn = 1"
    )


def test_latest_view_refuses_missing_schema_or_timestamp_naming_the_collection() -> None:
    with pytest.raises(views.ViewSqlError, match=r"env1/hims_billing.bills: no stored lake schema"):
        views.latest_view_sql(ENV, SPEC, None)
    with pytest.raises(views.ViewSqlError, match=r"env1/hims_billing.bills: timestamp column 'updatedAt'"):
        views.latest_view_sql(ENV, SPEC, StructType.of({"_id": StringType()}))


def test_latest_view_transpiles_and_keeps_the_newest_version_on_duckdb() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA kx_env1_hims_billing")
    con.execute("""CREATE TABLE kx_env1_hims_billing.bills AS SELECT * FROM (VALUES
        ('a', 1.0, NULL, 'x', TIMESTAMP '2026-01-01 10:00', '2026-01-01', NULL, 'F1'),
        ('a', 2.0, NULL, 'y', TIMESTAMP '2026-01-03 09:00', '2026-01-03', NULL, 'F2'),
        ('b', 3.0, NULL, 'z', TIMESTAMP '2026-01-02 08:00', '2026-01-02', NULL, NULL),
        ('c', 4.0, NULL, 'w', TIMESTAMP '2026-01-02 08:00', '2026-01-02', 'f1', 'f1~0123456789abcdef0123'))
        AS t("_id", "amount", "date_", "order", "updatedat", "date", "_kx_orig_facility_id", "facility_id")""")
    views.execute_athena_sql_on_duckdb(con, views.latest_view_sql(ENV, SPEC, SCHEMA))
    rows = con.execute('SELECT "_id", amount, facility_id FROM kx_env1_hims_billing.bills_latest ORDER BY 1').fetchall()
    assert rows == [("a", 2.0, "F2"), ("b", 3.0, None), ("c", 4.0, "f1")]  # c: a disambiguated folder
    cols = [r[0] for r in con.execute("DESCRIBE kx_env1_hims_billing.bills_latest").fetchall()]
    assert cols == ["_id", "amount", "date_", "order", "updatedat", "date", "facility_id"]


def test_render_template_replaces_database_placeholders_and_names_unknown_ones() -> None:
    sql = "CREATE OR REPLACE VIEW {{ hims_masters }}.v AS SELECT * FROM {{hims_billing}}.bills"
    assert views.render_template(sql, ENV, ["hims_masters", "hims_billing"]) == (
        "CREATE OR REPLACE VIEW kx_env1_hims_masters.v AS SELECT * FROM kx_env1_hims_billing.bills")
    with pytest.raises(views.ViewSqlError, match=r"v\.sql:2: unknown placeholder '\{\{ env \}\}'"):
        views.render_template("SELECT 1\nFROM {{ env }}.x", ENV, ["hims_masters"], source="v.sql")


def test_every_sql_view_renders_parses_and_transpiles(repo_project: ProjectConfig) -> None:
    project = repo_project
    loaded = views.load_sql_views(project, "env2")
    assert [v.name for v in loaded] == ["kx_env2_hims_masters.dim_facility"]
    for view in loaded:
        assert "{{" not in view.sql
        [statement] = views.to_duckdb(view.sql, str(view.path))
        assert "CREATE OR REPLACE VIEW kx_env2_hims_masters.dim_facility" in statement
        assert views.referenced_tables(view.sql) - {view.target} == {
            ("kx_env2_hims_masters", "facilities_latest"), ("kx_env2_hims_patient", "encounters_latest"),
            ("kx_env2_hims_billing", "bills_latest")}


def test_parse_view_wants_one_qualified_create_view(tmp_path: Path) -> None:
    with pytest.raises(views.ViewSqlError, match="x.sql: expected exactly one CREATE OR REPLACE VIEW"):
        views.parse_view("SELECT 1", "x.sql")
    with pytest.raises(views.ViewSqlError, match="x.sql: the view must be named <database>.<view>"):
        views.view_target(views.parse_view("CREATE VIEW v AS SELECT 1", "x.sql"), "x.sql")


def test_duckdb_types_mirror_the_lake_types() -> None:
    t = StructType.of({"b": ListType(StructType.of({"c": IntType()})), "a": DecimalType(38, 9), "e": StructType()})
    assert duckdb_catalog.duckdb_type(t) == 'STRUCT("a" DECIMAL(38,9), "b" STRUCT("c" BIGINT)[], "e" VARCHAR)'
    assert duckdb_catalog.duckdb_type(JsonType()) == "VARCHAR"


def test_table_view_reads_hive_files_with_catalog_columns(tmp_path: Path) -> None:
    table = tmp_path / "env1" / "hims_billing" / "bills"
    old = table / "date=2026-01-01" / "facility_id=007"
    new = table / "date=2026-01-02" / "facility_id=__HIVE_DEFAULT_PARTITION__"
    old.mkdir(parents=True)
    new.mkdir(parents=True)
    ts = pa.timestamp("ms")
    pq.write_table(pa.table({"_id": ["a"], "updatedat": pa.array([dt.datetime(2026, 1, 1)], ts)}), old / "part-00000.parquet")
    pq.write_table(pa.table({"_id": ["b"], "amount": [2.5], "updatedat": pa.array([dt.datetime(2026, 1, 2)], ts)}),
                   new / "part-00000.parquet")
    (new / ".part-00000.parquet.123.tmp").write_bytes(b"debris")
    schema = StructType.of({"_id": StringType(), "amount": DoubleType(), "updatedat": TimestampType(),
                            "later": ListType(StringType())})  # `later`: in no file at all
    ref = LakeTableRef("env1", "hims_billing", "bills", str(table), ("facility_id",), schema)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA kx_env1_hims_billing")
    con.execute(duckdb_catalog.table_view_sql(ref, "kx_env1_hims_billing"))
    described = con.execute("DESCRIBE kx_env1_hims_billing.bills").fetchall()
    assert [(r[0], r[1]) for r in described] == [
        ("_id", "VARCHAR"), ("amount", "DOUBLE"), ("later", "VARCHAR[]"), ("updatedat", "TIMESTAMP"),
        ("_kx_orig_facility_id", "VARCHAR"), ("date", "VARCHAR"), ("facility_id", "VARCHAR")]
    rows = con.execute("SELECT * FROM kx_env1_hims_billing.bills ORDER BY _id").fetchall()
    assert rows == [("a", None, None, dt.datetime(2026, 1, 1), None, "2026-01-01", "007"),
                    ("b", 2.5, None, dt.datetime(2026, 1, 2), None, "2026-01-02", None)]


def test_crawler_mode_latest_view_reads_the_folder_value_only() -> None:
    sql = views.latest_view_sql(ENV, SPEC, SCHEMA, original_values=False)
    assert "_kx_orig_" not in sql and '"date", "facility_id"\nFROM' in sql


def test_every_unknown_placeholder_is_reported_with_its_line_and_nothing_else_is_templated() -> None:
    text = "CREATE OR REPLACE VIEW {{ hims_masters }}.v AS\nSELECT * FROM {{ envv }}.a\nJOIN {{ nope }}.b USING (id)"
    with pytest.raises(views.ViewSqlError) as err:
        views.render_template(text, ENV, ["hims_masters"], source="v.sql")
    assert "v.sql:2: unknown placeholder '{{ envv }}'; v.sql:3: unknown placeholder '{{ nope }}'" in str(err.value)
    with pytest.raises(views.ViewSqlError, match=r"v\.sql: 'str object' has no attribute 'x'"):  # StrictUndefined: no blank
        views.render_template("SELECT * FROM {{ hims_masters.x }}.a", ENV, ["hims_masters"], source="v.sql")
    with pytest.raises(views.ViewSqlError, match=r"v\.sql:1: "):
        views.render_template("SELECT '{{ unclosed' FROM t", ENV, ["hims_masters"], source="v.sql")


def _view(name: str, reads: str = "") -> views.SqlView:
    body = f"SELECT * FROM db.{reads}" if reads else "SELECT 1 AS x"
    return views.SqlView(Path(f"{name}.sql"), f"CREATE OR REPLACE VIEW db.{name} AS {body}", ("db", name))


def test_views_are_ordered_after_what_they_read_ties_in_the_given_order() -> None:
    given = [_view("a"), _view("b", reads="c"), _view("c"), _view("d", reads="a"), _view("e")]
    assert [v.target[1] for v in views.order_by_dependencies(given)] == ["a", "c", "b", "d", "e"]
    with pytest.raises(views.ViewSqlError, match=r"reference cycle between (x|y)\.sql, (x|y)\.sql"):
        views.order_by_dependencies([_view("ok"), _view("x", reads="y"), _view("y", reads="x")])
    with pytest.raises(views.ViewSqlError, match="a.sql: view db.a is also created by a.sql"):
        views.order_by_dependencies([_view("a"), _view("a")])
