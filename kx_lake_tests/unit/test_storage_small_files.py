"""Small leaf files are encoded in one go and uncompressed; larger ones stream zstd. Same data either way."""

from __future__ import annotations

import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kx_lake.lib.storage import ParquetOptions
from kx_lake.lib.storage.parquet import RowGroupWriter

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("amount", pa.float64()),
    ("at", pa.timestamp("ms")),
    ("items", pa.list_(pa.struct([("code", pa.string()), ("qty", pa.int64())]))),
])


def rows(n: int, start: int = 0) -> pa.RecordBatch:
    base = dt.datetime(2024, 3, 9, 10, 0, 0)
    return pa.record_batch([
        pa.array([f"doc-{i}" for i in range(start, start + n)]),
        pa.array([None if i % 7 == 0 else i * 1.25 for i in range(start, start + n)]),
        pa.array([base + dt.timedelta(seconds=i) for i in range(start, start + n)], pa.timestamp("ms")),
        pa.array([[{"code": f"c{i}", "qty": i}] * (i % 3) for i in range(start, start + n)], SCHEMA.field("items").type),
    ], schema=SCHEMA)


def write(batches: list[pa.RecordBatch], options: ParquetOptions) -> tuple[pq.ParquetFile, int, int]:
    sink = io.BytesIO()
    writer = RowGroupWriter(sink, SCHEMA, options)
    for b in batches:
        writer.write(b)
    count = writer.close()
    data = sink.getvalue()
    return pq.ParquetFile(io.BytesIO(data)), count, len(data)


@pytest.mark.parametrize("n", [1, 3, 40])
def test_a_small_leaf_is_one_uncompressed_file_with_the_same_rows(n: int):
    batches = [rows(1, i) for i in range(n)]  # a leaf made of single-row slices, as _leaves yields them
    small, count, size = write(batches, ParquetOptions())
    assert count == n
    meta = small.metadata
    assert meta.num_row_groups == 1
    assert {meta.row_group(0).column(i).compression for i in range(meta.num_columns)} == {"UNCOMPRESSED"}
    assert meta.row_group(0).column(1).statistics.has_min_max or n < 2
    zstd, _, zstd_size = write(batches, ParquetOptions(small_file_bytes=0))
    assert zstd.metadata.row_group(0).column(0).compression == "ZSTD"
    assert small.read().equals(zstd.read())
    assert small.read().equals(pa.Table.from_batches(batches))
    assert small.schema_arrow == zstd.schema_arrow
    if n <= 3:
        assert size <= zstd_size  # zstd makes a tiny chunk larger: the footer is most of the file


def test_a_leaf_above_the_threshold_streams_zstd_row_groups():
    opts = ParquetOptions(small_file_bytes=1024, row_group_rows=300)
    f, count, _ = write([rows(200, 0), rows(200, 200), rows(200, 400)], opts)
    assert count == 600
    assert [f.metadata.row_group(i).num_rows for i in range(f.metadata.num_row_groups)] == [300, 300]
    assert f.metadata.row_group(0).column(0).compression == "ZSTD"
    assert f.read().equals(pa.Table.from_batches([rows(600)]))


def test_an_empty_writer_writes_nothing():
    sink = io.BytesIO()
    assert RowGroupWriter(sink, SCHEMA, ParquetOptions()).close() == 0
    assert sink.getvalue() == b""
