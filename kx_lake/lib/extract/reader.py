"""Streaming a window of a collection in (timestamp, _id) order, resuming after a dropped cursor.

Each batch arrives twice over the same bytes: as raw BSON slices of the server's reply (so a document
can be spooled to disk without re-encoding) and as decoded dicts (for routing and schema inference) —
one C-level decode per batch, never a per-field Python inflate; a batch that does not decode is
decoded one document at a time (decode.py), so a bad document comes back flagged, never failing the
batch. Batches are sized by bytes, not only documents: MongoDB caps a reply at 16 MiB, FerretDB does
not (5000 documents of 1 MB are one 5 GB reply, which the driver refuses); `batch_bytes` divided by
a sampled document size gives the batch size, and a reply the driver still refuses as too large
halves it and resumes where the cursor stopped. Order is (timestamp, _id) so a cursor lost mid-window (failover,
CursorNotFound, network) resumes where it stopped instead of starting over: the resume filter
keeps everything at or after the last timestamp — including values of the BSON types that sort
after it (numbers < strings < dates) — and skips the `_id`s already seen at that exact timestamp.
That tie-break needs no `$gt` on `_id`, which would be wrong when ObjectId and string ids mix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import bson
from bson import Decimal128
from pymongo.collection import Collection
from pymongo.errors import AutoReconnect, CursorNotFound, ExecutionTimeout, NetworkTimeout, ProtocolError

from kx_lake.lib.extract.decode import DICT_OPTIONS, RAW_OPTIONS, Decoded, decode_batch

__all__ = ["DICT_OPTIONS", "RAW_OPTIONS", "ReadStats", "batch_size_for", "decode_spooled", "iter_window"]
_RETRYABLE = (AutoReconnect, CursorNotFound, NetworkTimeout, ExecutionTimeout, ProtocolError)
MAX_BATCH_DOCS = 5000
BATCH_BYTES = 16 * 2**20
# BSON sort order (MongoDB's comparison order) of the types a window query can return — the window
# branches return numbers, strings and dates; the sweep branches anything else — as $type aliases
# FerretDB and MongoDB both know. A resume keeps the types sorting after the last one read.
_ORDER = ["null", "number", "string", "object", "array", "binData", "objectId", "bool", "date", "timestamp", "regex"]
_LATER_TYPES = {t: _ORDER[i + 1:] for i, t in enumerate(_ORDER)}


def _id_key(value: object) -> object:
    """A hashable key for an _id: the value itself, or for an unhashable one MongoDB allows (an
    embedded document, a Decimal128) its BSON encoding in a tuple — a decoded _id is never a tuple."""
    try:
        hash(value)
    except TypeError:
        return ("bson", bson.encode({"_id": value}))
    return value


def _bracket(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, datetime):
        return "date"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float, Decimal128)):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return {"ObjectId": "objectId", "Binary": "binData", "bytes": "binData", "UUID": "binData", "Timestamp": "timestamp",
            "Regex": "regex"}.get(type(value).__name__, "regex")


@dataclass
class ReadStats:
    documents: int = 0
    bytes: int = 0
    batches: int = 0
    resumes: int = 0
    filters: list[dict] = field(default_factory=list)


def batch_size_for(collection: Collection, batch_bytes: int = BATCH_BYTES, sample: int = 64) -> int:
    """Documents per batch so a reply holds about `batch_bytes`, from the size of the collection's first
    `sample` documents (natural order, a limit every server pushes down: ~20 ms, where FerretDB's
    collStats counts the collection), with a 2x margin; outliers are left to the halving. The sample
    itself is read two documents a reply, so even 16 MB documents never make a reply the driver refuses."""
    size = count = 0
    try:
        cursor = collection.with_options(codec_options=RAW_OPTIONS).find_raw_batches({}, limit=sample, batch_size=2)
        with cursor:
            for raw in cursor:
                size += len(raw)
                count += len(decode_batch(raw))
                if size >= batch_bytes:
                    break
    except Exception:  # noqa: BLE001 - no estimate: the reader halves on a refused reply
        pass
    if not count:
        return MAX_BATCH_DOCS
    return max(1, min(MAX_BATCH_DOCS, batch_bytes // (2 * (size // count) or 1)))


def iter_window(
    collection: Collection,
    window_filter: dict,
    timestamp_column: str,
    *,
    batch_size: int = MAX_BATCH_DOCS,
    max_resumes: int = 5,
    stats: ReadStats | None = None,
) -> Iterator[list[Decoded]]:
    """Yield batches of decoded documents matching `window_filter`, ordered by (timestamp, _id); a
    document that did not decode has `problem` set (and `doc` a stand-in or None)."""
    stats = stats if stats is not None else ReadStats()
    coll = collection.with_options(codec_options=RAW_OPTIONS)
    query = window_filter
    last_ts: object = None
    read_any = False
    seen_at_last: set = set()
    while True:
        stats.filters.append(query)
        cursor = coll.find_raw_batches(
            query, sort=[(timestamp_column, 1), ("_id", 1)], batch_size=batch_size, allow_disk_use=True
        )
        try:
            for raw in cursor:
                docs = decode_batch(raw)
                if read_any and seen_at_last:
                    docs = [d for d in docs if d.doc is None or not (
                        d.doc.get(timestamp_column) == last_ts and _id_key(d.doc.get("_id")) in seen_at_last)]
                if not docs:
                    continue
                stats.documents += len(docs)
                stats.bytes += len(raw)
                stats.batches += 1
                placed = [d.doc for d in docs if d.doc is not None]
                if placed:  # resume bookkeeping; a document without a stand-in is a reject keyed by its bytes
                    tail_ts = placed[-1].get(timestamp_column)
                    read_any = True
                    if tail_ts != last_ts:
                        last_ts, seen_at_last = tail_ts, set()
                    seen_at_last.update(_id_key(d.get("_id")) for d in placed if d.get(timestamp_column) == last_ts)
                yield docs
            return
        except _RETRYABLE as exc:
            cursor.close()
            if isinstance(exc, ProtocolError):  # a reply over the driver's limit: smaller batches
                if "larger than" not in str(exc) or batch_size == 1:
                    raise
                batch_size = max(1, batch_size // 2)
            elif stats.resumes >= max_resumes:
                raise
            else:
                stats.resumes += 1
            if not read_any:
                continue  # nothing read yet: simply retry the window
            later = _LATER_TYPES[_bracket(last_ts)]
            resume: list[dict] = [{timestamp_column: {"$gte": last_ts}}]
            if later:
                resume.append({timestamp_column: {"$type": later}})
            # types neither server sorts into _ORDER's brackets (MinKey, MaxKey, JavaScript...): a reject at
            # most, so seeing one twice is harmless (rejects are keyed by _id)
            resume.append({timestamp_column: {"$not": {"$type": _ORDER}}})
            query = {"$and": [window_filter, {"$or": resume}]}


def decode_spooled(data: bytes) -> list[dict]:
    """Decode concatenated BSON documents (a spool chunk) into dicts, with the reader's options."""
    return bson.decode_all(data, DICT_OPTIONS)
