"""Run one single-node Trino (coordinator that also schedules work) per KX_LAKE_HOME, on loopback.

Everything lives under `<home>/trino/`: `etc/` (generated config: the node, the JVM and one Hive
catalog `lake`), `data/` (Trino's node data dir), `metastore/` (the Hive file metastore: schemas,
tables, partitions and views as files), `trino.log` and `server.json` (pid, port, started_at, java;
written atomically). As with the local FerretDB (kx_lake.lib.source.local_server), the state file is
the only registry: the server is "running" when its pid is alive, was started for this home, and
answers `/v1/info` as started; anything else is stale and cleaned up, so `kill -9` never wedges `up`.
One server serves every environment: their catalog databases differ by prefix (kx_env1_, kx_env2_).

The Hive catalog reads the lake through Trino's native local file system (`local:///<path>`,
`local.location=/`), so a table's `external_location` is its lake directory: nothing is copied.
The server starts in its own session and outlives the CLI; `exit_with_parent` (test sessions) asks
Linux to stop it when the starting process dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import json
import signal
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from kx_lake.lib import process_lifecycle as proc_life
from kx_lake.lib.trino.config import command, state_dir, write_config
from kx_lake.lib.trino.install import TrinoInstall, ensure_installed
from kx_lake.lib.trino.java import Java, find_java

START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0


class TrinoServerError(RuntimeError):
    """The Trino server could not start, or is not running when it is needed."""


@dataclass(frozen=True)
class TrinoServerInfo:
    pid: int
    port: int
    started_at: str
    java: str
    home: str  # the trino state dir it serves

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def log_file(home: Path) -> Path:
    return state_dir(home) / "trino.log"


def _state_file(home: Path) -> Path:
    return state_dir(home) / "server.json"


def up(home: Path, *, install: TrinoInstall | None = None, java: Java | None = None,
       timeout: float = START_TIMEOUT_S, exit_with_parent: bool = False, log=print) -> TrinoServerInfo:
    """Make sure this home's Trino runs; return it. Idempotent (a running server is reused)."""
    with proc_life.locked(state_dir(home)):
        current = _current(home)
        if current is not None:
            if _ready(current.port, timeout=5.0):
                return current
            _stop_pid(current.pid)
            _state_file(home).unlink(missing_ok=True)
        install = install or ensure_installed(log=log)
        java = java or find_java()
        return _start(home, install, java, timeout=timeout, exit_with_parent=exit_with_parent)


def down(home: Path) -> bool:
    """Stop this home's Trino (SIGTERM, then SIGKILL); False when nothing was running."""
    with proc_life.locked(state_dir(home)):
        current = _current(home)
        if current is None:
            return False
        _stop_pid(current.pid)
        _state_file(home).unlink(missing_ok=True)
        return True


def running(home: Path) -> TrinoServerInfo | None:
    with proc_life.locked(state_dir(home)):
        return _current(home)


def require(home: Path) -> TrinoServerInfo:
    """The running server, or an error telling how to start it."""
    info = running(home)
    if info is None:
        raise TrinoServerError(f"Trino is not running for {home}; start it with `kx-lake trino up`")
    return info


def ready(info: TrinoServerInfo) -> bool:
    return _ready(info.port, timeout=2.0)


def log_tail(home: Path, max_bytes: int = proc_life.LOG_TAIL_BYTES) -> str:
    return proc_life.log_tail(log_file(home), max_bytes)


# --- internals -------------------------------------------------------------------------------------


def _current(home: Path) -> TrinoServerInfo | None:
    raw = proc_life.read_state(_state_file(home))
    try:
        info = TrinoServerInfo(int(raw["pid"]), int(raw["port"]), str(raw["started_at"]), str(raw["java"]),
                               str(raw["home"])) if raw else None
    except (ValueError, KeyError, TypeError):
        info = None
    if info is not None and proc_life.started_for(info.pid, state_dir(home)):
        return info
    _state_file(home).unlink(missing_ok=True)
    return None


def _ready(port: int, timeout: float) -> bool:
    """Trino answers /v1/info with `"starting": false` once it accepts queries."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/info", timeout=timeout) as resp:
            return json.loads(resp.read()).get("starting") is False
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _die_with_parent() -> None:  # runs in the child between fork and exec
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _start(home: Path, install: TrinoInstall, java: Java, *, timeout: float, exit_with_parent: bool) -> TrinoServerInfo:
    port = proc_life.free_port()
    data_dir = state_dir(home) / "data"  # the working dir: Trino keeps its node data relative to it
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd = command(java, install, write_config(home, install, port))
    log = log_file(home)
    proc, started_at = proc_life.spawn(cmd, log, cwd=data_dir,
                                       preexec_fn=_die_with_parent if exit_with_parent else None)
    info = TrinoServerInfo(proc.pid, port, started_at, str(java.executable), str(state_dir(home)))
    proc_life.write_state(_state_file(home), asdict(info))
    outcome = proc_life.wait_ready(proc, lambda: _ready(port, timeout=1.0), timeout=timeout, interval=0.25)
    if outcome is proc_life.Startup.READY:
        return info
    if outcome is proc_life.Startup.EXITED:
        _state_file(home).unlink(missing_ok=True)
        raise TrinoServerError(f"Trino exited with code {proc.returncode} while starting; log {log}:\n"
                               f"{log_tail(home)}")
    _stop_pid(proc.pid)
    _state_file(home).unlink(missing_ok=True)
    raise TrinoServerError(f"Trino did not start within {timeout:.0f} s; log {log}:\n{log_tail(home)}")


def _stop_pid(pid: int) -> None:
    proc_life.stop_pid(pid, term_timeout=STOP_TIMEOUT_S, error=lambda msg: TrinoServerError(f"Trino {msg}"))
