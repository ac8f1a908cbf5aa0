"""The dashboard site as a background process, so `make demo` can end with a URL that answers.

`start` runs `kx-lake dashboards serve` detached (own session, output to a log under the kx-lake
home), records `{pid, url, port}` in `<home>/run/dashboards-<env>.json`, and waits until `/healthz`
answers — or fails with the log's tail. `stop` ends it. A second `start` for a running site returns
the running one. The pid file is only trusted while that process is alive and still ours (started
with this configuration). Spawning, waiting and stopping are lib/process_lifecycle.py's, as for the
local FerretDB and Trino.
"""

from __future__ import annotations

import os
import ssl
import sys
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from kx_lake.lib import process_lifecycle as proc_life
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.dashboards.site.binding import local_url


class SiteProcessError(RuntimeError):
    """The site did not start or stop; the message names the environment and the log."""


@dataclass(frozen=True)
class SiteProcess:
    env: str
    pid: int
    url: str
    log: str


def run_dir(project: ProjectConfig) -> Path:
    return project.settings.state_dir("run")


def _state_file(project: ProjectConfig, env: str) -> Path:
    return run_dir(project) / f"dashboards-{env}.json"


def _ours(project: ProjectConfig, pid: int) -> bool:
    """Alive and started with this configuration (`--config-dir` is an argument of the serve command)."""
    return proc_life.started_for(pid, project.settings.config_dir)


def _healthy(url: str, timeout: float = 2.0) -> bool:
    # only "is our child up": a self-signed or other-named certificate is expected here, so not verified
    context = None
    if url.startswith("https:"):
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=timeout, context=context) as resp:
            return resp.status == 200
    except OSError:
        return False


def running(project: ProjectConfig, env: str) -> SiteProcess | None:
    path = _state_file(project, env)
    try:
        site = SiteProcess(**(proc_life.read_state(path) or {}))
    except TypeError:
        return None
    if _ours(project, site.pid):
        return site
    path.unlink(missing_ok=True)
    return None


def start(project: ProjectConfig, env: str, *, host: str, port: int, timeout: float = 60.0,
          ssl_certfile: Path | None = None, ssl_keyfile: Path | None = None, insecure: bool = False) -> SiteProcess:
    current = running(project, env)
    if current is not None:
        return current
    base = local_url(host, port, tls=ssl_certfile is not None)
    log = run_dir(project) / f"dashboards-{env}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-c", "from kx_lake.cli import main; main()",
            "--config-dir", str(project.settings.config_dir),
            "dashboards", "serve", "--env", env, "--host", host, "--port", str(port)]
    if ssl_certfile is not None and ssl_keyfile is not None:
        argv += ["--ssl-certfile", str(ssl_certfile.resolve()), "--ssl-keyfile", str(ssl_keyfile.resolve())]
    if insecure:
        argv.append("--insecure")
    settings = project.settings  # the child must see the same home and lake as this process
    child_env = {**os.environ, "KX_LAKE_CONFIG_DIR": str(settings.config_dir), "KX_LAKE_HOME": str(settings.home)}
    if settings.lake_root_override:
        child_env["KX_LAKE_ROOT"] = settings.lake_root_override
    proc, _ = proc_life.spawn(argv, log, env=child_env)
    site = SiteProcess(env, proc.pid, base, str(log))
    outcome = proc_life.wait_ready(proc, lambda: _healthy(base), timeout=timeout, interval=0.3)
    if outcome is proc_life.Startup.READY:
        proc_life.write_state(_state_file(project, env), asdict(site))
        return site
    if outcome is proc_life.Startup.EXITED:
        raise SiteProcessError(f"{env}: the dashboard site exited with code {proc.returncode}; "
                               f"see {log}:\n{proc_life.log_tail(log)}")
    proc.terminate()
    raise SiteProcessError(f"{env}: the dashboard site did not answer on {base} within {timeout:g} s; see {log}")


def stop(project: ProjectConfig, env: str, timeout: float = 10.0) -> bool:
    site = running(project, env)
    if site is None:
        return False
    proc_life.stop_pid(site.pid, term_timeout=timeout, error=lambda msg: SiteProcessError(f"{env}: dashboard site {msg}"))
    _state_file(project, env).unlink(missing_ok=True)
    return True
