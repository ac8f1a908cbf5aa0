"""Data access for the site: read-only DuckDB connections, a small result cache, data freshness.

A read-only connection per request (not one held open for the server's life) so `kx-lake catalog
refresh` can take its write lock between requests. Aggregates are cached for a short TTL keyed by
the SQL, its parameters and the catalog file's mtime, so repeated page loads and filter round-trips
do not rescan the lake; a refresh of the catalog invalidates them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from kx_lake.lib.config import ProjectConfig

CACHE_TTL_S = 120.0
CACHE_MAX = 1024
FRESHNESS_TTL_S = 60.0


class ResultCache:
    def __init__(self, ttl: float = CACHE_TTL_S, max_entries: int = CACHE_MAX):
        self.ttl, self.max = ttl, max_entries
        self._data: OrderedDict[tuple, tuple[float, list[tuple]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> list[tuple] | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None or time.monotonic() - hit[0] > self.ttl:
                return None
            self._data.move_to_end(key)
            return hit[1]

    def put(self, key: tuple, rows: list[tuple]) -> None:
        with self._lock:
            self._data[key] = (time.monotonic(), rows)
            self._data.move_to_end(key)
            while len(self._data) > self.max:
                self._data.popitem(last=False)


class Session:
    """One request's connection (opened lazily) with cached `rows(sql, params)`."""

    def __init__(self, connect: Callable[[], duckdb.DuckDBPyConnection], cache: ResultCache, stamp: object):
        self._connect, self._cache, self._stamp = connect, cache, stamp
        self._con: duckdb.DuckDBPyConnection | None = None

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        key = (self._stamp, sql, tuple(params))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if self._con is None:
            self._con = self._connect()
        out = self._con.execute(sql, list(params)).fetchall()
        self._cache.put(key, out)
        return out

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


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
