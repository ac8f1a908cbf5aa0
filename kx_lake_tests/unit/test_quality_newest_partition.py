"""The freshness check's newest partition: the newest `date=` folder that holds a Parquet file,
whatever newer folders hold only debris or nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa

from kx_lake.lib.config import CollectionSpec
from kx_lake.lib.ops.quality import newest_partition_date
from kx_lake.lib.storage import LakeStorage

SPEC = CollectionSpec(collection="bills", database="hims_billing", timestamp_column="updated_at",
                      partition_columns=("facility_id",))
SCHEMA = pa.schema([("_id", pa.string()), ("facility_id", pa.string())])


def test_the_newest_date_folder_with_a_parquet_file(tmp_path: Path) -> None:
    storage = LakeStorage.from_root(str(tmp_path / "lake"))
    assert newest_partition_date(storage, "env1", SPEC) is None
    for day in (date(2026, 1, 2), date(2026, 1, 9), date(2026, 1, 3)):
        batch = pa.record_batch([pa.array(["a"]), pa.array(["F1"])], schema=SCHEMA)
        storage.write_partition("env1", "hims_billing", "bills", day, {("F1",): [batch]}, SCHEMA,
                                id_columns=["facility_id"])
    table = Path(storage.table_dir("env1", "hims_billing", "bills"))
    (table / "date=2026-01-12" / "facility_id=F1").mkdir(parents=True)  # an emptied leaf's folder
    (table / "date=2026-01-12" / "facility_id=F1" / ".part-00000.parquet.x.tmp").write_bytes(b"debris")
    (table / "date=2026-01-11").mkdir()
    (table / "_kx_notes").mkdir()
    assert newest_partition_date(storage, "env1", SPEC) == "2026-01-09"
