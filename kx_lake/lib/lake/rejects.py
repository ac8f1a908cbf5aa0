"""The rejects table: every source document the lake could not place, with the reason.

"Every document the source holds is in the lake, or in the rejects table with a reason" — this is
the second half. One Parquet file per collection and environment,
`<root>/<env>/kx_rejects/database=<db>/collection=<collection>/part-00000.parquet` (Hive-style, so the
catalog registers it like any table, as `kx_rejects`), replaced atomically when the collection is
published. Columns: env, `_id` (the lake's `_id` text), `_kx_id_type` (its BSON type, so `1` and `"1"`
stay apart), reason, the raw document as relaxed Extended JSON, first and last seen.

A document whose `_id` cannot be decoded (invalid UTF-8 in it, or no BSON at all) is keyed by its
bytes instead: `_id` = `sha256:<32 hex>` of the raw document, `_kx_id_type` = `undecodable`, and the
document column holds its position in the batch, its size and the raw bytes in base64 — unless the
collection has `pii_columns`, whose values could not be tokenized in bytes that do not decode.

While a collection is staged, rejected documents are appended to a spool file beside the date spools
(BSON, one `{reason, doc}` per reject), so memory does not grow with the number of rejects. On publish
the new rejects replace earlier rows for the same `_id` (keeping `first_seen`), and earlier rows whose
document has since landed in the lake leave the table; the others stay until their document lands
(fixed at the source) — a reject is never forgotten silently. The reconcile pass also removes those
whose document is gone from the source or has landed (`drop_rejects`).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bson
import pyarrow as pa
import pyarrow.parquet as pq
from bson.raw_bson import RawBSONDocument

from kx_lake.lib.harmonize.values import canonical_json, id_text
from kx_lake.lib.staging import make_private_dirs, open_private_append
from kx_lake.lib.storage import LakeStorage, fsio

REJECTS_DIR = "kx_rejects"
REJECTS_TABLE = "kx_rejects"
REJECTS_SCHEMA = pa.schema([
    ("env", pa.string()),
    ("_id", pa.string()),
    ("_kx_id_type", pa.string()),
    ("reason", pa.string()),
    ("document", pa.string()),
    ("first_seen", pa.timestamp("ms", tz="UTC")),
    ("last_seen", pa.timestamp("ms", tz="UTC")),
])
_INT32 = struct.Struct("<i")
UNDECODABLE = "undecodable"  # the _kx_id_type of a reject keyed by its bytes
_MAX_DOCUMENT_CHARS = 1_000_000  # a reject row keeps at most this much of the document's JSON


def id_type(value: Any) -> str:
    """The BSON type name of an `_id` (MongoDB's `$type` aliases), which tells `1` from `"1"`."""
    if isinstance(value, RawBSONDocument):
        return "object"
    name = type(value).__name__
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "long" if name == "Int64" or not -(2**31) <= value < 2**31 else "int"
    return {"ObjectId": "objectId", "str": "string", "float": "double", "Decimal128": "decimal",
            "datetime": "date", "DatetimeMS": "date", "UUID": "binData", "Binary": "binData", "bytes": "binData",
            "dict": "object", "SON": "object", "list": "array", "NoneType": "null", "Regex": "regex",
            "Timestamp": "timestamp", "MinKey": "minKey", "MaxKey": "maxKey", "Code": "javascript",
            "DBRef": "object"}.get(name, name)


def id_key(doc: Any) -> tuple[str | None, str]:
    value = doc.get("_id") if hasattr(doc, "get") else None
    return id_text(value), id_type(value)


def rejects_relpath(database: str, collection: str) -> str:
    return f"{REJECTS_DIR}/database={database}/collection={collection}/part-00000.parquet"


class RejectSpool:
    """Rejected documents of one collection × environment on local disk until publication."""

    def __init__(self, path: Path):
        self.path = path
        self.count = 0
        self._handle = None

    def _open(self) -> None:
        """Raw documents (patient data): 0600 in 0700 directories, like the spool (staging.py)."""
        make_private_dirs(self.path.parent)
        self._handle = open_private_append(self.path)

    def append(self, reason: str, raw: bytes | None, doc: Any) -> None:
        if self._handle is None:
            self._open()
        body = {"reason": reason, "id": doc.get("_id") if hasattr(doc, "get") else None}
        if raw is not None:
            body["doc"] = RawBSONDocument(raw)
        self._handle.write(bson.encode(body))
        self.count += 1

    def append_undecodable(self, reason: str, raw: bytes, position: int, keep_bytes: bool) -> None:
        """A document without a decodable `_id`: keyed by the hash of its bytes (stable across runs)."""
        digest = hashlib.sha256(raw).hexdigest()[:32]
        info: dict[str, Any] = {"position_in_batch": position, "size_bytes": len(raw)}
        if keep_bytes:
            info["base64"] = base64.b64encode(raw).decode("ascii")
        else:
            info["base64"] = None
            info["note"] = "raw bytes not kept: the collection has pii_columns, which cannot be tokenized in them"
        if self._handle is None:
            self._open()
        self._handle.write(bson.encode({"reason": reason, "undecodable": f"sha256:{digest}", "info": info}))
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def read(self, chunk: int = 2000) -> Iterator[list[dict]]:
        self.close()
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            buf: list[bytes] = []
            while header := fh.read(4):
                (size,) = _INT32.unpack(header)
                buf.append(header + fh.read(size - 4))
                if len(buf) >= chunk:
                    yield bson.decode_all(b"".join(buf))
                    buf = []
            if buf:
                yield bson.decode_all(b"".join(buf))


@dataclass(frozen=True)
class RejectsOutcome:
    rejected: int  # rows of this publication (documents rejected by this run)
    total: int  # rows in the table afterwards
    cleared: int  # earlier rows whose document has landed since


def _document_json(entry: dict) -> str:
    if "undecodable" in entry:
        return canonical_json(entry["info"])
    doc = entry.get("doc")
    try:
        text = canonical_json(dict(doc)) if doc is not None else canonical_json({"_id": entry.get("id")})
    except Exception:  # noqa: BLE001 - a document that cannot be rendered is still recorded
        text = repr(doc)[:_MAX_DOCUMENT_CHARS]
    return text if len(text) <= _MAX_DOCUMENT_CHARS else text[:_MAX_DOCUMENT_CHARS] + "…"


def read_rejects(storage: LakeStorage, env: str, database: str, collection: str) -> pa.Table:
    fs_path = storage.env_file(env, rejects_relpath(database, collection))
    if not storage.fs.exists(fs_path):
        return REJECTS_SCHEMA.empty_table()
    with storage.fs.open(fs_path, "rb") as f:
        return pq.read_table(f).cast(REJECTS_SCHEMA)


def existing_keys(storage: LakeStorage, env: str, database: str, collection: str) -> set[tuple[str | None, str]]:
    table = read_rejects(storage, env, database, collection)
    return set(zip(table.column("_id").to_pylist(), table.column("_kx_id_type").to_pylist(), strict=True))


def publish_rejects(
    storage: LakeStorage, env: str, database: str, collection: str, spool: RejectSpool,
    landed: Iterable[tuple[str | None, str]], now: datetime | None = None,
) -> RejectsOutcome:
    """Merge this run's rejects into the collection's rejects file (atomically replaced, or removed
    when nothing is left)."""
    now = now or datetime.now(UTC)
    old = read_rejects(storage, env, database, collection)
    first_seen = {(i, t): f for i, t, f in zip(old.column("_id").to_pylist(), old.column("_kx_id_type").to_pylist(),
                                               old.column("first_seen").to_pylist(), strict=True)}
    rows: dict[tuple[str | None, str], dict] = {}
    for chunk in spool.read():
        for entry in chunk:
            if "undecodable" in entry:
                key = (entry["undecodable"], UNDECODABLE)
            else:
                key = (id_text(entry.get("id")), id_type(entry.get("id")))
            rows[key] = {"env": env, "_id": key[0], "_kx_id_type": key[1], "reason": entry["reason"],
                         "document": _document_json(entry), "first_seen": first_seen.get(key, now), "last_seen": now}
    landed = set(landed)
    kept = [r for r in old.to_pylist() if (r["_id"], r["_kx_id_type"]) not in rows and (r["_id"], r["_kx_id_type"]) not in landed]
    cleared = sum(1 for r in old.to_pylist() if (r["_id"], r["_kx_id_type"]) in landed and (r["_id"], r["_kx_id_type"]) not in rows)
    table = pa.Table.from_pylist(kept + list(rows.values()), schema=REJECTS_SCHEMA)
    path = storage.env_file(env, rejects_relpath(database, collection))
    if table.num_rows == 0:
        if storage.fs.exists(path):
            _remove(storage, env, path)
    else:
        with fsio.atomic_write(storage.fs, path) as sink:
            pq.write_table(table, sink, compression="zstd")
    return RejectsOutcome(len(rows), table.num_rows, cleared)


def drop_rejects(storage: LakeStorage, env: str, database: str, collection: str,
                 keys: Iterable[tuple[str | None, str]]) -> int:
    """Remove the rows of `keys` (documents deleted at the source, or landed since); the number removed."""
    keys = set(keys)
    old = read_rejects(storage, env, database, collection)
    rows = old.to_pylist()
    kept = [r for r in rows if (r["_id"], r["_kx_id_type"]) not in keys]
    if len(kept) == len(rows):
        return 0
    path = storage.env_file(env, rejects_relpath(database, collection))
    if kept:
        with fsio.atomic_write(storage.fs, path) as sink:
            pq.write_table(pa.Table.from_pylist(kept, schema=REJECTS_SCHEMA), sink, compression="zstd")
    else:
        _remove(storage, env, path)
    return len(rows) - len(kept)


def _remove(storage: LakeStorage, env: str, path: str) -> None:
    """The file and, locally, its folders left empty: no empty partition folder for a catalog to list."""
    fsio.remove_files(storage.fs, [path], stop_at=storage.env_file(env, REJECTS_DIR))
