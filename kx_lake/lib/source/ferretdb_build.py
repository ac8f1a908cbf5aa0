"""Build the embedded FerretDB server (ferretdb_go/) once per source version, and reuse it.

The binary is named after a hash of the Go sources and the build recipe, so editing main.go, go.mod or
go.sum (or the flags below) yields a new name and a rebuild, while an unchanged checkout never rebuilds.
Builds go to a temporary name and are renamed into place, under a file lock, so a crash or two
concurrent callers never leave a half-written binary; builds of older sources are then removed.
The flags make the build reproducible (byte-identical for a given Go release, whatever the path or caches)
and machine-independent: pure Go (CGO off; SQLite is modernc.org/sqlite), no paths, VCS stamps or
build ids embedded, and modules fetched from the proxy as pinned by the committed go.sum.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from kx_lake.lib.config import Settings

GO_SOURCE_DIR = Path(__file__).resolve().parent / "ferretdb_go"
GO_FALLBACK_PATHS = (Path("/usr/local/go/bin/go"),)
BUILD_FLAGS = ("-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=")
BUILD_ENV = {"CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly", "GOWORK": "off"}
BUILD_TIMEOUT_S = 1800  # a first build downloads ~60 modules
_OUTPUT_TAIL_LINES = 30


class BuildError(RuntimeError):
    """Go is missing or `go build` failed; the message says what to do."""


def source_digest(source_dir: Path = GO_SOURCE_DIR) -> str:
    """Short sha256 of the Go sources and the build recipe."""
    h = hashlib.sha256()
    h.update(repr((BUILD_FLAGS, sorted(BUILD_ENV.items()))).encode())
    files = sorted([*source_dir.glob("*.go"), source_dir / "go.mod", source_dir / "go.sum"])
    for file in files:
        h.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def binary_path(settings: Settings) -> Path:
    """Where the binary for the current sources lives (whether or not it is built yet)."""
    return settings.state_dir("bin") / f"ferretdb-{source_digest()}"


def find_go(environ: Mapping[str, str] | None = None) -> Path:
    """The `go` executable: on PATH, else a standard install location."""
    env = os.environ if environ is None else environ
    found = shutil.which("go", path=env.get("PATH", ""))
    if found:
        return Path(found)
    for candidate in GO_FALLBACK_PATHS:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise BuildError(
        "the Go toolchain is needed to build the local FerretDB source but `go` was not found on PATH "
        f"nor at {', '.join(map(str, GO_FALLBACK_PATHS))}; install Go 1.24 or newer (https://go.dev/dl/)"
    )


def ensure_binary(settings: Settings, force: bool = False) -> Path:
    """The FerretDB server binary for the current sources, building it first if missing (or if forced)."""
    target = binary_path(settings)
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent builder finishes first; then we reuse its result
        if target.is_file() and not force:
            return target
        _build(target)
        _prune_old_builds(target)
    return target


def _prune_old_builds(keep: Path) -> None:
    """Remove binaries of earlier source versions (25 MB each); running servers keep their inode."""
    for old in keep.parent.glob("ferretdb-*"):
        if old != keep:
            old.unlink(missing_ok=True)


def _build(target: Path) -> None:
    go = find_go()
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    cmd = [str(go), "build", *BUILD_FLAGS, "-o", str(tmp), "."]
    try:
        proc = subprocess.run(
            cmd,
            cwd=GO_SOURCE_DIR,
            env={**os.environ, **BUILD_ENV},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
        )
        if proc.returncode != 0 or not tmp.is_file():
            tail = "\n".join(proc.stdout.strip().splitlines()[-_OUTPUT_TAIL_LINES:])
            raise BuildError(
                f"building the local FerretDB source failed (exit code {proc.returncode}) in {GO_SOURCE_DIR}:\n"
                f"  {' '.join(cmd)}\n{tail}"
            )
        tmp.chmod(0o755)
        os.replace(tmp, target)
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"building the local FerretDB source took longer than {BUILD_TIMEOUT_S} s") from exc
    finally:
        tmp.unlink(missing_ok=True)
