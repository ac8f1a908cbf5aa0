"""Compare-and-swap storage of one small record (the lease) on local disk or S3.

A lease is only as good as its storage's conditional writes, so the four operations the lease needs
are kept here, each a single atomic step on its backend:

| operation | local disk | S3 (AWS, SeaweedFS ≥ 4) |
| --- | --- | --- |
| create if absent | write a complete temp file, `link(2)` it to the name (fails if it exists) | PUT `If-None-Match: *` |
| read + version | read bytes; version = their SHA-256 | GET guarded by the HEAD's ETag (s3fs) |
| replace if version | under `flock` on a sidecar `.lock`: compare, then `rename(2)` | PUT `If-Match: <ETag>` |
| delete if version | under the same `flock`: compare, then `unlink` | DELETE `If-Match: <ETag>` |

`link` rather than `open(O_CREAT|O_EXCL)` + write: both are exclusive creates, but with link a reader
never sees a half-written record. Replace and delete need a compare and a write as one step, which
POSIX offers no primitive for, hence the lock (created beside the record, never deleted). Creation
needs no lock: a replace/delete requires the record present, a create requires it absent, and only
delete (under the lock) makes it absent. Every record carries a fresh nonce, so equal versions mean
the same write (S3's ETag is the MD5 of the bytes). SeaweedFS 4.48 honours If-None-Match / If-Match
on PUT and If-Match on DELETE, atomically under concurrent requests (tested against a real server).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any, Protocol

import fsspec

from kx_lake.lib.storage import fsio

Record = dict[str, Any]


class LeaseStore(Protocol):
    def read(self) -> tuple[Record, str] | None: ...
    def create(self, record: Record) -> str | None: ...
    def replace(self, record: Record, version: str) -> str | None: ...
    def delete(self, version: str) -> bool: ...


class LeaseStorageUnsupported(RuntimeError):
    """The lake's filesystem offers no exclusive create / conditional replace (only local disk and S3 do)."""


def lease_store(fs: fsspec.AbstractFileSystem, path: str) -> LeaseStore:
    if fsio.is_local(fs):
        return LocalLeaseStore(path)
    if "s3" in fs.protocol or "s3a" in fs.protocol:
        return S3LeaseStore(fs, path)
    raise LeaseStorageUnsupported(
        f"no conditional writes for {fs.protocol!r}: a lease needs a lake root on local disk or S3 ({path})")


class LeaseFileError(ValueError):
    """The lease file holds something other than a lease record; the message names the file."""


_KEYS = ("run_id", "host", "pid", "started_at", "renewed_at", "expires_at", "participants")


def _decode(data: bytes, where: str) -> Record:
    try:
        record = json.loads(data)
        missing = [k for k in _KEYS if k not in record]
    except (ValueError, TypeError) as exc:
        raise LeaseFileError(f"{where}: not a lease record ({exc}); remove it if no sync is running") from None
    if missing:
        raise LeaseFileError(f"{where}: lease record lacks {missing}; remove it if no sync is running")
    return record


def _encode(record: Record) -> bytes:
    return json.dumps({**record, "nonce": uuid.uuid4().hex}, indent=2, sort_keys=True).encode() + b"\n"


class LocalLeaseStore:
    def __init__(self, path: str):
        self.path = path

    def read(self) -> tuple[Record, str] | None:
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        return _decode(data, self.path), hashlib.sha256(data).hexdigest()

    def create(self, record: Record) -> str | None:
        data = _encode(record)
        directory = os.path.dirname(self.path)
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, fsio.temp_name(os.path.basename(self.path)))
        try:
            with open(tmp, "xb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, self.path)
        except FileExistsError:
            return None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return hashlib.sha256(data).hexdigest()

    def replace(self, record: Record, version: str) -> str | None:
        with self._locked():
            if not self._is(version):
                return None
            data = _encode(record)
            fsio.write_bytes_atomic(fsspec.filesystem("file"), self.path, data)
            return hashlib.sha256(data).hexdigest()

    def delete(self, version: str) -> bool:
        with self._locked():
            if not self._is(version):
                return False
            os.unlink(self.path)
            return True

    def _is(self, version: str) -> bool:
        current = self.read()
        return current is not None and current[1] == version

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock


class S3LeaseStore:
    def __init__(self, fs: fsspec.AbstractFileSystem, path: str):
        self.fs, self.path = fs, path

    def read(self) -> tuple[Record, str] | None:
        from s3fs.utils import FileExpired

        for _ in range(5):  # the record changed between the HEAD and the GET: read the new one
            try:
                self.fs.invalidate_cache(self.path)
                with self.fs.open(self.path, "rb", cache_type="none") as f:
                    data, version = f.read(), f.details["ETag"]
                return _decode(data, fsio.to_uri(self.fs, self.path)), version
            except FileNotFoundError:
                return None
            except OSError as exc:  # FileExpired: the If-Match of the GET failed
                if not (isinstance(exc, FileExpired) or _lost_condition(exc)):
                    raise
        raise TimeoutError(f"{fsio.to_uri(self.fs, self.path)} kept changing while being read")

    def create(self, record: Record) -> str | None:
        return self._put(record, mode="create")

    def replace(self, record: Record, version: str) -> str | None:
        return self._put(record, IfMatch=version)

    def delete(self, version: str) -> bool:
        bucket, key, _ = self.fs.split_path(self.path)
        try:
            self.fs.call_s3("delete_object", Bucket=bucket, Key=key, IfMatch=version)
        except FileNotFoundError:
            return False
        except OSError as exc:
            if _lost_condition(exc):
                return False
            raise
        return True

    def _put(self, record: Record, **condition: str) -> str | None:
        try:
            out = self.fs.pipe_file(self.path, _encode(record), **condition)
        except (FileExistsError, FileNotFoundError):
            return None
        except OSError as exc:
            if _lost_condition(exc):
                return None
            raise
        return out["ETag"]


def _lost_condition(exc: BaseException) -> bool:
    """A 412 Precondition Failed (someone else wrote first) or a 409 ConditionalRequestConflict (AWS:
    a concurrent conditional write is in flight). s3fs turns both into a plain OSError; the botocore
    error it came from is its __cause__."""
    cause = exc.__cause__ or exc
    response = getattr(cause, "response", None) or {}
    code = response.get("Error", {}).get("Code")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in {"PreconditionFailed", "ConditionalRequestConflict"} or status in {409, 412}
