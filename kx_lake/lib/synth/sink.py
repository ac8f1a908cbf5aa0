"""Where generated documents go: per-collection buffers that stamp each document's timestamps in the
collection's configured column and encoding, check its partition columns, and hand out batches.

Stamping lives here, not in the domain modules, so collections.csv stays the single source of truth:
change a timestamp column or encoding there and the generated data follows. Domain code passes
epoch-millisecond instants; this module turns them into BSON dates, int64 millis or ISO strings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from kx_lake.lib.config import CollectionSpec
from kx_lake.lib.synth.clock import encode_ts

UPDATED_KEY = "__updated_ms"  # domain code may leave a later update instant here before emitting


def created_column(timestamp_column: str) -> str:
    """The creation-time column paired with a collection's modified-time column."""
    if timestamp_column.endswith("_ms"):
        return "created_at_ms"
    if timestamp_column[:1].islower() and any(ch.isupper() for ch in timestamp_column):
        return "createdAt"  # camelCase collections (modifiedAt, lastModified)
    return "created_at"


@dataclass
class Batch:
    """Documents to insert and/or updates (by _id) for one collection."""

    database: str
    collection: str
    docs: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)


class Sink:
    def __init__(self, specs: Mapping[str, CollectionSpec], known: set[str], tz: ZoneInfo,
                 floor_ms: int, limit_ms: int, batch_size: int = 2000, clamp: bool = False):
        """Modified timestamps must fall in [floor_ms, limit_ms): the window being simulated. With clamp
        (mutate), stamps of work that began before the window are raised to its start: those documents
        are written after the previous snapshot, as a real write-time `updated_at` would show."""
        self.clamp = clamp
        self.specs = dict(specs)
        self.known = known
        self.tz = tz
        self.floor_ms = floor_ms
        self.limit_ms = limit_ms
        self.batch_size = batch_size
        self.inserted: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self._docs: dict[str, list[dict[str, Any]]] = {}
        self._updates: dict[str, list[tuple[Any, dict[str, Any]]]] = {}

    def _spec(self, coll: str) -> CollectionSpec | None:
        spec = self.specs.get(coll)
        if spec is None and coll not in self.known:
            raise KeyError(f"synthetic generator wrote to unknown collection {coll!r}")
        return spec  # None: the collection is disabled in collections.csv

    def emit(self, coll: str, doc: dict[str, Any], created_ms: int, updated_ms: int | None = None,
             *, iso_utc: bool = False) -> dict:
        if self.clamp:
            created_ms = max(created_ms, self.floor_ms)
        updated = max(created_ms, updated_ms or created_ms, doc.pop(UPDATED_KEY, 0))
        spec = self._spec(coll)
        if spec is None:
            return doc
        if not self.floor_ms <= updated < self.limit_ms:
            raise ValueError(f"{coll}: document {doc.get('_id')!r} stamped {updated}, outside the simulated "
                             f"window [{self.floor_ms}, {self.limit_ms})")
        enc = spec.timestamp_encoding
        doc[created_column(spec.timestamp_column)] = encode_ts(enc, created_ms, self.tz, utc=iso_utc)
        doc[spec.timestamp_column] = encode_ts(enc, updated, self.tz, utc=iso_utc)
        for col in spec.partition_columns:
            if doc.get(col) is None:
                raise ValueError(f"{coll}: document {doc.get('_id')!r} lacks partition column {col!r}")
        self._docs.setdefault(coll, []).append(doc)
        self.inserted[coll] += 1
        return doc

    def update(self, coll: str, _id: Any, fields: dict[str, Any], updated_ms: int,
               push: dict[str, Any] | None = None) -> None:
        spec = self._spec(coll)
        if spec is None:
            return
        if self.clamp:
            updated_ms = max(updated_ms, self.floor_ms)
        if not self.floor_ms <= updated_ms < self.limit_ms:
            raise ValueError(f"{coll}: update of {_id!r} stamped {updated_ms}, outside the simulated window")
        op: dict[str, Any] = {"$set": {**fields, spec.timestamp_column:
                                       encode_ts(spec.timestamp_encoding, updated_ms, self.tz)}}
        if push:
            op["$push"] = push
        self._updates.setdefault(coll, []).append((_id, op))
        self.updated[coll] += 1

    def ready(self, *, flush: bool = False, updates: bool = True) -> Iterator[Batch]:
        """Batches of full buffers (all non-empty buffers when flush=True); updates only if `updates`."""
        threshold = 1 if flush else self.batch_size
        for coll in list(self._docs):
            docs = self._docs[coll]
            while len(docs) >= threshold:
                chunk, docs = docs[: self.batch_size], docs[self.batch_size:]
                yield Batch(self.specs[coll].database, coll, docs=chunk)
            self._docs[coll] = docs
        for coll in list(self._updates) if updates else ():
            ups = self._updates[coll]
            if len(ups) >= threshold:
                self._updates[coll] = []
                yield Batch(self.specs[coll].database, coll, updates=ups)
