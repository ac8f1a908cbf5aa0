"""Run one local FerretDB (SQLite backend) per environment, so env1 and env2 data never mix.

Everything about an environment's server lives under `<home>/source/<env>/`: `data/` (SQLite files),
`ferretdb.log` and `server.json` (pid, port, started_at, binary; written atomically). The state file is
the only registry: a server is "running" when its pid is alive, is our binary serving that data dir,
and answers `ping`. Anything else is stale and is cleaned up, so a reboot or a `kill -9` never wedges
`up`. Servers start in their own session, so they outlive the CLI that started them; a per-env file
lock serialises concurrent `up`/`down` calls.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pymongo
from pymongo.errors import PyMongoError

from kx_lake.lib import process_lifecycle as proc_life
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.source.ferretdb_build import ensure_binary

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
LOG_LEVEL = "warn"
_PORT_ATTEMPTS = 3


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
    with proc_life.locked(env_dir(project, env)):
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
    with proc_life.locked(env_dir(project, env)):
        current = _current(project, env)
        if current is None:
            return False
        _stop_pid(current.pid)
        _state_file(project, env).unlink(missing_ok=True)
        return True


def running(project: ProjectConfig, env: str) -> ServerInfo | None:
    """The environment's live server, or None (stale state is removed)."""
    with proc_life.locked(env_dir(project, env)):
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


def log_tail(project: ProjectConfig, env: str, max_bytes: int = proc_life.LOG_TAIL_BYTES) -> str:
    return proc_life.log_tail(log_file(project, env), max_bytes)


# --- internals -------------------------------------------------------------------------------------


class _PortTaken(LocalServerError):
    pass


def _current(project: ProjectConfig, env: str) -> ServerInfo | None:
    """The recorded server if its process is alive and serves this data dir; otherwise drop the stale state."""
    raw = proc_life.read_state(_state_file(project, env))
    try:
        info = ServerInfo(env=env, pid=int(raw["pid"]), port=int(raw["port"]), started_at=str(raw["started_at"]),
                          binary=str(raw["binary"])) if raw else None
    except (ValueError, KeyError, TypeError):
        info = None  # unreadable state is stale state
    if info is not None and proc_life.started_for(info.pid, data_dir(project, env)):
        return info
    _state_file(project, env).unlink(missing_ok=True)
    return None


def _free_port() -> int:  # a seam: a test hands out a taken port to prove the retry
    return proc_life.free_port()


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
    log = log_file(project, env)
    proc, started_at = proc_life.spawn(cmd, log)
    info = ServerInfo(env=env, pid=proc.pid, port=port, started_at=started_at, binary=str(exe))
    proc_life.write_state(_state_file(project, env), asdict(info))

    outcome = proc_life.wait_ready(proc, lambda: _ping(port, timeout=0.5), timeout=timeout, interval=0.1)
    if outcome is proc_life.Startup.READY:
        return info
    if outcome is proc_life.Startup.EXITED:
        _state_file(project, env).unlink(missing_ok=True)
        tail = log_tail(project, env)
        error_cls = _PortTaken if "address already in use" in tail.lower() else LocalServerError
        raise error_cls(
            f"the local FerretDB for environment {env!r} exited with code {proc.returncode} while "
            f"starting; log {log}:\n{tail}"
        )
    _stop_pid(proc.pid)
    _state_file(project, env).unlink(missing_ok=True)
    raise LocalServerError(
        f"the local FerretDB for environment {env!r} did not answer ping within {timeout:.0f} s; "
        f"log {log}:\n{log_tail(project, env)}"
    )


def _stop_pid(pid: int) -> None:
    proc_life.stop_pid(pid, term_timeout=STOP_TIMEOUT_S, error=LocalServerError)
