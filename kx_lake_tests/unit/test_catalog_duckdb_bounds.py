"""The DuckDB catalog connection is bounded: its memory limit and spill directory are set from the
settings, and a query needing more memory than the limit spills to that directory and answers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from kx_lake.lib.catalog import duckdb_bounds, duckdb_catalog
from kx_lake.lib.config import ProjectConfig, Settings

# a sort of 4 M (number, text) rows: ~200 MB of data, far beyond a 64 MB limit
BIG_SORT = ("SELECT count(*), max(n) FROM (SELECT i AS n, 'row ' || i::VARCHAR AS t, "
            "row_number() OVER (ORDER BY t DESC) AS r FROM range(4000000) AS x(i)) AS s WHERE r > 0")


def project(tmp_path: Path, limit: str) -> ProjectConfig:
    settings = dataclasses.replace(Settings.resolve(environ={}), home=tmp_path / "home",
                                   lake_root_override=str(tmp_path / "lake"), duckdb_memory_limit=limit)
    return ProjectConfig.load(settings)


def test_connection_has_the_limit_spill_directory_and_threads(tmp_path):
    cfg = project(tmp_path, "64MB")
    con = duckdb_catalog.connect(cfg, "env1", read_only=False)
    try:
        limit, temp, threads = con.execute("SELECT current_setting('memory_limit'), current_setting('temp_directory'), "
                                           "current_setting('threads')").fetchone()
    finally:
        con.close()
    assert limit == "61.0 MiB"  # 64 MB (decimal) as DuckDB prints it
    assert Path(temp) == duckdb_bounds.spill_dir(cfg.settings, "env1")
    assert Path(temp).parent == tmp_path / "home" / "catalog" / "spill"
    assert threads == duckdb_bounds.threads()


def test_a_query_larger_than_the_limit_spills_and_answers(tmp_path):
    unspilled = duckdb.connect(config={"memory_limit": "64MB", "temp_directory": ""})
    with pytest.raises(duckdb.OutOfMemoryException):  # the query does need more than the limit
        unspilled.execute(BIG_SORT).fetchone()
    unspilled.close()
    cfg = project(tmp_path, "64MB")
    con = duckdb_catalog.connect(cfg, "env1", read_only=False)
    try:
        assert con.execute(BIG_SORT).fetchone() == (4_000_000, 3_999_999)
        assert duckdb_bounds.spill_dir(cfg.settings, "env1").is_dir()  # it spilled there
        # a second connection of this process to the same file shares the database, whose spill
        # directory DuckDB refuses to set again once used: the connection opens all the same
        again = duckdb_catalog.connect(cfg, "env1", read_only=False)
        assert again.execute("SELECT current_setting('memory_limit')").fetchone() == ("61.0 MiB",)
        again.close()
    finally:
        con.close()
    assert not duckdb_bounds.spill_dir(cfg.settings, "env1").exists()  # DuckDB removes it on close


def test_the_limit_comes_from_the_environment_and_is_validated():
    assert Settings.resolve(environ={}).duckdb_memory_limit == "1GB"
    assert Settings.resolve(environ={"KX_LAKE_DUCKDB_MEMORY_LIMIT": "2GiB"}).duckdb_memory_limit == "2GiB"
    with pytest.raises(ValueError, match="KX_LAKE_DUCKDB_MEMORY_LIMIT: 'lots' is not a memory size"):
        Settings.resolve(environ={"KX_LAKE_DUCKDB_MEMORY_LIMIT": "lots"})
