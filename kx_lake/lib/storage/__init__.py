"""The lake's storage layer: Hive-partitioned Parquet on local disk or S3, one code path (fsspec).

`LakeStorage.from_root(root)` picks the filesystem from the root's scheme (a path, or s3://bucket/prefix).
"""

from kx_lake.lib.storage.lake import LakeStorage
from kx_lake.lib.storage.models import DataFile, LakeStorageError, PartitionInfo, WrittenFile
from kx_lake.lib.storage.parquet import ParquetOptions
from kx_lake.lib.storage.paths import (
    DATA_FILE_NAME,
    DATE_COLUMN,
    DEFAULT_PARTITION,
    LakeLayoutError,
    escape_partition_value,
    unescape_partition_value,
)

__all__ = [
    "DATA_FILE_NAME",
    "DATE_COLUMN",
    "DataFile",
    "DEFAULT_PARTITION",
    "LakeLayoutError",
    "LakeStorage",
    "LakeStorageError",
    "ParquetOptions",
    "PartitionInfo",
    "WrittenFile",
    "escape_partition_value",
    "unescape_partition_value",
]
