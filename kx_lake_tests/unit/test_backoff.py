"""The waits on tenacity: geometric back-off on the injected clock, the deadline, and a real DuckDB lock."""

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kx_lake.builders.catalog_resource import wait_for_writer
from kx_lake.lib.backoff import Backoff
from kx_lake.lib.catalog import duckdb_catalog
from kx_lake.lib.config import ProjectConfig
from kx_lake_tests.fixtures.fake_clock import FakeClock


def test_poll_backs_off_geometrically_to_the_cap_and_returns_the_first_answer() -> None:
    clock, answers = FakeClock(), iter([None] * 6 + ["done"])
    got = Backoff(0.25, 1.0, 2.0, 60.0, sleep=clock.sleep, clock=clock).poll(lambda: next(answers), lambda: "late")
    assert got == "done"
    assert clock.sleeps == [0.25, 0.5, 1.0, 1.0, 1.0, 1.0]


def test_poll_gives_up_before_a_sleep_would_pass_the_deadline() -> None:
    clock = FakeClock()

    def timed_out() -> str:
        raise TimeoutError(f"still waiting at {clock.now:g} s")

    with pytest.raises(TimeoutError, match="still waiting at 9.9524 s"):
        Backoff(0.25, 2.0, 1.6, 10.0, sleep=clock.sleep, clock=clock).poll(lambda: None, timed_out)
    assert clock.sleeps == pytest.approx([0.25, 0.4, 0.64, 1.024, 1.6384, 2.0, 2.0, 2.0])


def test_poll_ends_at_once_on_an_error_and_timeouts_can_return_a_result() -> None:
    clock = FakeClock()

    def broken() -> None:
        raise ValueError("FAILED: table missing")

    with pytest.raises(ValueError, match="table missing"):
        Backoff(1, 5, 2, 60, sleep=clock.sleep, clock=clock).poll(broken, lambda: "late")
    assert clock.sleeps == []
    assert Backoff(1, 5, 2, 3, sleep=clock.sleep, clock=clock).poll(lambda: None, lambda: "late") == "late"


def test_retry_only_retries_what_it_is_told_and_reraises_the_last_error() -> None:
    clock, calls = FakeClock(), []

    def flaky() -> str:
        calls.append(1)
        raise OSError("locked")

    with pytest.raises(OSError, match="locked"):
        Backoff(1, 5, 2, 10, sleep=clock.sleep, clock=clock).retry(flaky, lambda e: "locked" in str(e))
    assert clock.sleeps == [1, 2, 4] and len(calls) == 4
    with pytest.raises(OSError):
        Backoff(1, 5, 2, 10, sleep=clock.sleep, clock=clock).retry(flaky, lambda e: False)
    assert len(calls) == 5


HOLD = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(600)"


@contextmanager
def held(path: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the DuckDB file `path` open for writing, until the block ends."""
    path.parent.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_catalog_writer_waits_while_another_process_holds_the_duckdb_file(repo_project_in: ProjectConfig) -> None:
    project = repo_project_in
    with held(duckdb_catalog.catalog_path(project, "env1")) as holder:
        clock = FakeClock()

        def release_on_second_wait(seconds: float) -> None:  # the other run finishes while we back off
            clock.sleep(seconds)
            if len(clock.sleeps) == 2:
                holder.kill()
                holder.wait()

        con = wait_for_writer(lambda: duckdb_catalog.connect(project, "env1", read_only=False), 120.0,
                              sleep=release_on_second_wait, clock=clock)
        con.close()
        assert clock.sleeps == pytest.approx([0.2, 0.3])


def test_a_lock_held_past_the_timeout_fails_naming_the_file(repo_project_in: ProjectConfig) -> None:
    project = repo_project_in
    path = duckdb_catalog.catalog_path(project, "env1")
    with held(path):
        clock = FakeClock()
        with pytest.raises(duckdb_catalog.CatalogError, match=f"env1: opening the DuckDB catalog {path}"):
            wait_for_writer(lambda: duckdb_catalog.connect(project, "env1", read_only=False), 2.0,
                            sleep=clock.sleep, clock=clock)
        assert clock.sleeps == pytest.approx([0.2, 0.3, 0.45, 0.675])
