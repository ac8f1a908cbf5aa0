"""Memory, spill and thread settings of every DuckDB catalog connection.

Left alone, DuckDB may use 80 % of the machine's RAM before spilling, so one data-quality check's
window or join over a table's whole history could grow a sync's memory to gigabytes. Bounded, the
same query spills to disk under `KX_LAKE_DUCKDB_MEMORY_LIMIT` (default 1GB). The spill directory is
per process (read-only connections of several processes share the catalog file) and lives beside the
catalog; DuckDB creates it on the first spill and removes it when the connection closes.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from kx_lake.lib.config import Settings

CATALOG_DIR = "catalog"
SPILL_DIR = "spill"
MAX_THREADS = 8


def spill_dir(settings: Settings, env: str) -> Path:
    return settings.state_dir(CATALOG_DIR, SPILL_DIR, f"{env}-{os.getpid()}")


def threads() -> int:
    """The CPUs this process may run on (not the machine's: a container or `taskset` has fewer), ≤ 8."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cpus, MAX_THREADS))


def bound(con: duckdb.DuckDBPyConnection, settings: Settings, env: str) -> None:
    def lit(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    spill = spill_dir(settings, env)
    spill.parent.mkdir(parents=True, exist_ok=True)  # DuckDB makes only the last level
    con.execute(f"SET memory_limit = {lit(settings.duckdb_memory_limit)}")
    # connections of one process to one file share a database, whose spill directory cannot change
    # once used, not even to the same value: set it only when it differs
    if con.execute("SELECT current_setting('temp_directory')").fetchone()[0] != str(spill):
        con.execute(f"SET temp_directory = {lit(str(spill))}")
    con.execute(f"SET threads = {threads()}")
