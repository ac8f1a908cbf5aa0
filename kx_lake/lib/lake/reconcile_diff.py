"""The source's (_id, timestamp) set against the lake's newest version per document, in DuckDB.

Both sides are streamed into an on-disk DuckDB database (one per collection pass, in a work
directory) in chunks, and compared with SQL; DuckDB spills its sorts, joins and windows to disk under
a memory limit, so a 10-million-document collection costs disk, not memory. Only the small results
(documents to repair, to tombstone) come back to Python.

Timestamps on both sides are the lake's: naive wall-clock milliseconds in the environment's timezone
(harmonize.clock); the source side arrives converted, null when no partition can hold it.

Per identity (`_id` text, `_kx_id_type`):
  rejected  source documents whose timestamp no partition can hold (missing, unusable, before
            partitions_start, after tomorrow; null here): they are (or at the next sync will be) in
            kx_rejects;
  missing   placeable source documents with no version in the lake;
  stale     placeable source documents whose timestamp is newer than the lake's newest version of
            them (a tombstone included: the document came back);
  deleted   identities whose newest lake version is not a tombstone and that the source no longer has;
  withdraw  tombstones whose identity is at the source again with a timestamp not newer than the
            tombstone (the source never really lost it): the tombstone is taken back.

Rejects (kx_rejects rows, by identity) are settled when their document is gone from the source, or is
placeable there and has a lake version at least as new (already, or after the repair).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

SOURCE_SCHEMA = pa.schema([("id", pa.string()), ("t", pa.string()), ("ts", pa.int64())])
LAKE_SCHEMA = pa.schema([("id", pa.string()), ("t", pa.string()), ("ts", pa.int64()), ("deleted", pa.bool_()),
                         ("day", pa.date32()), ("leaf", pa.list_(pa.string()))])
MEMORY_LIMIT = "256MB"


@dataclass(frozen=True)
class DiffCounts:
    source_documents: int
    latest_ids: int
    missing: int
    stale: int
    deleted: int
    rejected: int
    withdrawn: int


class KeyDiff:
    """One collection's comparison; `add_source`/`add_lake` take Arrow chunks, then `counts()` etc."""

    def __init__(self, workdir: Path, memory_limit: str = MEMORY_LIMIT, fresh: bool = True):
        """`fresh=False` reopens a comparison left by `close(remove=False)` (across the repair)."""
        workdir.mkdir(parents=True, exist_ok=True)
        self.path = workdir / "reconcile.duckdb"
        if fresh:
            self.path.unlink(missing_ok=True)
        self.con = duckdb.connect(str(self.path))
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute(f"SET temp_directory = '{workdir / 'spill'}'")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET threads = 2")
        if fresh:
            self.con.execute("CREATE TABLE src (id VARCHAR, t VARCHAR, ts BIGINT)")
            self.con.execute("CREATE TABLE lake (id VARCHAR, t VARCHAR, ts BIGINT, deleted BOOLEAN, day DATE, "
                             "leaf VARCHAR[])")
        self._ready = not fresh

    def add_source(self, chunk: pa.Table) -> None:
        self.con.register("chunk", chunk)
        self.con.execute("INSERT INTO src SELECT id, t, ts FROM chunk")
        self.con.unregister("chunk")

    def add_lake(self, chunk: pa.Table) -> None:
        self.con.register("chunk", chunk)
        self.con.execute("INSERT INTO lake SELECT id, t, ts, coalesce(deleted, false), day, leaf FROM chunk")
        self.con.unregister("chunk")

    def load(self, source: Iterable[pa.Table], lake: Iterable[pa.Table]) -> DiffCounts:
        """Stream both sides in, chunk by chunk (nothing of them kept in Python), and compare."""
        for chunk in source:
            self.add_source(chunk)
        for chunk in lake:
            self.add_lake(chunk)
        return self.compare()

    def compare(self) -> DiffCounts:
        con = self.con
        con.execute("""CREATE OR REPLACE TABLE newest AS
            SELECT id, t, ts, deleted, day, leaf FROM (
              SELECT *, row_number() OVER (PARTITION BY id, t ORDER BY ts DESC, day DESC) AS rn FROM lake
            ) WHERE rn = 1""")
        con.execute("""CREATE OR REPLACE TABLE cls AS
            SELECT s.id, s.t, s.ts, n.ts AS lake_ts, n.deleted, n.day AS lake_day,
              CASE WHEN s.ts IS NULL THEN 'rejected'
                   WHEN n.id IS NULL THEN 'missing'
                   WHEN s.ts > n.ts THEN 'stale'
                   WHEN n.deleted THEN 'withdraw'
                   ELSE 'ok' END AS kind
            FROM src s LEFT JOIN newest n ON s.id = n.id AND s.t = n.t""")
        con.execute("""CREATE OR REPLACE TABLE gone AS
            SELECT n.id, n.t, n.ts, n.leaf FROM newest n ANTI JOIN src s ON s.id = n.id AND s.t = n.t
            WHERE NOT n.deleted""")
        self._ready = True
        by_kind = dict(con.execute("SELECT kind, count(*) FROM cls GROUP BY kind").fetchall())
        return DiffCounts(
            source_documents=con.execute("SELECT count(*) FROM src").fetchone()[0],
            latest_ids=con.execute("SELECT count(*) FROM newest WHERE NOT deleted").fetchone()[0],
            missing=by_kind.get("missing", 0), stale=by_kind.get("stale", 0),
            deleted=con.execute("SELECT count(*) FROM gone").fetchone()[0],
            rejected=by_kind.get("rejected", 0), withdrawn=by_kind.get("withdraw", 0),
        )

    def to_repair(self) -> Iterator[tuple[str, str, int]]:
        """(id, type, source ms) of every missing or stale document."""
        yield from self._rows("SELECT id, t, ts FROM cls WHERE kind IN ('missing', 'stale') ORDER BY ts")

    def repair_buckets(self) -> list[int]:
        """The quarter-hours (wall-clock ms // 900 000) of the documents to repair: few values, each
        within one partition date."""
        return [r[0] for r in self._rows(
            "SELECT DISTINCT ts // 900000 FROM cls WHERE kind IN ('missing', 'stale') ORDER BY 1")]

    def gone(self) -> Iterator[tuple[str, str, int, list[str | None]]]:
        """(id, type, newest lake ms, leaf values) of every identity the source no longer has."""
        yield from self._rows("SELECT id, t, ts, leaf FROM gone ORDER BY id, t")

    def add_after(self, chunk: pa.Table) -> None:
        """Lake rows of the repaired dates, read again after the repair."""
        self.con.execute("CREATE TABLE IF NOT EXISTS after (id VARCHAR, t VARCHAR, ts BIGINT, deleted BOOLEAN)")
        self.con.register("chunk", chunk)
        self.con.execute("INSERT INTO after SELECT id, t, ts, coalesce(deleted, false) FROM chunk")
        self.con.unregister("chunk")

    def repaired(self) -> int:
        """Missing or stale documents that now have a version at least as new as the source's."""
        self.con.execute("CREATE TABLE IF NOT EXISTS after (id VARCHAR, t VARCHAR, ts BIGINT, deleted BOOLEAN)")
        return self.con.execute("""SELECT count(*) FROM cls c WHERE c.kind IN ('missing', 'stale') AND EXISTS (
            SELECT 1 FROM after a WHERE a.id = c.id AND a.t = c.t AND a.ts >= c.ts AND NOT a.deleted)""").fetchone()[0]

    def add_rejects(self, keys: list[tuple[str | None, str]]) -> None:
        """The identities in kx_rejects before the pass (documents keyed by their bytes excluded)."""
        self.con.execute("CREATE OR REPLACE TABLE rej (id VARCHAR, t VARCHAR)")
        if keys:
            self.con.executemany("INSERT INTO rej VALUES (?, ?)", [list(k) for k in keys])

    def settled_rejects(self) -> list[tuple[str, str]]:
        """Identities of `add_rejects` gone from the source, or placeable there and now in the lake."""
        self.con.execute("CREATE TABLE IF NOT EXISTS rej (id VARCHAR, t VARCHAR)")
        self.con.execute("CREATE TABLE IF NOT EXISTS after (id VARCHAR, t VARCHAR, ts BIGINT, deleted BOOLEAN)")
        return self.con.execute("""SELECT r.id, r.t FROM rej r LEFT JOIN cls c ON c.id = r.id AND c.t = r.t
            WHERE c.id IS NULL
               OR c.kind IN ('ok', 'withdraw')
               OR (c.kind IN ('missing', 'stale') AND EXISTS (SELECT 1 FROM after a
                   WHERE a.id = c.id AND a.t = c.t AND a.ts >= c.ts AND NOT a.deleted))
            ORDER BY r.id, r.t""").fetchall()

    def withdrawals(self) -> Iterator[tuple[str, str, int, date]]:
        """(id, type, tombstone ms, tombstone date) of every tombstone to take back."""
        yield from self._rows("SELECT id, t, lake_ts, lake_day FROM cls WHERE kind = 'withdraw'")

    def _rows(self, sql: str, size: int = 10_000) -> Iterator[tuple]:
        assert self._ready, "compare() first"
        cur = self.con.cursor()
        cur.execute(sql)
        while rows := cur.fetchmany(size):
            yield from rows

    def close(self, remove: bool = True) -> None:
        self.con.close()
        if not remove:
            return
        for p in (self.path, self.path.with_suffix(".duckdb.wal")):
            p.unlink(missing_ok=True)
