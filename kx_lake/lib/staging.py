"""Per-run staging directories that never outlive a crash, and spool files only their owner can read.

Spools hold raw documents (patient data) on local disk between extraction and publication. A run
removes its own spool when it finishes, but a killed process cannot, so each run's directory is
claimed with a shared `flock` on a lock file beside it (`<root>/<run_id>.lock`), held for the life of
the process: every step process of the run takes it, the kernel drops it when the process dies. When a
run claims its directory it removes every other run's directory whose lock nobody holds — the debris
of a crash — and leaves live runs alone. Directories are 0700 and spool files 0600.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path
from typing import BinaryIO

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_LOCK_SUFFIX = ".lock"
_HELD: dict[Path, int] = {}  # lock file -> descriptor, kept open (and so locked) until the process exits


def open_private_append(path: Path) -> BinaryIO:
    """Open `path` for appending, creating it readable and writable by its owner only (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
    return os.fdopen(fd, "ab")


def make_private_dirs(path: Path) -> None:
    """mkdir -p with 0700 for every directory created (Path.mkdir gives parents the default mode)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for p in reversed(missing):
        p.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)


def claim_run_dir(root: Path, run_id: str) -> Path:
    """`<root>/<run_id>`, created 0700 and locked for this process; stale runs' directories are removed."""
    make_private_dirs(root)
    lock = root / f"{run_id}{_LOCK_SUFFIX}"
    if lock not in _HELD:
        _HELD[lock] = _lock_shared(lock)
    remove_stale_runs(root)
    run_dir = root / run_id
    make_private_dirs(run_dir)
    return run_dir


def _lock_shared(lock: Path) -> int:
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # a cleaner removed the file between our open and our lock: take a fresh one


def remove_stale_runs(root: Path) -> list[str]:
    """Remove run directories (and their lock files) no live process holds; return the run ids removed."""
    removed = []
    for entry in sorted(root.iterdir()):
        if entry.suffix == _LOCK_SUFFIX or entry.with_name(entry.name + _LOCK_SUFFIX) in _HELD:
            continue
        lock = entry.with_name(entry.name + _LOCK_SUFFIX)
        fd = _try_exclusive(lock)
        if fd is None:
            continue  # a live run
        try:
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            lock.unlink(missing_ok=True)
        finally:
            if fd >= 0:
                os.close(fd)
        removed.append(entry.name)
    for lock in root.glob(f"*{_LOCK_SUFFIX}"):  # lock files whose run directory is already gone
        if lock not in _HELD and not lock.with_suffix("").exists() and (fd := _try_exclusive(lock)) is not None:
            lock.unlink(missing_ok=True)
            if fd >= 0:
                os.close(fd)
    return removed


def _try_exclusive(lock: Path) -> int | None:
    """An exclusive lock on `lock` if nobody holds it (-1: there is no lock file at all), else None."""
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return -1
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
