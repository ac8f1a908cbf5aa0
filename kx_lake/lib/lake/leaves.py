"""One date's spool converted into per-leaf Arrow files on local disk, ready to stream into Parquet.

Why on disk: a date can hold more than memory (5,000 documents of 1 MB, or a whole collection stamped
with one migration timestamp), and its rows reach the leaves in spool order, not leaf by leaf. So each
spool chunk (bounded by bytes) is converted once, split by leaf (one `take`, then slices), and appended to that
leaf's Arrow IPC stream file; the writer then streams each leaf from its files a batch at a time
(`SpilledLeaf` can be iterated again, e.g. for the merge's version keys). A few stream files are open
at a time (LRU); a leaf evicted and seen again continues in a new file. No batch exceeds a chunk, so
no array comes near Arrow's 2 GiB offset limit.

A document the converter refuses (a value the inferred schema cannot hold, any error that document
alone raises) is found by converting the chunk's documents one at a time, goes to the rejects table
with the reason, and the chunk's other documents are converted without it.
"""

from __future__ import annotations

import os
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyarrow as pa

from kx_lake.lib.harmonize import Converter
from kx_lake.lib.lake.identity import fill_id_type
from kx_lake.lib.lake.partition_values import LeafKey, split_leaf
from kx_lake.lib.staging import PRIVATE_FILE_MODE

_MAX_OPEN = 64  # ids per date rarely exceed this (facilities); more only cost extra small files


class SpilledLeaf:
    """A leaf's record batches, in order, read back from its stream files one batch at a time."""

    def __init__(self) -> None:
        self.paths: list[Path] = []
        self.rows = 0

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for path in self.paths:
            with pa.OSFile(str(path), "rb") as source:  # read, not memory-mapped: pages are freed as we go
                yield from pa.ipc.open_stream(source)


class _Writers:
    def __init__(self, directory: Path):
        self.directory = directory
        self.leaves: dict[LeafKey, SpilledLeaf] = {}
        self._open: OrderedDict[LeafKey, tuple[pa.NativeFile, pa.ipc.RecordBatchStreamWriter]] = OrderedDict()
        self._files = 0

    def write(self, key: LeafKey, batch: pa.RecordBatch) -> None:
        entry = self._open.pop(key, None)
        if entry is None:
            if len(self._open) >= _MAX_OPEN:
                self._close(*self._open.popitem(last=False))
            path = self.directory / f"{self._files:06d}.arrow"
            self._files += 1
            # created 0600 before anything is written, like the spool it is made from (staging.py)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE))
            sink = pa.OSFile(str(path), "wb")
            entry = (sink, pa.ipc.new_stream(sink, batch.schema))
            self.leaves.setdefault(key, SpilledLeaf()).paths.append(path)
        self._open[key] = entry
        entry[1].write_batch(batch)
        self.leaves[key].rows += batch.num_rows

    def _close(self, _key: LeafKey, entry: tuple[pa.NativeFile, pa.ipc.RecordBatchStreamWriter]) -> None:
        entry[1].close()
        entry[0].close()

    def close(self) -> None:
        while self._open:
            self._close(*self._open.popitem(last=False))


def convert_isolating(conv: Converter, docs: list[dict]) -> tuple[pa.RecordBatch | None, list[tuple[int, str]]]:
    """(batch of the convertible documents, [(index, why) of the others]); raises only when no single
    document is to blame (a collection-level problem)."""
    try:
        return conv.convert(docs), []
    except Exception as whole:
        bad: list[tuple[int, str]] = []
        for i, doc in enumerate(docs):
            try:
                conv.convert([doc])
            except Exception as exc:  # noqa: BLE001 - this document's own problem, quarantined
                bad.append((i, f"its values cannot be converted: {type(exc).__name__}: {exc}"))
        if not bad:
            raise whole
        skip = {i for i, _ in bad}
        good = [d for i, d in enumerate(docs) if i not in skip]
        return (conv.convert(good) if good else None), bad


def spill_date(
    pairs: Iterable[tuple[list[bytes], list[dict]]], conv: Converter, columns: tuple[str, ...], directory: Path,
    reject: Callable[[str, bytes | None, dict], None],
) -> dict[LeafKey, SpilledLeaf]:
    """Convert a date's chunks of (raw BSON, documents) into per-leaf stream files under `directory`;
    what won't convert goes to `reject(why, raw, doc)`."""
    directory.mkdir(parents=True, exist_ok=True)
    writers = _Writers(directory)
    try:
        for raws, chunk in pairs:
            keys = [split_leaf(doc, columns) for doc in chunk]
            batch, bad = convert_isolating(conv, chunk)
            if bad:
                skip = {i for i, _ in bad}
                for i, why in bad:
                    reject(why, raws[i], chunk[i])
                chunk = [d for i, d in enumerate(chunk) if i not in skip]
                keys = [k for i, k in enumerate(keys) if i not in skip]
            if batch is None:
                continue
            batch = fill_id_type(batch, chunk)
            rows: dict[LeafKey, list[int]] = defaultdict(list)
            for i, key in enumerate(keys):
                rows[key].append(i)
            if len(rows) == 1:
                writers.write(keys[0], batch)
                continue
            # one `take` reorders the chunk by leaf, then zero-copy slices (a `take` per leaf cost more
            # than the write of its few rows); rows keep their spool order within a leaf
            grouped = batch.take(pa.array([i for idx in rows.values() for i in idx], type=pa.int32()))
            start = 0
            for key, idx in rows.items():
                writers.write(key, grouped.slice(start, len(idx)))
                start += len(idx)
    finally:
        writers.close()
    return writers.leaves
