"""What the storage layer hands back: results of writes and listings, and its error type.

Plain frozen dataclasses with URIs (s3://...) or local paths, so callers (the lake layer, Dagster
metadata, the CLI) can log or compare them without knowing the filesystem.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple


class LakeStorageError(RuntimeError):
    """A lake read or write that failed; the message names the env/database/collection and path."""


@dataclass(frozen=True)
class WrittenFile:
    path: str  # URI (s3://...) or local path of the published file
    rows: int
    bytes: int
    ids: tuple[str | None, ...] = ()  # the leaf's id partition values, as written in the path


class DataFile(NamedTuple):
    """One data file of a table as listed (no footer read): its filesystem path, not a URI."""

    path: str
    bytes: int
    date: dt.date
    ids: tuple[tuple[str, str | None], ...]  # ((column, value), ...) read back from the path


@dataclass(frozen=True)
class PartitionInfo:
    date: dt.date
    ids: tuple[tuple[str, str | None], ...]  # ((column, value), ...) read back from the path
    path: str  # the data file (one per leaf when the lake is healthy)
    rows: int  # from the Parquet footer
    bytes: int
