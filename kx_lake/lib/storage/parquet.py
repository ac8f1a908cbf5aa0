"""How the lake writes Parquet: one streamed file per leaf, in Athena-friendly shape.

* zstd, statistics on, Parquet 2.6 logical types, timestamps coerced to milliseconds (truncating
  finer units on purpose) and never INT96: Athena, DuckDB and Spark all read that without flags.
* Row groups are cut by us, not by pyarrow: `ParquetWriter.write_batch` starts a new row group on
  every call, so a source yielding 10k-row batches would produce thousands of tiny row groups. We
  buffer batches until a row group is full (by rows or by in-memory bytes, an upper bound of its
  encoded size) and write it in one go, so memory stays at about one row group, never a partition.
* A small file (the usual leaf: a few rows) is encoded in memory in one go and written with one call,
  its column chunks uncompressed: most of such a file is its footer, zstd makes its tiny chunks
  larger, and a compression context per column chunk cost ~3/4 of its encoding time (measured, see
  docs/benchmarks.md). The data read back is identical; files above `small_file_bytes` are zstd.
* Partition columns are not stored in the file (the path carries them, like Spark's partitionBy);
  batches that still hold them have them dropped, and batches are cast to the declared schema.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

Batches = Iterable[pa.RecordBatch] | pa.Table | pa.RecordBatch


@dataclass(frozen=True)
class ParquetOptions:
    compression: str = "zstd"
    compression_level: int = 3  # used by zstd, gzip and brotli only
    row_group_rows: int = 500_000
    row_group_bytes: int = 128 * 2**20
    coerce_timestamps: str = "ms"
    small_file_bytes: int = 32 * 2**10  # Arrow bytes of a whole file below which it is written uncompressed


def data_schema(schema: pa.Schema, partition_columns: Sequence[str]) -> pa.Schema:
    """The schema stored inside the files: `schema` without the partition columns."""
    drop = set(partition_columns)
    return pa.schema([f for f in schema if f.name not in drop], metadata=schema.metadata)


def iter_batches(data: Batches) -> Iterator[pa.RecordBatch]:
    if isinstance(data, pa.Table):
        yield from data.to_batches()
    elif isinstance(data, pa.RecordBatch):
        yield data
    else:
        yield from data


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """`batch` with exactly `schema`'s columns, in order, cast where types differ (safe casts only)."""
    if batch.schema.equals(schema, check_metadata=False):
        return batch
    missing = [name for name in schema.names if name not in batch.schema.names]
    if missing:
        raise ValueError(f"batch lacks column(s) {', '.join(missing)} of the declared schema")
    selected = batch.select(schema.names)
    return selected.cast(schema) if not selected.schema.equals(schema, check_metadata=False) else selected


class RowGroupWriter:
    """A ParquetWriter that opens on the first row group and cuts row groups by rows and bytes."""

    def __init__(self, sink: IO[bytes], schema: pa.Schema, options: ParquetOptions):
        self._sink = sink
        self._schema = schema
        self._options = options
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._pending_bytes = 0
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        batch = conform(batch, self._schema)
        opts = self._options
        while batch.num_rows:
            room = opts.row_group_rows - self._pending_rows
            take = batch if batch.num_rows <= room else batch.slice(0, room)
            self._pending.append(take)
            self._pending_rows += take.num_rows
            self._pending_bytes += take.nbytes
            batch = batch.slice(take.num_rows)
            if self._pending_rows >= opts.row_group_rows or self._pending_bytes >= opts.row_group_bytes:
                self._flush()

    def close(self) -> int:
        """Write what is buffered and the footer; return the row count (0 means nothing was written)."""
        if self._writer is None and self._pending_rows and self._pending_bytes < self._options.small_file_bytes:
            self._write_small()
            return self.rows
        self._flush()
        if self._writer is not None:
            self._writer.close()
        return self.rows

    def abandon(self) -> None:
        """After a failure: close the pyarrow writer now, so its finalizer never writes to a dead sink."""
        self._pending = []
        if self._writer is not None:
            with contextlib.suppress(Exception):  # the sink is being thrown away anyway
                self._writer.close()
            self._writer = None

    def _flush(self) -> None:
        if not self._pending_rows:
            return
        if self._writer is None:
            self._writer = self._open()
        table = pa.Table.from_batches(self._pending, schema=self._schema)
        self._writer.write_table(table, row_group_size=table.num_rows)
        self.rows += table.num_rows
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0

    def _write_small(self) -> None:
        """The whole file at once: encoded into Arrow's own buffer (no Python call per page), uncompressed."""
        buffer = pa.BufferOutputStream()
        writer = self._open(buffer, compression="none")
        table = pa.Table.from_batches(self._pending, schema=self._schema)
        try:
            writer.write_table(table, row_group_size=table.num_rows)
        finally:
            writer.close()
        self._sink.write(buffer.getvalue())
        self.rows += table.num_rows
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0

    def _open(self, sink: IO[bytes] | pa.NativeFile | None = None, compression: str | None = None) -> pq.ParquetWriter:
        opts = self._options
        compression = compression or opts.compression
        leveled = compression.lower() in ("zstd", "gzip", "brotli")
        return pq.ParquetWriter(
            self._sink if sink is None else sink,
            self._schema,
            compression=compression,
            compression_level=opts.compression_level if leveled else None,
            coerce_timestamps=opts.coerce_timestamps,
            allow_truncated_timestamps=True,
            use_deprecated_int96_timestamps=False,
            write_statistics=True,
            version="2.6",
        )


def read_num_rows(f: IO[bytes]) -> int:
    return pq.ParquetFile(f).metadata.num_rows
