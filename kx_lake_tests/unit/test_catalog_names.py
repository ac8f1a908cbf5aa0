"""Catalog naming shared by Glue/Athena and DuckDB (kx_lake.lib.catalog.names)."""

from __future__ import annotations

import pytest

from kx_lake.lib.catalog import names
from kx_lake.lib.config import CollectionSpec, EnvironmentSpec


def env(prefix: str = "kx_env1_") -> EnvironmentSpec:
    return EnvironmentSpec(name="env1", mongodb_uri_secret="X", glue_database_prefix=prefix,
                           athena_workgroup="wg", athena_output_location="s3://b/p/")


def spec(ts: str = "updated_at", parts: tuple[str, ...] = ("facility_id",), coll: str = "bills") -> CollectionSpec:
    # unvalidated: the naming rules are tested on specs collections.csv itself now refuses (`Bills`, a
    # dotted or partitioning timestamp column), as a second line of defence
    return CollectionSpec.model_construct(collection=coll, database="hims_billing", timestamp_column=ts,
                                          partition_columns=parts)


def test_database_table_and_view_names() -> None:
    assert names.glue_database(env(), "hims_billing") == "kx_env1_hims_billing"
    assert names.glue_database(env(""), "hims_billing") == "hims_billing"
    assert names.table_name(spec()) == "bills"
    assert names.latest_view_name(spec()) == "bills_latest"
    assert names.qualified("kx_env1_hims_billing", "bills_latest") == "kx_env1_hims_billing.bills_latest"


def test_names_glue_cannot_hold_are_refused_with_env_and_database() -> None:
    with pytest.raises(names.CatalogNameError, match=r"env1/HIMS_x: catalog database 'kx_env1_HIMS_x'"):
        names.glue_database(env(), "HIMS_x")
    with pytest.raises(names.CatalogNameError, match=r"hims_billing.Bills"):
        names.table_name(spec(coll="Bills"))


def test_partition_keys_are_date_then_ids_all_string() -> None:
    keys = names.partition_keys(("facilityId", "ward_id"))
    assert [(k.name, k.path_name) for k in keys] == [("date", "date"), ("facilityid", "facilityId"), ("ward_id", "ward_id")]
    assert names.glue_partition_keys(spec(parts=("facility_id", "ward_id"))) == [
        ("date", "string"), ("facility_id", "string"), ("ward_id", "string")]
    assert names.glue_partition_keys(spec(parts=())) == [("date", "string")]


@pytest.mark.parametrize(
    ("ts", "parts", "path", "sql"),
    [
        ("updated_at", ("facility_id",), ("updated_at",), '"updated_at"'),
        ("modifiedAt", (), ("modifiedat",), '"modifiedat"'),
        ("date", (), ("date_",), '"date_"'),  # a top-level key named like a partition column
        ("facility_id", ("facility_id",), ("facility_id_",), '"facility_id_"'),
        ("meta.modifiedAt", (), ("meta", "modifiedat"), '"meta"."modifiedat"'),
    ],
)
def test_timestamp_column_follows_harmonize_naming(ts, parts, path, sql) -> None:
    s = spec(ts=ts, parts=parts)
    assert names.timestamp_column_path(s) == path
    assert names.timestamp_column_sql(s) == sql


def test_quote_only_when_needed() -> None:
    assert names.quote("kx_env1_hims_billing") == "kx_env1_hims_billing"
    assert names.quote("order") == '"order"'
    assert names.quote("2024") == '"2024"'
    assert names.quote('a"b') == '"a""b"'
