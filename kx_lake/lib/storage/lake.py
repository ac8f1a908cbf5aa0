"""LakeStorage: write, list, read and delete the lake's Parquet partitions on local disk or S3.

Shaped around the unit the lake re-materializes: one (collection, date). `write_partition` streams
every leaf (date + id partition values) of that date into exactly one file named `part-00000.parquet`,
each published atomically (see fsio), then deletes every other file under the date: older files
in the same leaves, temp debris of a crashed run, and whole leaves whose rows moved or vanished. So
re-running a date is idempotent and a reader never sees two versions of a leaf side by side. The
name is fixed rather than versioned on purpose: a new name per run would need "write new, then delete
old", and between the two a reader would count the leaf twice; a fixed name is replaced in one step.
A failure keeps each leaf either old or new (a date is not atomic across its leaves); re-running
repairs it. One writer per (collection, date) at a time is assumed, as the orchestrator schedules it.

Small state (the persisted lake schema, the watermark) lives beside the data under
`<root>/<env>/_kx_state/`, hidden from Athena by its leading underscore.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from kx_lake.lib import faults
from kx_lake.lib.storage import debris, fsio
from kx_lake.lib.storage.models import DataFile, LakeStorageError, PartitionInfo, WrittenFile
from kx_lake.lib.storage.parquet import Batches, ParquetOptions, RowGroupWriter, data_schema, iter_batches
from kx_lake.lib.storage.segments import ORIGINAL_COLUMN_PREFIX, LeafValue, original_column, with_original_values
from kx_lake.lib.storage.paths import (
    DATA_FILE_NAME,
    DATE_COLUMN,
    LEASE_FILE,
    IdPairs,
    LakeLayoutError,
    PartitionValue,
    check_segment,
    date_segment,
    id_segments,
    is_hidden,
    leaf_relpath,
    parse_leaf,
    state_relpath,
    table_relpath,
)


class LakeStorage:
    """The lake under one root (a local directory or s3://bucket/prefix)."""

    def __init__(self, fs: fsspec.AbstractFileSystem, root_path: str, parquet_options: ParquetOptions | None = None):
        self.fs = fs
        self.root_path = root_path.rstrip("/")
        self.parquet_options = parquet_options or ParquetOptions()

    @classmethod
    def from_root(
        cls,
        root: str,
        storage_options: Mapping[str, Any] | None = None,
        *,
        parquet_options: ParquetOptions | None = None,
    ) -> LakeStorage:
        """Storage for a local path or s3:// URI; S3 settings from `storage_options` or the AWS chain."""
        fs, path = fsio.open_filesystem(root, storage_options)
        return cls(fs, path, parquet_options)

    @property
    def root(self) -> str:
        return fsio.to_uri(self.fs, self.root_path)

    @property
    def is_local(self) -> bool:
        return fsio.is_local(self.fs)

    def table_dir(self, env: str, database: str, collection: str) -> str:
        return fsio.to_uri(self.fs, self._path(table_relpath(env, database, collection)))

    def leaf_dir(self, env: str, database: str, collection: str, date: dt.date | str, ids: IdPairs = ()) -> str:
        return fsio.to_uri(self.fs, self._path(leaf_relpath(env, database, collection, date, ids)))

    def write_partition(
        self,
        env: str,
        database: str,
        collection: str,
        date: dt.date | str,
        leaves: Mapping[tuple[PartitionValue, ...], Batches],
        schema: pa.Schema,
        id_columns: Sequence[str] = (),
        keep_existing: Callable[[pa.Table], pa.Table] | None = None,
    ) -> list[WrittenFile]:
        """Replace the whole date with `leaves` ({id values: batches}); one file per non-empty leaf.

        `id_columns` names the id partition columns, in path order; each key of `leaves` holds their
        values. Columns named `date` or like an id column are dropped from the data (the path holds
        them). Leaves that stream no rows, and leaves of this date not in `leaves`, end up absent —
        unless `keep_existing` is given: then each existing leaf file of the date is read first and the
        rows it returns for it (already in `schema`'s file layout) are written back into the same leaf
        after the new ones, so a re-materialized date merges instead of replacing.
        """
        where = f"{env}/{database}/{collection} {date_segment(date)}"
        for name in id_columns:
            check_segment("partition column", name)
        if DATE_COLUMN in id_columns or len(set(id_columns)) != len(id_columns):
            raise LakeLayoutError(f"{where}: id columns {list(id_columns)} repeat a column or use '{DATE_COLUMN}'")
        file_schema = data_schema(schema, [DATE_COLUMN, *id_columns])
        date_dir = self._path(leaf_relpath(env, database, collection, date))
        plan: dict[str, tuple[tuple[PartitionValue, ...], Batches, pa.Schema]] = {}
        for key, data in leaves.items():  # validate every key before writing anything
            if len(key) != len(id_columns):
                raise LakeLayoutError(f"{where}: leaf key {key!r} does not match id columns {list(id_columns)}")
            try:
                path = "/".join([date_dir, *id_segments(list(zip(id_columns, key, strict=True))), DATA_FILE_NAME])
                leaf_schema, leaf_data = with_original_values(file_schema, data, id_columns, key)
            except ValueError as exc:  # LakeLayoutError included
                raise LakeLayoutError(f"{where}: leaf key {key!r}: {exc}") from exc
            if path in plan:
                uri = fsio.to_uri(self.fs, path)
                raise LakeLayoutError(f"{where}: leaf keys {plan[path][0]!r} and {key!r} both map to {uri}")
            plan[path] = (key, leaf_data, leaf_schema)
        if keep_existing is not None:
            self._merge_existing(date_dir, file_schema, plan, keep_existing, where)
        keep: set[str] = set()
        written: list[WrittenFile] = []
        deferred: list[tuple[str, str]] | None = [] if self.is_local else None
        try:
            for path, key, result in self._write_leaves(plan, where, deferred):
                if result is not None:
                    keep.add(path)
                    ids = tuple(_str(v) for v in key)
                    written.append(WrittenFile(fsio.to_uri(self.fs, path), result[0], result[1], ids))
        finally:  # leaves written before a failing one are published, as if each had been committed alone
            if deferred:
                try:
                    fsio.commit_deferred(deferred)
                except Exception as exc:
                    raise LakeStorageError(f"{where}: publishing under {fsio.to_uri(self.fs, date_dir)} failed: {exc}") from exc
        stale = debris.sweepable(self.fs, [p for p in fsio.list_files(self.fs, date_dir) if p not in keep],
                                 lambda: self.read_json(env, LEASE_FILE))
        try:
            fsio.remove_files(self.fs, stale, stop_at=self._path(table_relpath(env, database, collection)))
        except Exception as exc:
            raise LakeStorageError(
                f"{where}: removing stale files under {fsio.to_uri(self.fs, date_dir)}: {exc}"
            ) from exc
        return written

    def _merge_existing(
        self, date_dir: str, file_schema: pa.Schema,
        plan: dict[str, tuple[tuple[PartitionValue, ...], Batches, pa.Schema]],
        keep_existing: Callable[[pa.Table], pa.Table], where: str,
    ) -> None:
        """Add to `plan` the rows `keep_existing` keeps of each existing leaf file, streamed row group by
        row group while the leaf is written (a date can hold more than memory; the old file is replaced
        only once the new one is complete, so reading it meanwhile is safe). `keep_existing` sees the
        data columns only; a disambiguated leaf's `_kx_orig_<column>` values (constant per file) are put
        back on the rows it keeps. A leaf left with no rows ends up absent."""
        table_dir = date_dir.rsplit("/", 1)[0]
        for path in sorted(fsio.list_files(self.fs, date_dir)):
            rel = path[len(table_dir) + 1:]
            *dirs, name = rel.split("/")
            if name != DATA_FILE_NAME or any(is_hidden(p) for p in dirs):
                continue
            try:
                with self.fs.open(path, "rb") as f:
                    pf = pq.ParquetFile(f)
                    columns = [c for c in pf.schema_arrow.names if c.startswith(ORIGINAL_COLUMN_PREFIX)]
                    first = pf.read_row_group(0, columns=columns) if columns and pf.num_row_groups else None
                    originals = {c: first.column(c)[0].as_py() for c in columns} if first is not None and first.num_rows \
                        else {}
                    if not pf.metadata.num_rows:
                        continue
            except Exception as exc:
                raise LakeStorageError(f"{where}: merging the existing {fsio.to_uri(self.fs, path)}: {exc}") from exc
            if path in plan:
                key, data, leaf_schema = plan[path]
            else:
                _day, ids = parse_leaf("/".join(dirs))
                key, data = tuple(v for _, v in ids), []
                leaf_schema = file_schema
                for column in originals:
                    leaf_schema = leaf_schema.append(pa.field(column, pa.string()))
            kept = self._kept_rows(path, originals, leaf_schema, keep_existing, where)
            plan[path] = (key, itertools.chain(iter_batches(data), kept), leaf_schema)  # streamed

    def _kept_rows(
        self, path: str, originals: dict[str, Any], leaf_schema: pa.Schema,
        keep_existing: Callable[[pa.Table], pa.Table], where: str,
    ) -> Iterator[pa.RecordBatch]:
        try:
            with self.fs.open(path, "rb") as f:
                pf = pq.ParquetFile(f)
                for batch in _slices(pf):
                    table = pa.Table.from_batches([batch])
                    kept = keep_existing(table.drop_columns([c for c in originals if c in table.column_names]))
                    if not kept.num_rows:
                        continue
                    for column in leaf_schema.names:
                        if column not in kept.column_names and column in originals:
                            kept = kept.append_column(column, pa.repeat(pa.scalar(originals[column], pa.string()),
                                                                        kept.num_rows))
                    yield from kept.to_batches()
        except LakeStorageError:
            raise
        except Exception as exc:
            raise LakeStorageError(f"{where}: merging the existing {fsio.to_uri(self.fs, path)}: {exc}") from exc

    def _write_leaves(
        self, plan: dict[str, tuple[tuple[PartitionValue, ...], Batches, pa.Schema]], where: str,
        deferred: list[tuple[str, str]] | None,
    ) -> list[tuple[str, tuple[PartitionValue, ...], tuple[int, int] | None]]:
        """Write every leaf; locally on a few threads (Parquet encoding and file I/O release the GIL, and
        most leaves are small files whose cost is mostly opening, encoding and closing). Every leaf is
        attempted; the first failure is raised after the others finished (and are committed)."""
        if deferred is None or len(plan) < 2:
            return [(path, key, self._write_leaf(path, data, schema, where, deferred))
                    for path, (key, data, schema) in plan.items()]
        items = list(plan.items())
        # a few tasks of many leaves each, not a task per leaf: a submit per small leaf cost more than its write
        groups = [items[i::_WRITERS] for i in range(min(_WRITERS, len(items)))]
        results, error = [], None
        for future in [_write_pool().submit(self._write_group, group, where, deferred) for group in groups]:
            for path, key, result, exc in future.result():
                if exc is not None:
                    error = error or exc
                else:
                    results.append((path, key, result))
        if error is not None:
            raise error
        return results

    def _write_group(
        self, group: list[tuple[str, tuple[tuple[PartitionValue, ...], Batches, pa.Schema]]], where: str,
        deferred: list[tuple[str, str]],
    ) -> list[tuple[str, tuple[PartitionValue, ...], tuple[int, int] | None, Exception | None]]:
        out = []
        for path, (key, data, schema) in group:
            try:
                out.append((path, key, self._write_leaf(path, data, schema, where, deferred), None))
            except Exception as exc:  # noqa: BLE001 - every leaf is attempted; the caller raises the first
                out.append((path, key, None, exc))
        return out

    def _write_leaf(
        self, path: str, data: Batches, schema: pa.Schema, where: str, deferred: list[tuple[str, str]] | None = None
    ) -> tuple[int, int] | None:
        batches = iter_batches(data)
        try:
            first = next((b for b in batches if b.num_rows), None)
            if first is None:
                return None
            with fsio.atomic_write(self.fs, path, deferred) as sink:
                writer = RowGroupWriter(sink, schema, self.parquet_options)
                try:
                    writer.write(first)
                    for batch in batches:
                        writer.write(batch)
                    rows = writer.close()
                except BaseException:
                    writer.abandon()
                    raise
                size = sink.tell()
            faults.reached("leaf_written")
        except Exception as exc:
            raise LakeStorageError(
                f"{where}: writing {fsio.to_uri(self.fs, path)} failed, previous version kept: {exc}"
            ) from exc
        return rows, size

    def list_partitions(self, env: str, database: str, collection: str) -> list[PartitionInfo]:
        """Every data file of the table, sorted by path, with its row count from the Parquet footer."""
        out = []
        for path, size, date, ids in self.data_files(env, database, collection):
            try:
                with self.fs.open(path, "rb") as f:
                    rows = pq.ParquetFile(f).metadata.num_rows
            except Exception as exc:
                uri = fsio.to_uri(self.fs, path)
                raise LakeStorageError(f"{env}/{database}/{collection}: reading the footer of {uri}: {exc}") from exc
            out.append(PartitionInfo(date, ids, fsio.to_uri(self.fs, path), rows, size))
        return out

    def date_dirs(self, env: str, database: str, collection: str) -> set[str]:
        """The table's `date=YYYY-MM-DD` directory names (one listing, no footers read); empty if none."""
        table = self._path(table_relpath(env, database, collection))
        self.fs.invalidate_cache(table)
        try:
            names = self.fs.ls(table, detail=False)
        except FileNotFoundError:
            return set()
        return {n.rstrip("/").rsplit("/", 1)[-1] for n in names} - {""}

    def read_table(self, env: str, database: str, collection: str, date: dt.date | str | None = None) -> pa.Table:
        """The table (or one date) with its partition columns restored from the paths; for tests and tools."""
        tables = []
        for path, _size, day, ids in self.data_files(env, database, collection, date):
            with self.fs.open(path, "rb") as f:
                table = pq.read_table(f)
            table = table.append_column(
                pa.field(DATE_COLUMN, pa.date32()), pa.array([day] * table.num_rows, pa.date32())
            )
            for name, value in ids:
                values = pa.array([value] * table.num_rows, pa.string())
                if original_column(name) in table.column_names:  # a disambiguated leaf: the original value
                    values = table.column(original_column(name)).combine_chunks()
                    table = table.drop_columns([original_column(name)])
                table = table.append_column(pa.field(name, pa.string()), values)
            tables.append(table)
        if not tables:
            return pa.table({})
        return pa.concat_tables(tables, promote_options="permissive")

    def delete_partition(
        self, env: str, database: str, collection: str, date: dt.date | str, ids: IdPairs | None = None
    ) -> list[str]:
        """Delete a date (or, given `ids`, one leaf under it); return the deleted files."""
        target = self._path(leaf_relpath(env, database, collection, date, ids or ()))
        try:
            removed = fsio.remove_tree(
                self.fs, target, stop_at=self._path(table_relpath(env, database, collection)),
                select=lambda files: debris.sweepable(self.fs, files, lambda: self.read_json(env, LEASE_FILE)),
            )
        except Exception as exc:
            raise LakeStorageError(
                f"{env}/{database}/{collection}: deleting {fsio.to_uri(self.fs, target)}: {exc}"
            ) from exc
        return [fsio.to_uri(self.fs, p) for p in removed]

    def env_file(self, env: str, relpath: str) -> str:
        """The filesystem path of `<root>/<env>/<relpath>` (for tables beside the collections, e.g. rejects)."""
        return self._path(f"{env}/{relpath}")

    def state_path(self, env: str, relpath: str) -> str:
        return fsio.to_uri(self.fs, self._path(state_relpath(env, relpath)))

    def read_json(self, env: str, relpath: str) -> Any | None:
        """The JSON document at `<root>/<env>/_kx_state/<relpath>`, or None if there is none yet."""
        path = self._path(state_relpath(env, relpath))
        try:
            data = fsio.read_bytes(self.fs, path)
        except Exception as exc:
            raise LakeStorageError(f"{env}: reading state {fsio.to_uri(self.fs, path)}: {exc}") from exc
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError as exc:
            raise LakeStorageError(f"{env}: state file {fsio.to_uri(self.fs, path)} is not valid JSON: {exc}") from exc

    def write_json_atomic(self, env: str, relpath: str, obj: Any) -> str:
        """Replace the state document in one step (temp + rename locally, a single PUT on S3)."""
        path = self._path(state_relpath(env, relpath))
        try:
            data = json.dumps(obj, indent=2, sort_keys=True, allow_nan=False).encode() + b"\n"
        except (TypeError, ValueError) as exc:
            raise LakeStorageError(
                f"{env}: state for {fsio.to_uri(self.fs, path)} is not JSON-serializable: {exc}"
            ) from exc
        try:
            fsio.write_bytes_atomic(self.fs, path, data)
        except Exception as exc:
            raise LakeStorageError(f"{env}: writing state {fsio.to_uri(self.fs, path)}: {exc}") from exc
        return fsio.to_uri(self.fs, path)

    def _path(self, relpath: str) -> str:
        return f"{self.root_path}/{relpath}"

    def data_files(self, env: str, database: str, collection: str, date: dt.date | str | None = None) -> list[DataFile]:
        """The table's (or one date's) data files, sorted by path, from a listing alone; a file that does not
        fit the layout is an error naming it."""
        table = self._path(table_relpath(env, database, collection))
        base = table if date is None else f"{table}/{date_segment(date)}"
        out = []
        for path, size in sorted(fsio.list_files(self.fs, base).items()):
            rel = path[len(table) + 1 :]
            *dirs, name = rel.split("/")
            if not name.endswith(".parquet") or any(is_hidden(p) for p in [*dirs, name]):
                continue
            try:
                day, ids = parse_leaf("/".join(dirs))
            except (LakeLayoutError, ValueError) as exc:
                raise LakeStorageError(
                    f"{env}/{database}/{collection}: unexpected file {fsio.to_uri(self.fs, path)} in the lake: {exc}"
                ) from exc
            out.append(DataFile(path, size, day, ids))
        return out


_WRITE_POOL: ThreadPoolExecutor | None = None
_WRITERS = 4
_MERGE_SLICE_BYTES = 32 * 2**20


def _slices(pf: pq.ParquetFile) -> Iterator[pa.RecordBatch]:
    """A file's rows in slices of ~_MERGE_SLICE_BYTES (not whole row groups: 128 MB each, up to four
    leaves written at once), read one row group at a time. One reader over the whole file holds more
    the longer the file (measured: 1 MB rows, 128 MB row groups — 390 MB above the interpreter for a
    500 MB file, 460 MB for 1 GB), a reader per row group stays flat (~185 MB)."""
    meta = pf.metadata
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        row_bytes = max(1, group.total_byte_size // max(1, group.num_rows))
        yield from pf.iter_batches(batch_size=max(1, _MERGE_SLICE_BYTES // row_bytes), row_groups=[i])


def _write_pool() -> ThreadPoolExecutor:
    global _WRITE_POOL  # noqa: PLW0603 - one lazily created pool per process
    if _WRITE_POOL is None:
        _WRITE_POOL = ThreadPoolExecutor(max_workers=_WRITERS, thread_name_prefix="kx-leaf")
    return _WRITE_POOL


def _str(value: PartitionValue) -> str | None:
    if isinstance(value, LeafValue):
        return value.text
    return None if value is None or value == "" else str(value)
