"""The rejects table's catalog definition and partitions, read from a local lake folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from kx_lake.lib.catalog.glue import GlueCatalogError
from kx_lake.lib.catalog.objects import CatalogError
from kx_lake.lib.catalog.rejects_table import rejects_partitions, rejects_table_input
from kx_lake.lib.storage import LakeStorage


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PAR1")


def test_partitions_are_the_collections_with_a_rejects_file(tmp_path: Path) -> None:
    storage = LakeStorage.from_root(str(tmp_path))
    assert rejects_partitions(storage, "env1") == []  # no folder yet: no partition, no error
    base = tmp_path / "env1" / "kx_rejects"
    _touch(base / "database=hims_billing" / "collection=bills" / "part-00000.parquet")
    _touch(base / "database=hims_patient" / "collection=visits" / "part-00000.parquet")
    _touch(base / "database=hims_patient" / "collection=visits" / ".part-00000.parquet.0a1b.tmp")  # in flight
    (base / "database=hims_patient" / "collection=empty").mkdir()
    assert rejects_partitions(storage, "env1") == [
        (["hims_billing", "bills"], f"{base}/database=hims_billing/collection=bills/"),
        (["hims_patient", "visits"], f"{base}/database=hims_patient/collection=visits/"),
    ]


def test_a_file_outside_the_partition_layout_is_named(tmp_path: Path) -> None:
    storage = LakeStorage.from_root(str(tmp_path))
    _touch(tmp_path / "env1" / "kx_rejects" / "database=hims_billing" / "stray.parquet")
    with pytest.raises(CatalogError, match=r"env1: rejects file .*database=hims_billing/stray\.parquet is not under"):
        rejects_partitions(storage, "env1")


def test_definition_is_partitioned_by_database_then_collection() -> None:
    got = rejects_table_input("kx_env1_lake", "s3://bucket/lake/env1/kx_rejects")
    assert [k["Name"] for k in got["PartitionKeys"]] == ["database", "collection"]
    assert got["StorageDescriptor"]["Location"] == "s3://bucket/lake/env1/kx_rejects/"
    assert ("first_seen", "timestamp") in [(c["Name"], c["Type"]) for c in got["StorageDescriptor"]["Columns"]]
    with pytest.raises(GlueCatalogError, match="location must be s3://"):
        rejects_table_input("kx_env1_lake", "/local/lake/env1/kx_rejects")
