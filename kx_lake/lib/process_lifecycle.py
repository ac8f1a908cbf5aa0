"""The life of a local server process kx-lake starts and outlives: the embedded FerretDB per
environment, the self-hosted Trino, the dashboard site.

Each server has a state directory holding a JSON state file (pid, port, ...; written atomically) —
the only registry — and a log. A recorded server counts only while its pid is alive, not a zombie,
and (where /proc exists) was started for this state (its command line names it), so a reboot, a
`kill -9` or a reused pid never wedges the next start. Servers run in their own session; a file lock
on the state directory serialises concurrent starts and stops. The callers keep what differs: the
command, the readiness probe, the messages.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

LOG_TAIL_BYTES = 4000

# Servers started by this process, so they are reaped (no zombies) and a reused pid is not taken for them.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class Startup(Enum):
    READY = "ready"
    EXITED = "exited"
    TIMED_OUT = "timed out"


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on `directory` (created if needed) for the duration of the block."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def read_state(path: Path) -> dict[str, Any] | None:
    """The state file's JSON object; None when missing or unreadable (stale state)."""
    try:
        raw = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def write_state(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    os.replace(tmp, path)


def alive(pid: int) -> bool:
    """Running (not a zombie) and signalable by us: another user's process is never one of our servers."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        del _CHILDREN[pid]
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a zombie still has a pid; on Linux, /proc tells us it is dead
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def started_for(pid: int, marker: Path) -> bool:
    """Alive and started for `marker` (one of its arguments is that path or lies under it); without
    /proc (macOS) the pid is trusted."""
    if not alive(pid):
        return False
    for _ in range(50):  # just after spawn the new program's arguments may not be readable yet (empty)
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return True
        if raw:
            break
        time.sleep(0.01)
    else:
        return True  # still unreadable: nothing to tell it apart by
    mark = str(marker).encode()
    return any(arg == mark or mark + b"/" in arg for arg in raw.split(b"\0"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, max_bytes: int = LOG_TAIL_BYTES) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - max_bytes))
            return fh.read().decode(errors="replace").strip()
    except FileNotFoundError:
        return "(no log yet)"


def spawn(cmd: Sequence[str], log: Path, *, cwd: Path | None = None, env: dict[str, str] | None = None,
          preexec_fn: Callable[[], None] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Start `cmd` in its own session, appending its output to `log` after a header line; (process, start time)."""
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    with open(log, "ab") as fh:
        fh.write(f"--- {started_at} starting {' '.join(cmd)}\n".encode())
        fh.flush()
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True, cwd=cwd, env=env, preexec_fn=preexec_fn)
    _CHILDREN[proc.pid] = proc
    return proc, started_at


def wait_ready(proc: subprocess.Popen[bytes], ready: Callable[[], bool], *, timeout: float, interval: float) -> Startup:
    """Poll `ready` until it answers, the process exits, or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return Startup.EXITED
        if ready():
            return Startup.READY
        time.sleep(interval)
    return Startup.TIMED_OUT


def stop_pid(pid: int, *, term_timeout: float, error: Callable[[str], Exception]) -> None:
    """SIGTERM, wait up to `term_timeout`, then SIGKILL; `error(message)` is raised if it still lives."""
    for sig, wait in ((signal.SIGTERM, term_timeout), (signal.SIGKILL, 5.0)):
        if not alive(pid):
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not alive(pid):
                return
            time.sleep(0.05)
    raise error(f"process {pid} did not exit after SIGTERM and SIGKILL")
