"""Run one local FerretDB (SQLite backend) per environment, so env1 and env2 data never mix.

Everything about an environment's server lives under `<home>/source/<env>/`: `data/` (SQLite files),
`ferretdb.log` and `server.json` (pid, port, started_at, binary; written atomically). The state file is
the only registry: a server is "running" when its pid is alive, is our binary serving that data dir,
and answers `ping`. Anything else is stale and is cleaned up, so a reboot or a `kill -9` never wedges
`up`. Servers start in their own session, so they outlive the CLI that started them; a per-env file
lock serialises concurrent `up`/`down` calls.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pymongo
from pymongo.errors import PyMongoError

from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.source.ferretdb_build import ensure_binary

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
LOG_LEVEL = "warn"
_PORT_ATTEMPTS = 3
_LOG_TAIL_BYTES = 4000

# Servers started by this process, so we can reap them (no zombies) and avoid pid-reuse surprises.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class LocalServerError(RuntimeError):
    """The local source could not be started, or is not running when it is needed."""


@dataclass(frozen=True)
class ServerInfo:
    """A running local server, as recorded in server.json."""

    env: str
    pid: int
    port: int
    started_at: str
    binary: str

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"


@dataclass(frozen=True)
class ServerStatus:
    """What `status` reports for one environment."""

    env: str
    running: bool
    info: ServerInfo | None
    data_dir: Path
    log_file: Path

    @property
    def uri(self) -> str | None:
        return self.info.uri if self.info and self.running else None


def env_dir(project: ProjectConfig, env: str) -> Path:
    """`<home>/source/<env>`, for a configured, active environment only."""
    spec = project.environment(env)
    return project.settings.state_dir("source", spec.name)


def data_dir(project: ProjectConfig, env: str) -> Path:
    return env_dir(project, env) / "data"


def log_file(project: ProjectConfig, env: str) -> Path:
    return env_dir(project, env) / "ferretdb.log"


def _state_file(project: ProjectConfig, env: str) -> Path:
    return env_dir(project, env) / "server.json"


def up(
    project: ProjectConfig,
    env: str,
    *,
    binary: Path | None = None,
    timeout: float = START_TIMEOUT_S,
    exit_with_parent: bool = False,
) -> ServerInfo:
    """Make sure the environment's server runs; return it. Idempotent.

    `binary` defaults to the cached build (built if missing). `exit_with_parent` ties the server's life
    to this process (for test sessions); by default it outlives us.
    """
    with _locked(project, env):
        current = _current(project, env)
        if current is not None:
            if _ping(current.port, timeout=min(timeout, 5.0)):
                return current
            _stop_pid(current.pid)  # alive but not answering: replace it
            _state_file(project, env).unlink(missing_ok=True)
        exe = Path(binary) if binary is not None else ensure_binary(project.settings)
        last_error: LocalServerError | None = None
        for _ in range(_PORT_ATTEMPTS):
            try:
                return _start(project, env, exe, timeout=timeout, exit_with_parent=exit_with_parent)
            except _PortTaken as exc:  # lost a race for the port: pick another one
                last_error = exc
        assert last_error is not None
        raise last_error


def down(project: ProjectConfig, env: str) -> bool:
    """Stop the environment's server (SIGTERM, then SIGKILL); False when nothing was running."""
    with _locked(project, env):
        current = _current(project, env)
        if current is None:
            return False
        _stop_pid(current.pid)
        _state_file(project, env).unlink(missing_ok=True)
        return True


def running(project: ProjectConfig, env: str) -> ServerInfo | None:
    """The environment's live server, or None (stale state is removed)."""
    with _locked(project, env):
        return _current(project, env)


def uri(project: ProjectConfig, env: str) -> str:
    """`mongodb://127.0.0.1:PORT/` of the environment's server; an error telling how to start it."""
    info = running(project, env)
    if info is None:
        raise LocalServerError(
            f"the local source for environment {env!r} is not running; start it with "
            f"`kx-lake source up --env {env}`"
        )
    return info.uri


def status(project: ProjectConfig) -> list[ServerStatus]:
    """One row per active environment: is its server running, where, and where its files are."""
    rows = []
    for spec in project.active_environments:
        info = running(project, spec.name)
        rows.append(
            ServerStatus(
                env=spec.name,
                running=info is not None and _ping(info.port, timeout=2.0),
                info=info,
                data_dir=data_dir(project, spec.name),
                log_file=log_file(project, spec.name),
            )
        )
    return rows


def log_tail(project: ProjectConfig, env: str, max_bytes: int = _LOG_TAIL_BYTES) -> str:
    path = log_file(project, env)
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - max_bytes))
            return fh.read().decode(errors="replace").strip()
    except FileNotFoundError:
        return "(no log yet)"


# --- internals -------------------------------------------------------------------------------------


class _PortTaken(LocalServerError):
    pass


@contextmanager
def _locked(project: ProjectConfig, env: str) -> Iterator[None]:
    directory = env_dir(project, env)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _read_state(project: ProjectConfig, env: str) -> ServerInfo | None:
    try:
        raw = json.loads(_state_file(project, env).read_text())
        return ServerInfo(
            env=env, pid=int(raw["pid"]), port=int(raw["port"]), started_at=str(raw["started_at"]),
            binary=str(raw["binary"]),
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return None  # unreadable state is stale state


def _write_state(project: ProjectConfig, env: str, info: ServerInfo) -> None:
    path = _state_file(project, env)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    body = {k: v for k, v in asdict(info).items() if k != "env"}
    tmp.write_text(json.dumps({"env": env, **body}, indent=2) + "\n")
    os.replace(tmp, path)


def _current(project: ProjectConfig, env: str) -> ServerInfo | None:
    """The recorded server if its process is alive and is ours; otherwise drop the stale state."""
    info = _read_state(project, env)
    if info is not None and _is_our_server(info.pid, data_dir(project, env)):
        return info
    _state_file(project, env).unlink(missing_ok=True)
    return None


def _alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        del _CHILDREN[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process: not a server of ours
    try:  # a zombie still has a pid; on Linux, /proc tells us it is dead
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_our_server(pid: int, data: Path) -> bool:
    """Alive and (where /proc exists) started for this data dir, so a reused pid is never taken for ours."""
    if not _alive(pid):
        return False
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): trust the pid
    return str(data).encode() in args


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(port: int, timeout: float) -> bool:
    client: pymongo.MongoClient = pymongo.MongoClient(
        f"mongodb://127.0.0.1:{port}/",
        directConnection=True,
        serverSelectionTimeoutMS=int(timeout * 1000),
        connectTimeoutMS=int(timeout * 1000),
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _start(project: ProjectConfig, env: str, exe: Path, *, timeout: float, exit_with_parent: bool) -> ServerInfo:
    data = data_dir(project, env)
    data.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    cmd = [str(exe), "--listen", f"127.0.0.1:{port}", "--sqlite-dir", str(data), "--log-level", LOG_LEVEL]
    if exit_with_parent:
        cmd.append("--exit-with-parent")
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    log = log_file(project, env)
    with open(log, "ab") as fh:
        fh.write(f"--- {started_at} starting {' '.join(cmd)}\n".encode())
        fh.flush()
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[proc.pid] = proc
    info = ServerInfo(env=env, pid=proc.pid, port=port, started_at=started_at, binary=str(exe))
    _write_state(project, env, info)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _state_file(project, env).unlink(missing_ok=True)
            tail = log_tail(project, env)
            error_cls = _PortTaken if "address already in use" in tail.lower() else LocalServerError
            raise error_cls(
                f"the local FerretDB for environment {env!r} exited with code {proc.returncode} while "
                f"starting; log {log}:\n{tail}"
            )
        if _ping(port, timeout=0.5):
            return info
        time.sleep(0.1)
    _stop_pid(proc.pid)
    _state_file(project, env).unlink(missing_ok=True)
    raise LocalServerError(
        f"the local FerretDB for environment {env!r} did not answer ping within {timeout:.0f} s; "
        f"log {log}:\n{log_tail(project, env)}"
    )


def _stop_pid(pid: int) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 5.0)):
        if not _alive(pid):
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.05)
    raise LocalServerError(f"process {pid} did not exit after SIGTERM and SIGKILL")
