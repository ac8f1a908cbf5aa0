"""A per-date spool of raw BSON on local disk, between extraction and publication.

Extraction streams documents in (timestamp, _id) order but a window spans many dates and the schema
is only final once the whole window was seen, so the raw bytes wait on disk: one append-only file
per partition date, a few open at a time (LRU), read back in chunks bounded by documents and by bytes
(CHUNK_BYTES: 5000 documents of 1 MB would be 5 GB). Memory stays at a chunk whatever the
collection's or the date's size; disk holds the window's raw BSON once.
"""

from __future__ import annotations

import shutil
import struct
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import BinaryIO

from kx_lake.lib.extract.reader import decode_spooled
from kx_lake.lib.staging import make_private_dirs, open_private_append

_MAX_OPEN = 32
CHUNK_DOCS = 5000
CHUNK_BYTES = 32 * 2**20
_INT32 = struct.Struct("<i")


class DateSpool:
    def __init__(self, directory: Path, keep: Path | None = None):
        """`keep`: an ancestor of `directory`; emptied directories between the two go with the spool."""
        self.directory = directory
        self.keep = keep
        make_private_dirs(directory)
        self._open: OrderedDict[date, BinaryIO] = OrderedDict()
        self.counts: dict[date, int] = {}

    def _path(self, day: date) -> Path:
        return self.directory / f"{day.isoformat()}.bson"

    def _handle(self, day: date) -> BinaryIO:
        handle = self._open.pop(day, None)
        if handle is None:
            if len(self._open) >= _MAX_OPEN:
                _, oldest = self._open.popitem(last=False)
                oldest.close()
            handle = open_private_append(self._path(day))  # kept open across appends, closed by LRU/close()
        self._open[day] = handle
        return handle

    def append(self, day: date, raw: bytes) -> None:
        self._handle(day).write(raw)
        self.counts[day] = self.counts.get(day, 0) + 1

    def close(self) -> None:
        for handle in self._open.values():
            handle.close()
        self._open.clear()

    def dates(self) -> list[date]:
        return sorted(self.counts)

    def read(self, day: date, chunk_docs: int = CHUNK_DOCS, chunk_bytes: int = CHUNK_BYTES) -> Iterator[list[dict]]:
        """The date's documents as dicts, at most `chunk_docs` and about `chunk_bytes` at a time."""
        for _raws, docs in self.read_pairs(day, chunk_docs, chunk_bytes):
            yield docs

    def read_pairs(
        self, day: date, chunk_docs: int = CHUNK_DOCS, chunk_bytes: int = CHUNK_BYTES
    ) -> Iterator[tuple[list[bytes], list[dict]]]:
        """The date's documents in chunks, each as (raw BSON per document, decoded dicts)."""
        self.close()
        if not self._path(day).exists() and self.counts.get(day):  # never publish a swept spool as an empty date
            raise FileNotFoundError(f"spool file {self._path(day)} of {self.counts[day]} document(s) "
                                    "was removed under its run")
        yield from chunk_pairs(self.raw_documents(day), chunk_docs, chunk_bytes)

    def raw_documents(self, day: date) -> Iterator[bytes]:
        """The date's documents as raw BSON, one at a time (the Spark engine ships them to its writers)."""
        self.close()
        path = self._path(day)
        if not path.exists():
            return
        with open(path, "rb") as fh:
            while header := fh.read(4):
                (size,) = _INT32.unpack(header)
                yield header + fh.read(size - 4)

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)
        if self.keep is None:
            return
        parent = self.directory.parent
        while parent != self.keep and self.keep in parent.parents:
            try:
                parent.rmdir()  # only when empty: other collections of the run may still spool here
            except OSError:
                return
            parent = parent.parent


def chunk_pairs(
    raws: Iterable[bytes], chunk_docs: int = CHUNK_DOCS, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[tuple[list[bytes], list[dict]]]:
    """Raw documents in chunks of at most `chunk_docs` and about `chunk_bytes`, each as (raw BSON per
    document, decoded dicts): the one chunking both engines publish with, so they write the same files."""
    buf: list[bytes] = []
    size = 0
    for raw in raws:
        buf.append(raw)
        size += len(raw)
        if len(buf) >= chunk_docs or size >= chunk_bytes:
            yield buf, decode_spooled(b"".join(buf))
            buf, size = [], 0
    if buf:
        yield buf, decode_spooled(b"".join(buf))
