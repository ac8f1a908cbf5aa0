"""Pure Glue helpers: TableInput/PartitionInput building, chunking, lake partitions → Glue values."""

from __future__ import annotations

import datetime as dt

import pytest

from kx_lake.lib.catalog.glue import (
    PARQUET_INPUT_FORMAT,
    PARQUET_OUTPUT_FORMAT,
    PARQUET_SERDE,
    GlueCatalogError,
    chunks,
    column_specs,
    crawler_targets,
    glue_partition_values,
    lake_partitions,
    normalize_location,
    partition_input,
    partition_keys_for,
    partition_label,
    table_input,
)
from kx_lake.lib.harmonize.types import DOUBLE, INT64, STRING, TIMESTAMP, ListType, StructType
from kx_lake.lib.storage import DEFAULT_PARTITION, PartitionInfo


def test_table_input_is_external_parquet_partitioned_by_strings() -> None:
    ti = table_input(
        "kx_env1_hims_billing", "bills", [("bill_no", "string"), ("total_amount", "double")],
        ["date", "facility_id"], "s3://lake/env1/hims_billing/bills",
    )
    assert ti["Name"] == "bills"
    assert ti["TableType"] == "EXTERNAL_TABLE"
    assert ti["Parameters"]["classification"] == "parquet"
    assert ti["PartitionKeys"] == [{"Name": "date", "Type": "string"}, {"Name": "facility_id", "Type": "string"}]
    sd = ti["StorageDescriptor"]
    assert sd["Columns"] == [{"Name": "bill_no", "Type": "string"}, {"Name": "total_amount", "Type": "double"}]
    assert sd["Location"] == "s3://lake/env1/hims_billing/bills/"
    assert (sd["InputFormat"], sd["OutputFormat"]) == (PARQUET_INPUT_FORMAT, PARQUET_OUTPUT_FORMAT)
    assert sd["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE


def test_table_input_from_a_lake_schema() -> None:
    schema = StructType((("_id", STRING), ("amount", DOUBLE), ("at", TIMESTAMP), ("n", INT64),
                         ("tags", ListType(STRING))))
    ti = table_input("db", "t", schema.hive_columns(), partition_keys_for(()), "s3://b/p/")
    assert [c["Name"] for c in ti["StorageDescriptor"]["Columns"]] == ["_id", "amount", "at", "n", "tags"]
    assert ti["StorageDescriptor"]["Columns"][-1]["Type"] == "array<string>"
    assert ti["PartitionKeys"] == [{"Name": "date", "Type": "string"}]


@pytest.mark.parametrize(
    ("columns", "keys", "location", "match"),
    [
        ([], ["date"], "s3://b/t", "at least one data column"),
        ([("a", "string"), ("a", "int")], ["date"], "s3://b/t", "listed twice"),
        ([("date", "string")], ["date"], "s3://b/t", "also a partition key"),
        ([("Amount", "double")], ["date"], "s3://b/t", "lowercase"),
        ([("a", "")], ["date"], "s3://b/t", "no type"),
        ([("a", "string")], ["facility_id"], "s3://b/t", "must start with 'date'"),
        ([("a", "string")], ["date", "date"], "s3://b/t", "repeat"),
        ([("a", "string")], ["date"], "/local/lake/t", "s3://"),
        ([("a", "struct<" + "x" * 140000 + ">")], ["date"], "s3://b/t", "over Glue's"),
    ],
)
def test_table_input_refuses_what_glue_or_athena_would_reject(columns, keys, location, match) -> None:
    with pytest.raises(GlueCatalogError, match=match) as err:
        table_input("kx_env1_hims_billing", "bills", columns, keys, location)
    assert "kx_env1_hims_billing.bills" in str(err.value)


def test_column_specs_keeps_order() -> None:
    assert column_specs("d.t", [("b", "int"), ("a", "string")], ["date"]) == [
        {"Name": "b", "Type": "int"}, {"Name": "a", "Type": "string"},
    ]


def test_chunks() -> None:
    assert [list(c) for c in chunks(list(range(250)), 100)] == [list(range(100)), list(range(100, 200)),
                                                               list(range(200, 250))]
    assert list(chunks([], 100)) == []
    assert [list(c) for c in chunks([1, 2], 100)] == [[1, 2]]
    with pytest.raises(ValueError):
        list(chunks([1], 0))


def test_locations_and_labels() -> None:
    assert normalize_location("s3://b/p") == normalize_location("s3://b/p//") == "s3://b/p/"
    assert partition_label(["date", "facility_id"], ["2026-01-01", "F1"]) == "date=2026-01-01/facility_id=F1"
    assert glue_partition_values(["2026-01-01", None, ""]) == ["2026-01-01", DEFAULT_PARTITION, DEFAULT_PARTITION]


def test_partition_input_inherits_the_table_descriptor() -> None:
    sd = table_input("d", "t", [("a", "string")], ["date"], "s3://b/t")["StorageDescriptor"]
    pi = partition_input(sd, ["2026-01-01"], "s3://b/t/date=2026-01-01")
    assert pi["Values"] == ["2026-01-01"]
    assert pi["StorageDescriptor"]["Location"] == "s3://b/t/date=2026-01-01/"
    assert pi["StorageDescriptor"]["Columns"] == sd["Columns"]
    assert sd["Location"] == "s3://b/t/"  # the table's descriptor is not modified


def _info(day: str, ids: tuple[tuple[str, str | None], ...], path: str) -> PartitionInfo:
    return PartitionInfo(dt.date.fromisoformat(day), ids, path, rows=1, bytes=1)


def test_lake_partitions_one_per_leaf_folder_in_path_order() -> None:
    root = "s3://b/env1/hims_billing/bills"
    infos = [
        _info("2026-01-02", (("facilityId", "F2"),), f"{root}/date=2026-01-02/facilityId=F2/part-00000.parquet"),
        _info("2026-01-01", (("facilityId", None),),
              f"{root}/date=2026-01-01/facilityId={DEFAULT_PARTITION}/part-00000.parquet"),
        _info("2026-01-02", (("facilityId", "F2"),), f"{root}/date=2026-01-02/facilityId=F2/part-00001.parquet"),
    ]
    assert lake_partitions(infos, ["facilityId"]) == [
        (["2026-01-01", DEFAULT_PARTITION], f"{root}/date=2026-01-01/facilityId={DEFAULT_PARTITION}/"),
        (["2026-01-02", "F2"], f"{root}/date=2026-01-02/facilityId=F2/"),
    ]


def test_lake_partitions_refuses_a_layout_other_than_the_tables() -> None:
    info = _info("2026-01-01", (("ward_id", "W1"),), "s3://b/t/date=2026-01-01/ward_id=W1/part-00000.parquet")
    with pytest.raises(GlueCatalogError, match="ward_id"):
        lake_partitions([info], ["facility_id"])


def test_crawler_targets_replaces_s3_and_keeps_other_kinds() -> None:
    existing = {"S3Targets": [{"Path": "s3://old/"}], "JdbcTargets": [{"ConnectionName": "c", "Path": "x/%"}],
                "DynamoDBTargets": []}
    assert crawler_targets(existing, ["s3://lake/a", "s3://lake/b/", "s3://lake/a"]) == {
        "JdbcTargets": [{"ConnectionName": "c", "Path": "x/%"}],
        "S3Targets": [{"Path": "s3://lake/a/"}, {"Path": "s3://lake/b/"}],
    }
