"""The crash hook of the fault-injection tests (lib/faults.py): inert unless set, SIGKILL on the n-th visit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from kx_lake.lib import faults

DRIVER = """
from kx_lake.lib import faults
for n in range(1, 4):
    faults.reached("leaf_written")
    faults.reached("before_state")
    print(n, flush=True)
"""


def run(kill_at: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != faults.VARIABLE}
    if kill_at is not None:
        env[faults.VARIABLE] = kill_at
    return subprocess.run([sys.executable, "-c", DRIVER], env=env, capture_output=True, text=True, timeout=60)


def test_unset_or_another_point_does_nothing() -> None:
    assert (run(None).returncode, run(None).stdout.split()) == (0, ["1", "2", "3"])
    assert run("extract_batch").stdout.split() == ["1", "2", "3"]


def test_the_process_kills_itself_on_the_nth_visit_of_the_point() -> None:
    second = run("before_state:2")
    assert (second.returncode, second.stdout.split()) == (-signal.SIGKILL, ["1"])
    first = run("leaf_written")
    assert (first.returncode, first.stdout) == (-signal.SIGKILL, "")


def test_a_misspelt_point_is_refused_rather_than_never_firing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(faults.VARIABLE, "before_stat:1")
    with pytest.raises(ValueError, match="unknown point 'before_stat'"):
        faults.reached("before_state")
