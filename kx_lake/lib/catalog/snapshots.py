"""Dataset snapshots: each dashboard dataset (sql/datasets) of the embedded catalog written once to a
Parquet file when the catalog is refreshed, `<home>/catalog/<env>.datasets/<view>.parquet`.

Why: a dataset view is computed from the `_latest` dedup views over every Parquet file of the
collections it reads — seconds per dataset at scale 1, paid by the dashboard site on the first
request of each page after every start (and again whenever its cache expired). The dataset itself
is a small aggregate, so the refresh computes it once and the site reads the small file instead
(milliseconds). Like QuickSight's SPICE import, a snapshot shows the data as of the last catalog
refresh; `kx-lake catalog refresh` (or Dagster's eager automation after a sync) renews it.

Written to a temporary name and renamed, so a reader sees the old file or the new, never half of
one; the view in the catalog stays the definition, and `kx-lake query` still reads it live.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from kx_lake.lib.catalog import names
from kx_lake.lib.config import ProjectConfig


class SnapshotError(RuntimeError):
    """A snapshot could not be written; the message names the environment, dataset and file."""


def snapshot_dir(project: ProjectConfig, env: str) -> Path:
    return project.settings.state_dir("catalog", f"{env}.datasets")


def snapshot_path(project: ProjectConfig, env: str, view: str) -> Path:
    """The snapshot file of one dataset view (its name without the database)."""
    return snapshot_dir(project, env) / f"{view}.parquet"


def write_snapshot(con: duckdb.DuckDBPyConnection, project: ProjectConfig, env: str, target: tuple[str, str]) -> Path:
    """Compute `target` (database, view) on `con` and publish it as the view's snapshot file."""
    path = snapshot_path(project, env, target[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    quoted = str(tmp).replace("'", "''")
    relation = names.qualified(*target)
    try:
        con.execute(f"COPY ({_select(con, relation)}) TO '{quoted}' (FORMAT parquet, COMPRESSION zstd)")
        os.replace(tmp, path)
    except (duckdb.Error, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise SnapshotError(f"{env}: writing the snapshot of {'.'.join(target)} to {path}: {exc}") from exc
    return path


def _select(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """SELECT every column; 128-bit integers (sums of BIGINT) as DECIMAL(38,0), which Parquet keeps —
    it would write them as DOUBLE — so the site reads the same Arrow types as from the view."""
    columns = []
    for name, kind, *_ in con.execute(f"DESCRIBE {relation}").fetchall():
        ident = '"' + name.replace('"', '""') + '"'
        columns.append(f"CAST({ident} AS DECIMAL(38,0)) AS {ident}" if kind in ("HUGEINT", "UHUGEINT") else ident)
    return f"SELECT {', '.join(columns)} FROM {relation}"
