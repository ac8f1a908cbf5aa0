"""Install Trino from Maven Central into a cache shared by every checkout, once.

Why it is shaped this way:

* Trino's server is a 821 MB tarball on Maven Central (`io.trino:trino-server:<version>:tar.gz`).
  Maven's own client fetches it (`mvn dependency:copy`), so mirrors, proxies and the local Maven
  repository (~/.m2) behave as for any other Maven download; no hand-written HTTP.
* The cache lives outside the work tree (`$KX_LAKE_TRINO_CACHE`, else `$XDG_CACHE_HOME/kx-lake/trino`,
  else `~/.cache/kx-lake/trino`), so every checkout, test session and CI step reuses one copy.
* Installing is idempotent and atomic: the tarball is extracted WHOLE (its plugins are hard links to
  each other) into a temporary directory that is renamed into place only when complete, with a
  marker file; an interrupted install leaves nothing that looks installed. A file lock serialises
  concurrent installers (two test sessions, set-up and a CLI call).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

TRINO_VERSION = "476"  # Maven Central serves this one here; newer releases are refused by the mirror
MAVEN_GROUP = "io.trino"
MARKER = ".kx-lake-installed"


class TrinoInstallError(RuntimeError):
    """Trino could not be downloaded or unpacked; the message says what was run and what failed."""


@dataclass(frozen=True)
class TrinoInstall:
    """An unpacked trino-server: `home` holds lib/ and plugin/."""

    version: str
    home: Path

    @property
    def lib_dir(self) -> Path:
        return self.home / "lib"

    @property
    def plugin_dir(self) -> Path:
        return self.home / "plugin"


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("KX_LAKE_TRINO_CACHE"):
        return Path(env["KX_LAKE_TRINO_CACHE"]).expanduser().resolve()
    base = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return (base / "kx-lake" / "trino").resolve()


def installed(version: str = TRINO_VERSION, cache: Path | None = None) -> TrinoInstall | None:
    home = (cache or cache_dir()) / f"trino-server-{version}"
    return TrinoInstall(version, home) if (home / MARKER).is_file() else None


def ensure_installed(version: str = TRINO_VERSION, cache: Path | None = None, *, mvn: str = "mvn",
                     log=print) -> TrinoInstall:
    """The cached install of `version`, downloading and unpacking it first when missing."""
    cache = cache or cache_dir()
    found = installed(version, cache)
    if found:
        return found
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = installed(version, cache)
        if found:
            return found
        with tempfile.TemporaryDirectory(prefix=f".trino-{version}-", dir=cache) as tmp:
            tarball = _download(version, Path(tmp), mvn, log)
            staging = Path(tmp) / "unpacked"
            log(f"[trino] unpacking {tarball.name} into {cache}")
            try:
                with tarfile.open(tarball) as tar:
                    tar.extractall(staging, filter="tar")
            except (tarfile.TarError, OSError) as exc:
                raise TrinoInstallError(f"unpacking {tarball}: {exc}") from exc
            tarball.unlink()
            top = staging / f"trino-server-{version}"
            if not (top / "lib").is_dir() or not (top / "plugin").is_dir():
                raise TrinoInstallError(f"{tarball.name}: no trino-server-{version}/lib and plugin/ inside")
            (top / MARKER).write_text(f"{MAVEN_GROUP}:trino-server:{version}:tar.gz\n")
            home = cache / f"trino-server-{version}"
            if home.exists():  # a leftover without marker from an older, interrupted layout
                shutil.rmtree(home)
            os.replace(top, home)
    return TrinoInstall(version, home)


def _download(version: str, into: Path, mvn: str, log) -> Path:
    if shutil.which(mvn) is None:
        raise TrinoInstallError(f"Maven ({mvn!r}) is not on PATH; it fetches {MAVEN_GROUP}:trino-server:{version} "
                                "from Maven Central (Debian: apt-get install maven)")
    artifact = f"{MAVEN_GROUP}:trino-server:{version}:tar.gz"
    cmd = [mvn, "-B", "-q", "dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={into}",
           "-Dmdep.overWriteReleases=true"]
    log(f"[trino] fetching {artifact} from Maven Central (~820 MB, once)")
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    tarball = into / f"trino-server-{version}.tar.gz"
    if done.returncode != 0 or not tarball.is_file():
        tail = (done.stdout + done.stderr).strip()[-2000:]
        raise TrinoInstallError(f"`{' '.join(cmd)}` failed (exit {done.returncode}):\n{tail}")
    return tarball
