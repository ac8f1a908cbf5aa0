"""A per-date spool of raw BSON on local disk, between extraction and publication.

Extraction streams documents in (timestamp, _id) order but a window spans many dates and the schema
is only final once the whole window was seen, so the raw bytes wait on disk: one append-only file
per collection, with, per partition date, the byte ranges its documents occupy (in the query's order
a date's documents are one run, or a few when timestamp encodings interleave), read back in chunks
bounded by documents and by bytes (CHUNK_BYTES: 5000 documents of 1 MB would be 5 GB), in append
order. One file, not one per date: creating, closing and removing a file per date cost a full load
~1 ms each, 40k times at scale 0.1 (docs/benchmarks.md). Memory stays at a chunk and two integers per
run whatever the collection's size; disk holds the window's raw BSON once.

Each date also keeps a running BLAKE2b of its raw bytes in append order (`digest`): with BSON's
length prefix the concatenation is unambiguous, and the query's (timestamp, _id) order is total, so
the same documents give the same digest — what lets publication skip a date whose documents are
exactly those it last published (lake/unchanged.py). A different order only costs a rewrite.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import BinaryIO

from kx_lake.lib.extract.reader import decode_spooled
from kx_lake.lib.staging import make_private_dirs, open_private_append

CHUNK_DOCS = 5000
CHUNK_BYTES = 32 * 2**20
_INT32 = struct.Struct("<i")
_FILE_NAME = "spool.bson"


class DateSpool:
    def __init__(self, directory: Path, keep: Path | None = None):
        """`keep`: an ancestor of `directory`; emptied directories between the two go with the spool."""
        self.directory = directory
        self.keep = keep
        make_private_dirs(directory)
        self._path = directory / _FILE_NAME
        self._writer: BinaryIO | None = None
        self._size = 0
        self._runs: dict[date, list[list[int]]] = {}  # date -> [start, end) byte ranges, in append order
        self.counts: dict[date, int] = {}
        self._digests: dict[date, hashlib.blake2b] = {}

    def append(self, day: date, raw: bytes) -> None:
        if self._writer is None:
            self._writer = open_private_append(self._path)  # kept open across appends, closed by close()
            self._size = self._writer.tell()
        self._writer.write(raw)
        start, self._size = self._size, self._size + len(raw)
        runs = self._runs.setdefault(day, [])
        if runs and runs[-1][1] == start:
            runs[-1][1] = self._size
        else:
            runs.append([start, self._size])
        self.counts[day] = self.counts.get(day, 0) + 1
        digest = self._digests.get(day)
        if digest is None:
            digest = self._digests[day] = hashlib.blake2b(digest_size=32)
        digest.update(raw)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def digest(self, day: date) -> str | None:
        """BLAKE2b-256 of the date's raw documents in append order; None when it has none."""
        digest = self._digests.get(day)
        return None if digest is None else digest.hexdigest()

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
        yield from chunk_pairs(self.raw_documents(day), chunk_docs, chunk_bytes)

    def raw_documents(self, day: date) -> Iterator[bytes]:
        """The date's documents as raw BSON, one at a time, in the order they were appended."""
        self.close()
        if not self.counts.get(day):
            return
        if not self._path.exists():  # never publish a swept spool as an empty date
            raise FileNotFoundError(f"spool file {self._path} of {self.counts[day]} document(s) was removed under its run")
        with open(self._path, "rb") as fh:
            for start, end in self._runs[day]:
                fh.seek(start)
                while start < end:
                    header = fh.read(4)
                    (size,) = _INT32.unpack(header)
                    yield header + fh.read(size - 4)
                    start += size

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
