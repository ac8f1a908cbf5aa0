"""The shared server-process lifecycle (FerretDB, Trino) on real child processes."""

import sys
from pathlib import Path

from kx_lake.lib import process_lifecycle as proc_life


def _sleeper(tmp_path: Path, marker: Path, seconds: int = 30):
    code = f"import time; time.sleep({seconds})"
    return proc_life.spawn([sys.executable, "-c", code, f"--state={marker}/server.json"], tmp_path / "child.log")


def test_a_recorded_pid_counts_only_while_alive_and_started_for_this_state(tmp_path: Path) -> None:
    state = tmp_path / "state"
    proc, started_at = _sleeper(tmp_path, state)
    try:
        assert proc_life.alive(proc.pid)
        assert proc_life.started_for(proc.pid, state)
        assert not proc_life.started_for(proc.pid, tmp_path / "stat")  # a prefix of the name is not the same dir
        assert not proc_life.started_for(proc.pid, tmp_path / "other")
        assert f"--- {started_at} starting {sys.executable}" in proc_life.log_tail(tmp_path / "child.log")
    finally:
        proc_life.stop_pid(proc.pid, term_timeout=5.0, error=RuntimeError)
    assert not proc_life.alive(proc.pid) and not proc_life.started_for(proc.pid, state)


def test_startup_outcomes(tmp_path: Path) -> None:
    exited, _ = proc_life.spawn([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "exit.log")
    assert proc_life.wait_ready(exited, lambda: False, timeout=30.0, interval=0.05) is proc_life.Startup.EXITED
    assert exited.returncode == 3
    slow, _ = _sleeper(tmp_path, tmp_path / "slow")
    try:
        assert proc_life.wait_ready(slow, lambda: False, timeout=0.3, interval=0.05) is proc_life.Startup.TIMED_OUT
        answers = iter([False, False, True])
        assert proc_life.wait_ready(slow, lambda: next(answers), timeout=30.0, interval=0.01) is proc_life.Startup.READY
    finally:
        proc_life.stop_pid(slow.pid, term_timeout=5.0, error=RuntimeError)


def test_state_files_are_written_whole_and_bad_ones_read_as_stale(tmp_path: Path) -> None:
    path = tmp_path / "server.json"
    assert proc_life.read_state(path) is None
    proc_life.write_state(path, {"pid": 1, "port": 2})
    assert proc_life.read_state(path) == {"pid": 1, "port": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["server.json"]  # no temp file left behind
    for garbage in ("{not json", "[1, 2]"):
        path.write_text(garbage)
        assert proc_life.read_state(path) is None
    assert proc_life.log_tail(tmp_path / "missing.log") == "(no log yet)"


def test_a_process_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    proc, _ = proc_life.spawn([sys.executable, "-c", code], tmp_path / "stubborn.log")
    assert proc_life.wait_ready(proc, lambda: "ready" in proc_life.log_tail(tmp_path / "stubborn.log"),
                                timeout=30.0, interval=0.05) is proc_life.Startup.READY
    proc_life.stop_pid(proc.pid, term_timeout=0.3, error=RuntimeError)
    assert not proc_life.alive(proc.pid)


def test_locked_is_exclusive_across_processes(tmp_path: Path) -> None:
    import subprocess

    probe = ("import fcntl, sys; fh = open(sys.argv[1], 'w')\n"
             "try:\n    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n    sys.exit(7)")
    lock = tmp_path / "dir" / ".lock"
    with proc_life.locked(tmp_path / "dir"):
        assert subprocess.run([sys.executable, "-c", probe, str(lock)]).returncode == 7
    assert subprocess.run([sys.executable, "-c", probe, str(lock)]).returncode == 0


def test_a_pid_beyond_linux_pid_max_is_not_alive() -> None:
    assert not proc_life.alive(2**22 + 12345)
