"""Writing batches to MongoDB on a background thread, so generating the next batch overlaps with the
server storing the previous one; errors surface in the caller. Updates go out as bulk UpdateOne by _id,
except on FerretDB 1.x, whose SQLite backend scans the whole table for every update (its _id index
is declared on another expression than the one its queries use): there many updates to a collection
are applied client-side and rewritten with a fixed number of scans.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable

from pymongo import MongoClient, UpdateOne
from pymongo.errors import BulkWriteError

from kx_lake.lib.synth.engine import SynthError
from kx_lake.lib.synth.sink import Batch

DUPLICATE_KEY = 11000


class Writer:
    """Writes batches on a background thread; errors surface in the caller."""

    def __init__(self, client: MongoClient, depth: int = 6, rerun_safe: bool = False):
        self.client, self.q, self.rerun_safe = client, queue.Queue(maxsize=depth), rerun_safe
        self.replace = not server_pushes_down_updates(client)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="synth-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (batch := self.q.get()) is not None:
            if self.error is None:
                try:
                    write_batch(self.client, batch, replace=self.replace, rerun_safe=self.rerun_safe)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                    self.error = exc

    def write_all(self, batches: Iterable[Batch]) -> None:
        try:
            for batch in batches:
                if self.error:
                    break
                self.q.put(batch)
        finally:
            self.q.put(None)
            self.thread.join()
        if self.error:
            raise self.error


def server_pushes_down_updates(client: MongoClient) -> bool:
    """False for FerretDB: its SQLite backend's _id index is never used (the index expression differs
    from the one its queries use), so every update, even by _id, scans the whole table."""
    return "ferretdbVersion" not in client.admin.command("buildInfo")


GROUPED_MIN = 8  # below this many updates in a batch, one scan per update is cheaper than three


def write_batch(client: MongoClient, batch: Batch, *, replace: bool = False, rerun_safe: bool = False) -> None:
    """Insert and update one batch. With rerun_safe (mutate), documents already present are skipped:
    generation is deterministic, so they were written by an interrupted earlier run of the same days."""
    coll = client[batch.database][batch.collection]
    if batch.docs:
        try:
            coll.insert_many(batch.docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if not rerun_safe or any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise SynthError(f"{batch.database}.{batch.collection}: {len(errors)} insert error(s), first: "
                                 f"{errors[0].get('errmsg') if errors else exc}") from None
    if batch.updates and (not replace or len(batch.updates) < GROUPED_MIN):
        coll.bulk_write([UpdateOne({"_id": _id}, op) for _id, op in batch.updates], ordered=False)
    elif batch.updates:
        _rewrite(coll, batch.updates)


def _rewrite(coll, updates: list[tuple]) -> None:
    """Apply many updates with three collection scans instead of one per update (FerretDB 1.x): read
    the targets, apply the operators here, delete them and insert the new versions. Not atomic, which
    is acceptable for a single-writer synthetic source (re-seed if interrupted between the two)."""
    ids = list({repr(i): i for i, _ in updates}.values())
    docs = {repr(d["_id"]): d for d in coll.find({"_id": {"$in": ids}})}
    for _id, op in updates:
        if repr(_id) in docs:
            apply_update(docs[repr(_id)], op)
    if docs:
        coll.delete_many({"_id": {"$in": [d["_id"] for d in docs.values()]}})
        coll.insert_many(list(docs.values()), ordered=False)


def apply_update(doc: dict, op: dict) -> dict:
    """Apply the $set/$push operators the generator emits (dotted paths allowed) to a fetched document."""
    for path, value in op.get("$set", {}).items():
        *parents, leaf = path.split(".")
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    for path, value in op.get("$push", {}).items():
        *parents, leaf = path.split(".")
        node = doc
        for part in parents:
            node = node.setdefault(part, {})
        node.setdefault(leaf, []).append(value)
    return doc
