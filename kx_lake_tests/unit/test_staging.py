"""Spool files are private (0600 in 0700 directories) and a crashed run's spool is removed by the next
run, while a live run's is left alone. Crashes are real: a child process claims a run, spools a
document and is killed (SIGKILL), so nothing of it runs at exit."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import bson

from kx_lake.lib.lake.spool import DateSpool
from kx_lake.lib.staging import claim_run_dir, remove_stale_runs

_CHILD = textwrap.dedent(
    """
    import os, signal, sys, time
    from datetime import date
    from pathlib import Path
    import bson
    from kx_lake.lib.lake.spool import DateSpool
    from kx_lake.lib.staging import claim_run_dir
    run_dir = claim_run_dir(Path(sys.argv[1]), sys.argv[2])
    spool = DateSpool(run_dir / "env1" / "hims_core" / "patients", keep=run_dir.parent)
    spool.append(date(2026, 1, 1), bson.encode({"_id": "P1", "name": "Asha"}))
    spool.close()
    print("spooled", flush=True)
    if sys.argv[3] == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()  # stay alive (holding the claim) until the test closes stdin
    """
)


def _child(root: Path, run_id: str, mode: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(root), run_id, mode],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "spooled"
    return proc


def test_spool_files_and_directories_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a permissive umask would leave ordinary files 0644
    try:
        run_dir = claim_run_dir(tmp_path / "staging", "run-a")
        spool = DateSpool(run_dir / "env1" / "hims_core" / "patients", keep=run_dir.parent)
        spool.append(date(2026, 1, 1), bson.encode({"_id": "P1"}))
        spool.close()
    finally:
        os.umask(old)
    (file,) = spool.directory.iterdir()
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    for d in (run_dir, spool.directory, spool.directory.parent):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert [d["_id"] for chunk in spool.read(date(2026, 1, 1)) for d in chunk] == ["P1"]


def test_a_crashed_runs_spool_is_removed_by_the_next_run(tmp_path: Path) -> None:
    root = tmp_path / "staging"
    crashed = _child(root, "run-crashed", "crash")
    assert crashed.wait(timeout=30) == -signal.SIGKILL
    assert any((root / "run-crashed").rglob("*.bson"))  # the debris a crash leaves

    claim_run_dir(root, "run-next")

    assert not (root / "run-crashed").exists() and not (root / "run-crashed.lock").exists()
    assert (root / "run-next").is_dir()


def test_a_live_runs_spool_is_left_alone(tmp_path: Path) -> None:
    root = tmp_path / "staging"
    live = _child(root, "run-live", "stay")
    try:
        claim_run_dir(root, "run-other")
        assert any((root / "run-live").rglob("*.bson"))
    finally:
        live.communicate("", timeout=30)
    assert live.returncode == 0
    assert remove_stale_runs(root) == ["run-live"]  # now it has exited, its (unremoved) spool is debris
    assert not (root / "run-live").exists()


def test_every_step_process_of_one_run_shares_its_claim(tmp_path: Path) -> None:
    root = tmp_path / "staging"
    first = _child(root, "run-shared", "stay")  # another step process of the same run, still working
    try:
        run_dir = claim_run_dir(root, "run-shared")
        assert any(run_dir.rglob("*.bson"))
    finally:
        first.communicate("", timeout=30)


def test_directories_from_before_locks_are_debris(tmp_path: Path) -> None:
    root = tmp_path / "staging"
    (root / "legacy-run" / "env1").mkdir(parents=True)
    (root / "legacy-run" / "env1" / "2026-01-01.bson").write_bytes(b"x")
    claim_run_dir(root, "run-new")
    assert sorted(p.name for p in root.iterdir()) == ["run-new", "run-new.lock"]


def test_the_rejects_spool_is_private(tmp_path: Path) -> None:
    """rejects.bson holds raw rejected documents: 0600 in 0700 directories whatever the umask."""
    from kx_lake.lib.lake.rejects import RejectSpool

    old = os.umask(0o022)
    try:
        run_dir = claim_run_dir(tmp_path / "staging", "run-a")
        rejects = RejectSpool(run_dir / "env1" / "hims_core" / "patients" / "rejects.bson")
        rejects.append("no timestamp", bson.encode({"_id": "P1", "name": "Asha"}), {"_id": "P1"})
        rejects.append_undecodable("not BSON", b"\x05\x00\x00\x00\x01", 0, keep_bytes=True)
        rejects.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(rejects.path.stat().st_mode) == 0o600
    for d in (rejects.path.parent, rejects.path.parent.parent):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert rejects.count == 2


def test_leaf_files_are_private_from_their_creation(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """The per-leaf Arrow files (converted patient rows) are 0600 the moment they are opened for
    writing, not chmodded afterwards: the mode is read when pyarrow opens each one."""
    import pyarrow as pa

    from kx_lake.lib.lake import leaves

    modes: list[int] = []
    real = pa.OSFile

    def watching(path: str, mode: str = "rb", **kwargs):  # noqa: ANN003, ANN202
        sink = real(path, mode, **kwargs)
        if "w" in mode:
            modes.append(stat.S_IMODE(os.stat(path).st_mode))
        return sink

    monkeypatch.setattr(pa, "OSFile", watching)
    old = os.umask(0o022)
    try:
        writers = leaves._Writers(tmp_path)
        batch = pa.record_batch({"x": [1, 2]})
        writers.write(("F1",), batch)
        writers.write(("F2",), batch)
        writers.close()
    finally:
        os.umask(old)
    assert modes == [0o600, 0o600]
