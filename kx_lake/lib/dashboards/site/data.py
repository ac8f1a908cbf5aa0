"""Data access for the site: datasets cached in memory, per-request in-memory DuckDB, data freshness.

A dataset comes from its source (sources.py): for DuckDB its snapshot (the Parquet file `catalog
refresh` writes, catalog/snapshots.py) when there is one — milliseconds — and otherwise the catalog's
view. The catalog file is
opened read-only and only for as long as it takes to read a dataset (not held for the server's life),
so `kx-lake catalog refresh` can take its write lock between reads; a refresh (the catalog's or the
snapshot's mtime) or the TTL invalidates the cached datasets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from kx_lake.lib.config import ProjectConfig

DATASET_TTL_S = 300.0
FRESHNESS_TTL_S = 60.0
LOCAL_NAME = "kx_ds"  # the dataset's name inside a request's in-memory connection


class DatasetCache:
    """Whole datasets as Arrow tables, fetched from the catalog once per TTL (or catalog change).

    Dashboard datasets are small aggregates (day × facility × a few dimensions) but computing one
    re-reads the lake through the `_latest` dedup views, which costs seconds on every query. So the
    site reads each dataset once and answers every visual, filter and tenant from memory. The
    tenant scope is still a parameterised predicate on every query over the cached table.
    """

    def __init__(self, read: Callable[[str, tuple[str, ...] | None], pa.Table], stamp: Callable[[], object],
                 ttl: float = DATASET_TTL_S, scoped: bool = False):
        self._read, self._stamp, self.ttl, self.scoped = read, stamp, ttl, scoped
        self._data: dict[tuple, tuple[float, object, pa.Table]] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, relation: str, scope: tuple[str, ...] | None = None) -> pa.Table:
        """The dataset (sources.DatasetSource.read); per tenant scope when the source applies it."""
        key = (relation, scope if self.scoped else None)
        stamp = self._stamp()
        hit = self._data.get(key)
        if hit and hit[1] == stamp and time.monotonic() - hit[0] < self.ttl:
            return hit[2]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one reader per dataset; concurrent requests wait for it
            hit = self._data.get(key)
            if hit and hit[1] == stamp and time.monotonic() - hit[0] < self.ttl:
                return hit[2]
            table = self._read(relation, key[1])
            self._data[key] = (time.monotonic(), stamp, table)
            return table


class Session:
    """One request's in-memory DuckDB connection over a cached dataset, exposed as `kx_ds`."""

    def __init__(self, table: pa.Table):
        self._con = duckdb.connect()
        self._con.register(LOCAL_NAME, table)

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        return self._con.execute(sql, list(params)).fetchall()

    def close(self) -> None:
        self._con.close()


@dataclass(frozen=True)
class Freshness:
    newest_record: datetime | None  # newest modified timestamp written to the lake (watermark), UTC
    last_sync: datetime | None  # when a sync last wrote state, UTC


class FreshnessProbe:
    """Max watermark and last state write over the env's enabled collections, cached for a minute."""

    def __init__(self, project: ProjectConfig, env: str):
        self.project, self.env = project, env
        self._value: tuple[float, Freshness] | None = None
        self._lock = threading.Lock()

    def get(self) -> Freshness:
        with self._lock:
            if self._value and time.monotonic() - self._value[0] < FRESHNESS_TTL_S:
                return self._value[1]
        value = self._read()
        with self._lock:
            self._value = (time.monotonic(), value)
        return value

    def _read(self) -> Freshness:
        from kx_lake.lib.lake.pipeline import storage_for
        from kx_lake.lib.lake.state import CollectionState

        storage = storage_for(self.project, self.project.environment(self.env))
        marks, synced = [], []
        for spec in self.project.enabled_collections:
            try:
                state = CollectionState.read(storage, self.env, spec.database, spec.collection)
            except Exception:  # a damaged state file must not take the site down; it shows elsewhere
                continue
            if state.watermark_ms is not None:
                marks.append(state.watermark_ms)
            if state.updated_at:
                try:
                    synced.append(datetime.fromisoformat(state.updated_at))
                except ValueError:
                    pass
        newest = datetime.fromtimestamp(max(marks) / 1000, UTC) if marks else None
        return Freshness(newest, max(synced) if synced else None)


def catalog_stamp(path: Path) -> object:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
