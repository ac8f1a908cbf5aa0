"""Find a Java home Spark 3.5 runs on (17 or 21), and say which versions were found when none fits.

Spark 3.5.4 with its Hadoop 3.3 client supports Java 8/11/17/21 only; on a newer Java (the machine's
Temurin 25 for Trino, say) the session dies at start-up with an unreadable JVM error. Spark's
launcher takes `JAVA_HOME` when set, else `java` on PATH, so the engine sets `JAVA_HOME` to a home
found here before it starts a JVM (never at import).

Candidates, first fit wins:
  1. `KX_LAKE_SPARK_JAVA` (a Java home, or a `java` executable): configured explicitly, nothing else
     is tried;
  2. `$JAVA_HOME`;
  3. `java` on PATH (its home, symlinks resolved);
  4. every JDK/JRE under /usr/lib/jvm (where Debian's openjdk-17-jre-headless lands).
A home's major version is read from its `release` file (JAVA_VERSION="17.0.15"); a home without
one is asked `bin/java -version`.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from kx_lake.lib.trino.java import java_major

SUPPORTED = (17, 21)
JVM_DIR = Path("/usr/lib/jvm")
_RELEASE_VERSION = re.compile(r'^JAVA_VERSION="(?:1\.)?(\d+)', re.MULTILINE)


class SparkJavaNotFound(RuntimeError):
    """No Java 17 or 21; the message lists every place looked at and the version found there."""


@dataclass(frozen=True)
class SparkJava:
    home: Path
    major: int
    source: str  # where it was found, for messages


def _home(path: Path) -> Path:
    """A Java home from a home or a `.../bin/java` executable (symlinks resolved, as on Debian)."""
    if path.is_file():
        return path.resolve().parent.parent
    return path  # a home, or a path that does not exist (reported as such, not as its grandparent)


def _candidates(environ: Mapping[str, str], jvm_dir: Path) -> Iterator[tuple[str, Path | None]]:
    if environ.get("KX_LAKE_SPARK_JAVA"):
        yield "KX_LAKE_SPARK_JAVA", _home(Path(environ["KX_LAKE_SPARK_JAVA"]).expanduser())
        return
    if environ.get("JAVA_HOME"):
        yield "JAVA_HOME", Path(environ["JAVA_HOME"]).expanduser()
    on_path = shutil.which("java", path=environ.get("PATH"))
    yield "PATH", _home(Path(on_path)) if on_path else None
    if jvm_dir.is_dir():
        for home in sorted(jvm_dir.iterdir()):
            if home.is_dir() and not home.is_symlink():  # Debian's aliases repeat the real homes
                yield str(home), home


def home_major(home: Path) -> int | None:
    """The home's Java major version: its `release` file, else what `bin/java -version` says."""
    release = home / "release"
    if release.is_file():
        match = _RELEASE_VERSION.search(release.read_text(errors="replace"))
        if match:
            return int(match.group(1))
    java = home / "bin" / "java"
    return java_major(java) if java.is_file() else None


def find_spark_java(environ: Mapping[str, str] | None = None, *, jvm_dir: Path = JVM_DIR) -> SparkJava:
    env = os.environ if environ is None else environ
    looked: list[str] = []
    for source, home in _candidates(env, jvm_dir):
        if home is None or not home.is_dir():
            looked.append(f"{source}: {'no java' if home is None else f'no directory {home}'}")
            continue
        major = home_major(home)
        if major in SUPPORTED:
            return SparkJava(home, major, source)
        looked.append(f"{source}: {home} is Java {major if major is not None else '?'}")
    raise SparkJavaNotFound(
        "Spark 3.5 needs Java 17 or 21 and none was found; looked at: " + "; ".join(looked)
        + ". Run `make setup` (installs openjdk-17-jre-headless), or set KX_LAKE_SPARK_JAVA to a "
        "Java 17 or 21 home"
    )


def spark_java_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The JAVA_HOME setting a Spark JVM (session or spark-submit) should start with."""
    return {"JAVA_HOME": str(find_spark_java(environ).home)}


def use_spark_java() -> SparkJava:
    """Point this process's JAVA_HOME at a Java 17/21 before an in-process Spark JVM starts."""
    found = find_spark_java()
    os.environ["JAVA_HOME"] = str(found.home)
    return found
