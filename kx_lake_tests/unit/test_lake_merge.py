"""Which existing rows a re-materialized date keeps (lake/merge.py keep_existing), when its leaves are
written on several threads at once (storage.lake._write_leaves): the versions extracted again are
dropped from the old files, the others stay, and the set of versions extracted again — a read of every
new leaf from disk — is built once, not once per thread.

The staged collection is a stand-in with the fields keep_existing reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pyarrow as pa

from kx_lake.lib.config import CollectionSpec
from kx_lake.lib.lake.identity import ID_TYPE_COLUMN
from kx_lake.lib.lake.merge import keep_existing

SPEC = CollectionSpec(collection="bills", database="hims_billing", timestamp_column="updated_at")
SCHEMA = pa.schema([("_id", pa.string()), (ID_TYPE_COLUMN, pa.string()), ("updated_at", pa.timestamp("ms", tz="UTC"))])
STAGED = SimpleNamespace(name="env1/hims_billing/bills", spec=SPEC, state_before=SimpleNamespace(schema=None),
                         schema=SimpleNamespace(to_arrow_schema=lambda: SCHEMA))  # no widening: old schema unknown


def rows(ids: list[str], ms: int) -> pa.Table:
    return pa.table([pa.array(ids), pa.array(["string"] * len(ids)), pa.array([ms] * len(ids), SCHEMA.field(2).type)],
                    schema=SCHEMA)


class SlowLeaf:
    """A spilled leaf whose every read takes a while and is counted (a read of its stream files)."""

    def __init__(self, table: pa.Table):
        self.table, self.reads = table, 0

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        self.reads += 1
        time.sleep(0.3)  # long enough that a second thread arrives while the first is still reading
        yield from self.table.to_batches()


def test_versions_extracted_again_are_read_once_across_writer_threads() -> None:
    leaf = SlowLeaf(rows(["a", "b"], 1_000))
    keep = keep_existing(STAGED, "UTC", {("F1",): leaf})
    old = rows(["a", "b", "c"], 1_000)  # a, b extracted again; c only in the lake (purged at the source)
    start = threading.Barrier(2)
    kept: list[list[str]] = []

    def writer() -> None:
        start.wait()
        kept.append(keep(old).column("_id").to_pylist())

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert kept == [["c"], ["c"]]
    assert leaf.reads == 1


def test_a_new_version_of_a_document_keeps_its_older_version() -> None:
    keep = keep_existing(STAGED, "UTC", {("F1",): [rows(["a"], 2_000).to_batches()[0]]})
    assert keep(rows(["a"], 1_000)).column("_id").to_pylist() == ["a"]  # history stays
    assert keep(rows(["a"], 2_000)).num_rows == 0  # the same version is replaced by its new copy
