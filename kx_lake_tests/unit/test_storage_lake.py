"""LakeStorage behaviour, the same cases on a local directory and (integration) on SeaweedFS via s3://.

The s3 parameter needs the `seaweed_s3` fixture (kx_lake_tests.fixtures.seaweedfs) and is marked
integration, so `-m "not integration"` runs the local half alone.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from kx_lake.lib.storage import LakeLayoutError, LakeStorage, LakeStorageError, ParquetOptions, fsio

ENV, DB, COLL = "env1", "hims", "visits"
D1, D2 = dt.date(2024, 3, 9), dt.date(2024, 3, 10)
SCHEMA = pa.schema(
    [
        ("visit_id", pa.string()),
        ("amount", pa.float64()),
        ("modified", pa.timestamp("us", tz="UTC")),
        ("site", pa.string()),  # partition column: must not be stored in the files
    ]
)
MakeStorage = Callable[..., LakeStorage]


def batch(start: int, n: int, site: str | None = "s1") -> pa.RecordBatch:
    base = dt.datetime(2024, 3, 9, 10, 0, 0, 123456, tzinfo=dt.UTC)
    return pa.record_batch(
        [
            pa.array([f"v{i}" for i in range(start, start + n)]),
            pa.array([i * 1.5 for i in range(start, start + n)]),
            pa.array([base + dt.timedelta(seconds=i) for i in range(start, start + n)], pa.timestamp("us", tz="UTC")),
            pa.array([site] * n, pa.string()),
        ],
        schema=SCHEMA,
    )


def big_batch(start: int, n: int) -> pa.RecordBatch:
    """A vectorized batch of ~25 bytes/row uncompressed, for tests that need megabytes quickly."""
    ids = pa.array(range(start, start + n), pa.int64())
    return pa.record_batch(
        [
            pc.binary_join_element_wise("v", ids.cast(pa.string()), ""),
            ids.cast(pa.float64()),
            pc.multiply(ids, 1_000_000).cast(pa.timestamp("us", tz="UTC")),
            pa.array(["s1"] * n, pa.string()),
        ],
        schema=SCHEMA,
    )


def all_files(storage: LakeStorage) -> list[str]:
    """Every object/file under the root, hidden ones included, relative to the root."""
    storage.fs.invalidate_cache()
    found = storage.fs.find(storage.root_path, withdirs=False, detail=True)
    # SeaweedFS may keep an emptied prefix as a directory entry; s3fs reports it even without withdirs.
    return sorted(p[len(storage.root_path) + 1 :] for p, info in found.items() if info["type"] != "directory")


def read_file(storage: LakeStorage, path: str) -> pa.Table:
    with storage.fs.open(path, "rb") as f:
        return pq.read_table(f)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def make_storage(request: pytest.FixtureRequest, tmp_path) -> MakeStorage:
    """A factory of LakeStorage on a fresh root: a tmp dir, or a unique prefix in the SeaweedFS bucket."""
    if request.param == "local":
        root = str(tmp_path / "lake")
        return lambda **kw: LakeStorage.from_root(root, **kw)
    seaweed = request.getfixturevalue("seaweed_s3")
    root = seaweed.unique_prefix()
    # 5 MiB blocks (the S3 minimum part size) so modest test data already goes multipart.
    options = {**seaweed.storage_options, "default_block_size": 5 * 2**20}
    return lambda **kw: LakeStorage.from_root(root, options, **kw)


@pytest.fixture
def storage(make_storage: MakeStorage) -> LakeStorage:
    return make_storage()


def test_layout_paths_and_partition_columns_live_in_the_path_only(storage: LakeStorage):
    leaves = {("BLR/1", None): batch(0, 3), ("mys", "w=2"): batch(3, 2)}
    written = storage.write_partition(ENV, DB, COLL, D1, leaves, SCHEMA, id_columns=["site", "ward"])
    assert all_files(storage) == [
        "env1/hims/visits/date=2024-03-09/site=BLR%2F1/ward=__HIVE_DEFAULT_PARTITION__/part-00000.parquet",
        "env1/hims/visits/date=2024-03-09/site=mys/ward=w%3D2/part-00000.parquet",
    ]
    assert storage.table_dir(ENV, DB, COLL) == f"{storage.root}/env1/hims/visits"
    assert storage.leaf_dir(ENV, DB, COLL, D1, [("site", "BLR/1"), ("ward", None)]) == (
        f"{storage.root}/env1/hims/visits/date=2024-03-09/site=BLR%2F1/ward=__HIVE_DEFAULT_PARTITION__"
    )
    assert [(w.rows, w.ids) for w in written] == [(3, ("BLR/1", None)), (2, ("mys", "w=2"))]
    assert written[0].path.startswith(storage.root) and written[0].path.endswith(
        "ward=__HIVE_DEFAULT_PARTITION__/part-00000.parquet"
    )
    for w in written:
        assert w.bytes == storage.fs.size(w.path)
        assert read_file(storage, w.path).column_names == ["visit_id", "amount", "modified"]


def test_parquet_shape_zstd_ms_timestamps_statistics_and_cut_row_groups(make_storage: MakeStorage):
    storage = make_storage(parquet_options=ParquetOptions(row_group_rows=100))
    batches = [batch(i * 30, 30) for i in range(8)]  # 240 rows in 30-row batches
    [w] = storage.write_partition(ENV, DB, COLL, D1, {("s1",): batches}, SCHEMA, id_columns=["site"])
    with storage.fs.open(w.path, "rb") as f:
        meta = pq.ParquetFile(f).metadata
        arrow_schema = pq.ParquetFile(f).schema_arrow
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [100, 100, 40]
    column = meta.row_group(0).column(2)
    assert column.compression == "ZSTD"
    assert column.physical_type == "INT64"  # not INT96
    assert column.statistics is not None and column.statistics.has_min_max
    assert arrow_schema.field("modified").type == pa.timestamp("ms", tz="UTC")
    table = read_file(storage, w.path)
    assert table.column("modified")[0].as_py() == dt.datetime(2024, 3, 9, 10, 0, 0, 123000, tzinfo=dt.UTC)


def test_batches_are_conformed_to_the_declared_schema(storage: LakeStorage):
    b = batch(0, 2)
    shuffled = pa.record_batch([b.column(1).cast(pa.float32()), b.column(0)], names=["amount", "visit_id"])
    partial = pa.schema([SCHEMA.field("visit_id"), SCHEMA.field("amount")])
    [w] = storage.write_partition(ENV, DB, COLL, D1, {(): [shuffled]}, partial)
    assert read_file(storage, w.path).schema == partial
    with pytest.raises(LakeStorageError, match=r"env1/hims/visits date=2024-03-09.*lacks column\(s\) amount"):
        storage.write_partition(ENV, DB, COLL, D1, {(): [b.select(["visit_id"])]}, partial)


def test_repeated_writes_leave_one_file_per_leaf_and_are_idempotent(storage: LakeStorage):
    leaves = {("s1",): batch(0, 5), ("s2",): batch(5, 4, "s2")}
    first = storage.write_partition(ENV, DB, COLL, D1, leaves, SCHEMA, ["site"])
    before = storage.read_table(ENV, DB, COLL)
    for _ in range(2):
        again = storage.write_partition(ENV, DB, COLL, D1, leaves, SCHEMA, ["site"])
    assert [(w.path, w.rows) for w in again] == [(w.path, w.rows) for w in first]
    assert all_files(storage) == [
        "env1/hims/visits/date=2024-03-09/site=s1/part-00000.parquet",
        "env1/hims/visits/date=2024-03-09/site=s2/part-00000.parquet",
    ]
    assert storage.read_table(ENV, DB, COLL).equals(before)


def test_rewrite_removes_stale_leaves_and_stray_files_but_not_other_dates(storage: LakeStorage):
    storage.write_partition(ENV, DB, COLL, D1, {("s1",): batch(0, 2), ("s2",): batch(2, 2, "s2")}, SCHEMA, ["site"])
    storage.write_partition(ENV, DB, COLL, D2, {("s2",): batch(9, 1, "s2")}, SCHEMA, ["site"])
    leaf = storage.leaf_dir(ENV, DB, COLL, D1, [("site", "s1")])
    for stray in ["part-00001.parquet", ".part-00000.parquet.dead.tmp"]:
        storage.fs.pipe_file(f"{leaf}/{stray}", b"debris")
    storage.write_partition(ENV, DB, COLL, D1, {("s1",): batch(0, 3)}, SCHEMA, ["site"])
    assert all_files(storage) == [
        "env1/hims/visits/date=2024-03-09/site=s1/part-00000.parquet",
        "env1/hims/visits/date=2024-03-10/site=s2/part-00000.parquet",
    ]
    if storage.is_local:  # the emptied leaf directory is gone too
        assert not os.path.exists(storage.leaf_dir(ENV, DB, COLL, D1, [("site", "s2")]))


def test_empty_leaves_and_an_empty_date_end_up_absent(storage: LakeStorage):
    storage.write_partition(ENV, DB, COLL, D1, {("s1",): batch(0, 2), ("s2",): batch(2, 2, "s2")}, SCHEMA, ["site"])
    empty = SCHEMA.empty_table()
    written = storage.write_partition(ENV, DB, COLL, D1, {("s1",): batch(0, 2), ("s2",): empty}, SCHEMA, ["site"])
    assert [w.ids for w in written] == [("s1",)]
    assert all_files(storage) == ["env1/hims/visits/date=2024-03-09/site=s1/part-00000.parquet"]
    assert storage.write_partition(ENV, DB, COLL, D1, {}, SCHEMA, ["site"]) == []
    assert all_files(storage) == []


def _failing(batches: list[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield from batches
    raise RuntimeError("source cursor died")


def test_failure_mid_stream_keeps_the_previous_file_and_leaves_no_temp(make_storage: MakeStorage, monkeypatch):
    storage = make_storage(parquet_options=ParquetOptions(row_group_rows=150_000, compression="none"))
    storage.write_partition(ENV, DB, COLL, D1, {("s1",): batch(0, 3)}, SCHEMA, ["site"])
    before = storage.read_table(ENV, DB, COLL)
    calls: list[str] = []
    if not storage.is_local:  # record the S3 calls the failed write makes
        real_call = storage.fs.call_s3
        monkeypatch.setattr(
            storage.fs, "call_s3", lambda method, *a, **kw: calls.append(method) or real_call(method, *a, **kw)
        )
    big = [big_batch(i * 150_000, 150_000) for i in range(2)]  # 2 uncompressed row groups, > one 5 MiB part
    with pytest.raises(
        LakeStorageError, match=r"env1/hims/visits date=2024-03-09: writing .*site=s1/part-00000.parquet"
    ) as info:
        storage.write_partition(ENV, DB, COLL, D1, {("s1",): _failing(big)}, SCHEMA, ["site"])
    assert isinstance(info.value.__cause__, RuntimeError)
    assert all_files(storage) == ["env1/hims/visits/date=2024-03-09/site=s1/part-00000.parquet"]
    assert storage.read_table(ENV, DB, COLL).equals(before)
    if not storage.is_local:  # a multipart upload was started, never completed, and aborted
        assert "upload_part" in calls and "complete_multipart_upload" not in calls
        bucket = storage.root_path.split("/")[0]
        uploads = storage.fs.call_s3("list_multipart_uploads", Bucket=bucket)
        assert [u["Key"] for u in uploads.get("Uploads", [])] == []


def test_failure_in_a_later_leaf_keeps_earlier_leaves_new_and_stale_cleanup_undone(storage: LakeStorage):
    storage.write_partition(ENV, DB, COLL, D1, {("s1",): batch(0, 1), ("s2",): batch(1, 1, "s2")}, SCHEMA, ["site"])
    with pytest.raises(LakeStorageError, match="site=s2"):
        storage.write_partition(
            ENV, DB, COLL, D1, {("s1",): batch(0, 5), ("s2",): _failing([batch(1, 2, "s2")])}, SCHEMA, ["site"]
        )
    by_site = {p.ids: p.rows for p in storage.list_partitions(ENV, DB, COLL)}
    assert by_site == {(("site", "s1"),): 5, (("site", "s2"),): 1}


def test_list_partitions_reports_rows_bytes_and_unescaped_ids(storage: LakeStorage):
    storage.write_partition(ENV, DB, COLL, D2, {("a:b",): batch(0, 7)}, SCHEMA, ["site"])
    written = storage.write_partition(ENV, DB, COLL, D1, {("s1",): batch(0, 2), (None,): batch(2, 3)}, SCHEMA, ["site"])
    parts = storage.list_partitions(ENV, DB, COLL)
    assert [(p.date, p.ids, p.rows) for p in parts] == [
        (D1, (("site", None),), 3),
        (D1, (("site", "s1"),), 2),
        (D2, (("site", "a:b"),), 7),
    ]
    sizes = {w.path: w.bytes for w in written}
    for p in parts:
        assert p.bytes == storage.fs.size(p.path) > 0
        assert p.path not in sizes or sizes[p.path] == p.bytes
    assert storage.list_partitions(ENV, DB, "never_written") == []
    storage.write_partition(ENV, DB, f"{COLL}_archive", D1, {("s1",): batch(0, 1)}, SCHEMA, ["site"])
    assert len(storage.list_partitions(ENV, DB, COLL)) == 3  # a collection sharing the name prefix is not listed


def test_data_files_lists_the_table_or_one_date_without_reading_footers(storage: LakeStorage):
    storage.write_partition(ENV, DB, COLL, D2, {("a:b",): batch(0, 7)}, SCHEMA, ["site"])
    storage.write_partition(ENV, DB, COLL, D1, {("s1",): batch(0, 2), (None,): batch(2, 3)}, SCHEMA, ["site"])
    files = storage.data_files(ENV, DB, COLL)
    assert [(f.date, f.ids) for f in files] == [(p.date, p.ids) for p in storage.list_partitions(ENV, DB, COLL)]
    assert all(f.bytes == storage.fs.size(f.path) > 0 and "://" not in f.path for f in files)
    assert [f.ids for f in storage.data_files(ENV, DB, COLL, D2)] == [(("site", "a:b"),)]
    assert storage.data_files(ENV, DB, "never_written") == []


def test_read_table_restores_partition_columns_and_filters_by_date(storage: LakeStorage):
    storage.write_partition(ENV, DB, COLL, D1, {("s1",): batch(0, 2)}, SCHEMA, ["site"])
    storage.write_partition(ENV, DB, COLL, D2, {(None,): batch(2, 1)}, SCHEMA, ["site"])
    table = storage.read_table(ENV, DB, COLL)
    assert table.column_names == ["visit_id", "amount", "modified", "date", "site"]
    assert table.column("site").to_pylist() == ["s1", "s1", None]
    assert storage.read_table(ENV, DB, COLL, date=D2).column("visit_id").to_pylist() == ["v2"]
    assert storage.read_table(ENV, DB, COLL, date="2024-01-01").num_rows == 0


def test_delete_partition_removes_a_leaf_or_a_whole_date(storage: LakeStorage):
    leaves = {("s1",): batch(0, 1), ("s2",): batch(1, 1, "s2"), ("s20",): batch(1, 1, "s20")}
    storage.write_partition(ENV, DB, COLL, D1, leaves, SCHEMA, ["site"])
    storage.write_partition(ENV, DB, COLL, D2, {("s1",): batch(2, 1)}, SCHEMA, ["site"])
    removed = storage.delete_partition(ENV, DB, COLL, D1, [("site", "s2")])
    assert [r.rsplit("/", 2)[1] for r in removed] == ["site=s2"]  # not its prefix-sibling site=s20
    assert len(storage.delete_partition(ENV, DB, COLL, D2)) == 1
    assert all_files(storage) == [
        "env1/hims/visits/date=2024-03-09/site=s1/part-00000.parquet",
        "env1/hims/visits/date=2024-03-09/site=s20/part-00000.parquet",
    ]
    assert storage.delete_partition(ENV, DB, COLL, D2) == []


def test_json_state_round_trips_and_replaces_atomically(storage: LakeStorage):
    assert storage.read_json(ENV, "hims/visits/watermark.json") is None
    uri = storage.write_json_atomic(ENV, "hims/visits/watermark.json", {"ts": "2024-03-09T10:00:00Z", "n": 1})
    assert uri == f"{storage.root}/env1/_kx_state/hims/visits/watermark.json"
    storage.write_json_atomic(ENV, "hims/visits/watermark.json", {"ts": "2024-03-10T00:00:00Z", "n": 2})
    assert storage.read_json(ENV, "hims/visits/watermark.json") == {"ts": "2024-03-10T00:00:00Z", "n": 2}
    with pytest.raises(LakeStorageError, match=r"env1: state for .*watermark.json is not JSON-serializable"):
        storage.write_json_atomic(ENV, "hims/visits/watermark.json", {"ts": dt.datetime.now()})
    assert storage.read_json(ENV, "hims/visits/watermark.json")["n"] == 2
    assert all_files(storage) == ["env1/_kx_state/hims/visits/watermark.json"]
    storage.fs.pipe_file(f"{storage.root_path}/env1/_kx_state/bad.json", b"{not json")
    with pytest.raises(LakeStorageError, match=r"bad.json is not valid JSON"):
        storage.read_json(ENV, "bad.json")


def test_errors_name_the_collection_and_the_offending_value(storage: LakeStorage):
    with pytest.raises(LakeLayoutError, match=r"env1/hims/visits date=2024-03-09: leaf key \('a', 'b'\)"):
        storage.write_partition(ENV, DB, COLL, D1, {("a", "b"): batch(0, 1)}, SCHEMA, ["site"])
    with pytest.raises(LakeLayoutError, match=r"leaf keys \(None,\) and \('',\) both map to .*site=__HIVE_DEFAULT"):
        storage.write_partition(ENV, DB, COLL, D1, {(None,): batch(0, 1), ("",): batch(1, 1)}, SCHEMA, ["site"])
    with pytest.raises(LakeLayoutError, match=r"env1/hims/visits date=2024-03-09: leaf key \(1.5,\): partition value"):
        storage.write_partition(ENV, DB, COLL, D1, {("ok",): batch(0, 1), (1.5,): batch(1, 1)}, SCHEMA, ["site"])
    assert all_files(storage) == []  # keys are all checked before anything is written
    with pytest.raises(LakeLayoutError, match="'date'"):
        storage.write_partition(ENV, DB, COLL, D1, {("x",): batch(0, 1)}, SCHEMA, ["date"])
    storage.fs.makedirs(storage.table_dir(ENV, DB, COLL), exist_ok=True)
    storage.fs.pipe_file(f"{storage.table_dir(ENV, DB, COLL)}/stray.parquet", b"x")
    with pytest.raises(LakeStorageError, match=r"env1/hims/visits: unexpected file .*stray.parquet"):
        storage.list_partitions(ENV, DB, COLL)


def duckdb_lake(storage: LakeStorage) -> tuple[duckdb.DuckDBPyConnection, str]:
    """A DuckDB connection that can read the lake, and the `read_parquet(...)` of the test table."""
    con = duckdb.connect()
    if not storage.is_local:
        con.register_filesystem(storage.fs)  # DuckDB cannot fetch httpfs here; fsspec serves s3://
    glob = f"{storage.table_dir(ENV, DB, COLL)}/**/*.parquet"
    return con, f"read_parquet('{glob}', hive_partitioning=true)"


def test_duckdb_reads_the_lake_with_hive_partitioning(storage: LakeStorage):
    storage.write_partition(ENV, DB, COLL, D1, {("BLR/1",): batch(0, 2), (None,): batch(2, 1)}, SCHEMA, ["site"])
    storage.write_partition(ENV, DB, COLL, D2, {("x=y",): batch(3, 4)}, SCHEMA, ["site"])
    con, lake = duckdb_lake(storage)
    rows = con.execute(
        f"SELECT date::VARCHAR, site, count(*), min(modified) FROM {lake} GROUP BY ALL ORDER BY 1, 2 NULLS FIRST"
    ).fetchall()
    assert [r[:3] for r in rows] == [("2024-03-09", None, 1), ("2024-03-09", "BLR/1", 2), ("2024-03-10", "x=y", 4)]


def test_a_reader_during_a_rewrite_sees_only_the_previous_version(make_storage: MakeStorage):
    storage = make_storage(parquet_options=ParquetOptions(row_group_rows=10))  # each batch reaches the sink
    storage.write_partition(ENV, DB, COLL, D1, {("s1",): batch(0, 3)}, SCHEMA, ["site"])
    con, lake = duckdb_lake(storage)
    seen: list[tuple[int, list[str]]] = []

    def rewrite() -> Iterator[pa.RecordBatch]:
        for i in range(2):
            yield batch(i * 10, 10)
            seen.append((con.execute(f"SELECT count(*) FROM {lake}").fetchone()[0], all_files(storage)))

    storage.write_partition(ENV, DB, COLL, D1, {("s1",): rewrite()}, SCHEMA, ["site"])
    assert [count for count, _ in seen] == [3, 3]
    if storage.is_local:  # the half-written file was there, hidden from `*.parquet` globs and Hive
        assert any(f.rsplit("/", 1)[1].startswith(".part-00000.parquet.") for f in seen[-1][1])
    assert con.execute(f"SELECT count(*) FROM {lake}").fetchone()[0] == 20


def test_temp_names_hide_from_hive_and_from_duckdb_globs(tmp_path):
    """DuckDB's `**/*.parquet` does include dot- and underscore-files, so a hidden prefix alone is not enough."""
    leaf = tmp_path / "date=2024-01-01"
    leaf.mkdir()
    table = pa.table({"x": [1]})
    for name in ["part-00000.parquet", ".hidden.parquet", fsio.temp_name("part-00000.parquet")]:
        pq.write_table(table, leaf / name)
    found = duckdb.sql(f"SELECT filename FROM read_parquet('{tmp_path}/**/*.parquet', filename=true)").fetchall()
    names = sorted(f[0].rsplit("/", 1)[1] for f in found)
    assert names == [".hidden.parquet", "part-00000.parquet"]  # the temp file is not read; '.hidden' would be
    assert fsio.temp_name("part-00000.parquet").startswith(".")  # and Hive/Athena skip it by its prefix
