"""Tombstones without services: the row shape (nested timestamp too), `_latest` hiding an identity whose
newest row is a tombstone (on DuckDB), the `on_source_delete` policy in collections.csv, and the job and
weekly schedule being declared and stopped."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from kx_lake.builders.reconcile_job import RECONCILE_JOB, RECONCILE_SCHEDULE
from kx_lake.lib.catalog import views
from kx_lake.lib.config import CollectionSpec, ConfigErrors, EnvironmentSpec
from kx_lake.lib.config.collections import load_collections
from kx_lake.lib.harmonize.types import BOOL, IntType, StringType, StructType, TimestampType
from kx_lake.lib.lake.tombstones import DELETED_COLUMN, Tombstone, conform_to, tombstone_batch, with_deleted

ENV = EnvironmentSpec(name="env1", mongodb_uri_secret="X", glue_database_prefix="kx_env1_",
                      athena_workgroup="wg", athena_output_location="s3://b/p/")
SPEC = CollectionSpec(collection="bills", database="hims_billing", timestamp_column="updated_at")
SCHEMA = with_deleted(StructType.of({"_id": StringType(), "amount": IntType(), "updated_at": TimestampType(),
                                     "_kx_id_type": StringType()}))
MS_2026_01_10 = 1_768_044_600_000  # 2026-01-10 11:30 as the lake stores it (naive wall clock)


def test_with_deleted_adds_one_boolean_column_once() -> None:
    assert DELETED_COLUMN in SCHEMA.names and dict(SCHEMA.fields)[DELETED_COLUMN] == BOOL
    assert with_deleted(SCHEMA) is SCHEMA


def test_tombstone_rows_carry_identity_flag_and_time_only() -> None:
    nested = StructType.of({"_id": StringType(), "meta": StructType.of({"by": StringType(), "at": TimestampType()}),
                            "_kx_id_type": StringType(), DELETED_COLUMN: BOOL})
    batch = tombstone_batch(nested.to_arrow_schema(), ("meta", "at"), [Tombstone("a", "string", (), MS_2026_01_10),
                                                                       Tombstone("1", "int", (), MS_2026_01_10 + 1)])
    assert batch.to_pylist() == [
        {"_id": "a", "meta": {"by": None, "at": datetime(2026, 1, 10, 11, 30)}, "_kx_id_type": "string",
         DELETED_COLUMN: True},
        {"_id": "1", "meta": {"by": None, "at": datetime(2026, 1, 10, 11, 30, 0, 1000)}, "_kx_id_type": "int",
         DELETED_COLUMN: True},
    ]


def test_conform_to_fills_columns_an_older_file_lacks() -> None:
    old = pa.table({"_id": ["a"], "amount": [1]})
    assert conform_to(old, pa.schema([(DELETED_COLUMN, pa.bool_())])).to_pylist() == [
        {"_id": "a", "amount": 1, DELETED_COLUMN: None}]


def test_latest_hides_an_identity_whose_newest_row_is_a_tombstone() -> None:
    sql = views.latest_view_sql(ENV, SPEC, SCHEMA)
    assert sql.endswith('WHERE kx_rn = 1 AND coalesce("_kx_deleted", false) = false')
    assert '"_kx_deleted"' not in sql.split("FROM (")[0]  # not a column of _latest
    con = duckdb.connect()
    con.execute("CREATE SCHEMA kx_env1_hims_billing")
    con.execute("""CREATE TABLE kx_env1_hims_billing.bills AS SELECT * FROM (VALUES
        ('a', 1, TIMESTAMP '2026-01-02 10:00', 'string', NULL, '2026-01-02'),
        ('a', NULL, TIMESTAMP '2026-01-10 10:00', 'string', true, '2026-01-10'),
        ('b', 2, TIMESTAMP '2026-01-02 10:00', 'string', NULL, '2026-01-02'),
        ('b', NULL, TIMESTAMP '2026-01-05 10:00', 'string', true, '2026-01-05'),
        ('b', 3, TIMESTAMP '2026-01-11 10:00', 'string', false, '2026-01-11'),
        ('c', 4, TIMESTAMP '2026-01-02 10:00', 'string', NULL, '2026-01-02')
    ) AS t(_id, amount, updated_at, _kx_id_type, _kx_deleted, date)""")
    views.execute_athena_sql_on_duckdb(con, sql)
    rows = con.execute("SELECT _id, amount FROM kx_env1_hims_billing.bills_latest ORDER BY 1").fetchall()
    assert rows == [("b", 3), ("c", 4)]  # a: deleted; b: came back newer than its tombstone


def test_without_tombstones_the_view_is_unchanged() -> None:
    plain = StructType.of({"_id": StringType(), "updated_at": TimestampType()})
    assert "_kx_deleted" not in views.latest_view_sql(ENV, SPEC, plain)


def test_on_source_delete_policy_defaults_to_tombstone(tmp_path: Path) -> None:
    path = tmp_path / "collections.csv"
    path.write_text("collection,database,timestamp_column,partition_columns,enabled,on_source_delete\n"
                    "a,hims_billing,updated_at,,true,\n"
                    "b,hims_billing,updated_at,,true,keep\n")
    assert [s.on_source_delete for s in load_collections(path)] == ["tombstone", "keep"]
    path.write_text("collection,database,timestamp_column,partition_columns,enabled,on_source_delete\n"
                    "a,hims_billing,updated_at,,true,purge\n")
    with pytest.raises(ConfigErrors) as exc:
        load_collections(path)
    assert "row 2" in str(exc.value) and "on_source_delete" in str(exc.value)


def test_reconcile_job_and_weekly_schedule_are_declared_and_stopped() -> None:
    from kx_lake.definitions import defs

    definitions = defs()
    assert definitions.resolve_job_def(RECONCILE_JOB) is not None
    schedule = definitions.resolve_schedule_def(RECONCILE_SCHEDULE)
    assert schedule.job_name == RECONCILE_JOB and schedule.cron_schedule == "0 3 * * 0"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    with dg.build_schedule_context(scheduled_execution_time=datetime(2026, 3, 8, 3)) as ctx:
        requests = schedule.evaluate_tick(ctx).run_requests
    assert {r.run_config["ops"]["reconcile_collections"]["config"]["env"] for r in requests} == {"env1", "env2"}
