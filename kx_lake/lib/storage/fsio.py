"""Filesystem selection and atomic publication of one file, for local disk and S3 through fsspec.

One code path for both: everything above this module speaks fsspec paths; only "make this file
appear whole, or not at all" differs per backend, and it lives here.

* Local: write a hidden temp file in the destination directory (`.part-00000.parquet.<uuid>.tmp`:
  the leading dot makes Hive/Athena/Spark skip it and the `.tmp` suffix keeps DuckDB's `*.parquet`
  globs off it), fsync it, `os.replace` it over the final name (atomic on POSIX), fsync the directory.
  A writer of many files (a date's leaves) defers that step and commits them together, the fsyncs
  running concurrently: per-file fsyncs were 60% of a full load's publish time.
* S3 (and any other object store fsspec knows): upload straight to the final key. A PUT, or a
  multipart upload at CompleteMultipartUpload, is atomic: readers see the old object until then. A
  temp key plus copy+delete would double the I/O, add a second non-atomic step and leave a visible
  temp object on a crash. fsspec's file `__exit__` *commits* even when an exception is propagating,
  so the upload is driven by hand: commit on success, `discard()` (abort the multipart upload) on
  failure. A killed process can leave an invisible incomplete multipart upload; a bucket lifecycle
  rule (AbortIncompleteMultipartUpload) reclaims it.

S3 settings come from the standard AWS chain: credentials, region and the endpoint
(AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, honoured by botocore and so by aiobotocore/s3fs). They are
read when the client is first used, never at import; `skip_instance_cache` stops fsspec from handing
back a filesystem built under different environment variables.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import IO, Any

import fsspec
from fsspec.core import split_protocol
from fsspec.implementations.local import LocalFileSystem

from kx_lake.lib import faults

LOCAL_PROTOCOLS = frozenset({None, "file", "local"})


def open_filesystem(
    root: str, storage_options: Mapping[str, Any] | None = None
) -> tuple[fsspec.AbstractFileSystem, str]:
    """(filesystem, root path in that filesystem's terms) for a local path or a URI such as s3://bucket/prefix."""
    protocol, rest = split_protocol(root)
    options = dict(storage_options or {})
    if protocol in LOCAL_PROTOCOLS:
        return LocalFileSystem(**options), os.path.abspath(os.path.expanduser(rest)).rstrip("/") or "/"
    if protocol in ("s3", "s3a"):
        protocol = "s3"
    options.setdefault("skip_instance_cache", True)
    if protocol == "s3":
        # Other writers (another run, another process) replace files under us: never trust a cached
        # listing or ETag, or a read of a rewritten file fails with FileExpired.
        options.setdefault("use_listings_cache", False)
        options.setdefault("cache_regions", False)
    fs = fsspec.filesystem(protocol, **options)
    path = fs._strip_protocol(root).rstrip("/")
    if not path:
        raise ValueError(f"lake root {root!r} names no bucket or container")
    return fs, path


def is_local(fs: fsspec.AbstractFileSystem) -> bool:
    return isinstance(fs, LocalFileSystem)


def to_uri(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """What to show a person or hand to another engine: a plain path locally, else protocol://path."""
    return path if is_local(fs) else fs.unstrip_protocol(path)


def temp_name(final_name: str) -> str:
    return f".{final_name}.{uuid.uuid4().hex}.tmp"


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def modified_at(fs: fsspec.AbstractFileSystem, path: str) -> float | None:
    """The file's last-modified time in epoch seconds; None if it is gone."""
    try:
        info = fs.info(path)
    except FileNotFoundError:
        return None
    when = info.get("mtime", info.get("LastModified"))
    return when.timestamp() if hasattr(when, "timestamp") else float(when)


@contextmanager
def atomic_write(fs: fsspec.AbstractFileSystem, path: str, deferred: list[tuple[str, str]] | None = None) -> Iterator[IO[bytes]]:
    """Yield a binary file; on a clean exit it appears at `path` whole, on an exception not at all.

    `deferred` (local only): instead of syncing and renaming now, leave the complete temp file and
    append (temp, path) — commit_deferred() then syncs a whole batch in parallel and renames it.
    """
    if is_local(fs):
        with _local_atomic_write(path, deferred) as f:
            yield f
        return
    f = fs.open(path, "wb")
    try:
        yield f
    except BaseException:
        f.discard()  # aborts a started multipart upload; nothing was PUT yet
        f.closed = True  # so neither close() nor __del__ commits the partial buffer
        raise
    try:
        f.close()  # the single PUT, or CompleteMultipartUpload
    except BaseException:
        f.discard()
        raise
    faults.reached("file_published")


@contextmanager
def _local_atomic_write(path: str, deferred: list[tuple[str, str]] | None = None) -> Iterator[IO[bytes]]:
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, temp_name(name))
    try:
        with _create_in(directory, tmp) as f:
            yield f
            if deferred is not None:
                deferred.append((tmp, path))
                return
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync(directory)


def _create_in(directory: str, tmp: str) -> IO[bytes]:
    """Create the temp file, making its directory; once more if another writer's prune of emptied
    directories (remove_files) took the directory between the two steps."""
    for attempt in (1, 2):
        os.makedirs(directory, exist_ok=True)
        try:
            return open(tmp, "xb")  # noqa: SIM115 - the caller's `with` closes it
        except FileNotFoundError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def commit_deferred(deferred: list[tuple[str, str]]) -> None:
    """Make deferred local writes durable and visible: fsync every temp file, rename each onto its
    path, fsync the directories — the same guarantees as one atomic_write each, but the fsyncs run
    concurrently (the filesystem folds them into a few journal commits: ~10x fewer ms per file for
    the many small leaf files of a partitioned table). On failure the remaining temp files go."""
    if not deferred:
        return
    try:
        _fsync_all([tmp for tmp, _ in deferred])
        for tmp, path in deferred:
            os.replace(tmp, path)
            faults.reached("file_published")
    except BaseException:
        for tmp, _ in deferred:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    finally:
        deferred_dirs = sorted({os.path.dirname(path) for _, path in deferred})
        deferred.clear()
    _fsync_all(deferred_dirs)


def _fsync_all(paths: list[str]) -> None:
    """fsync every path on the pool's threads, a share of the paths per thread (a task per file cost
    more in submitting than in syncing; concurrent fsyncs still share the filesystem's journal commits)."""
    if len(paths) < 2:
        for path in paths:
            _fsync(path)
        return
    list(_pool().map(_fsync_each, [paths[i::_FSYNC_THREADS] for i in range(min(_FSYNC_THREADS, len(paths)))]))


def _fsync_each(paths: list[str]) -> None:
    for path in paths:
        _fsync(path)


_POOL: ThreadPoolExecutor | None = None
_FSYNC_THREADS = 16


def _pool() -> ThreadPoolExecutor:
    global _POOL  # noqa: PLW0603 - one lazily created pool per process, only for blocking fsyncs
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_FSYNC_THREADS, thread_name_prefix="kx-fsync")
    return _POOL


def _fsync(path: str) -> None:
    """fsync a file or a directory (a rename is durable once its directory is synced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes_atomic(fs: fsspec.AbstractFileSystem, path: str, data: bytes) -> None:
    """Small files (state JSON): temp + replace locally, one PUT on an object store."""
    if is_local(fs):
        with _local_atomic_write(path) as f:
            f.write(data)
    else:
        fs.pipe_file(path, data)


def read_bytes(fs: fsspec.AbstractFileSystem, path: str) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        return fs.cat_file(path)
    except FileNotFoundError:
        return None


def list_files(fs: fsspec.AbstractFileSystem, path: str) -> dict[str, int]:
    """Every file under `path` (recursively, hidden ones included) -> size in bytes; {} if absent."""
    fs.invalidate_cache(path)  # other writers (processes) may have changed it since we last looked
    try:
        found = fs.find(path, withdirs=False, detail=True)
    except FileNotFoundError:
        return {}
    return {p: int(info.get("size") or 0) for p, info in found.items() if info.get("type") != "directory"}


def remove_files(fs: fsspec.AbstractFileSystem, paths: list[str], stop_at: str) -> None:
    """Delete files (one batched request on S3), then, locally, directories left empty up to `stop_at`."""
    if not paths:
        return
    fs.rm(sorted(paths))
    if is_local(fs):
        for directory in sorted({os.path.dirname(p) for p in paths}, key=len, reverse=True):
            _prune_empty_dirs(directory, stop_at)


def remove_tree(
    fs: fsspec.AbstractFileSystem, path: str, stop_at: str, select: Callable[[list[str]], list[str]] | None = None
) -> list[str]:
    """Delete everything under `path` (or the files `select` picks of it); return the deleted files."""
    files = sorted(list_files(fs, path))
    files = select(files) if select is not None else files
    remove_files(fs, files, stop_at)
    if is_local(fs) and os.path.isdir(path) and not os.listdir(path):
        _prune_empty_dirs(path, stop_at)
    return files


def _prune_empty_dirs(directory: str, stop_at: str) -> None:
    stop = os.path.normpath(stop_at)
    current = os.path.normpath(directory)
    while current.startswith(stop + os.sep) and current != stop:
        try:
            os.rmdir(current)
        except OSError:  # not empty (or already gone and its parent is not ours to judge)
            if os.path.isdir(current):
                return
        current = os.path.dirname(current)
