"""The Spark Java finder on fake Java homes (real directories: `release` files, `bin/java` scripts):
it takes a 17 or 21, skips a 25 (Trino's) or an 11, honours KX_LAKE_SPARK_JAVA strictly, and names
every version it found when none fits."""

from __future__ import annotations

from pathlib import Path

import pytest

from kx_lake.lib.spark.java import SparkJavaNotFound, find_spark_java, home_major


def _home(parent: Path, name: str, version: str | None = None, *, script_version: str | None = None) -> Path:
    home = parent / name
    (home / "bin").mkdir(parents=True)
    if version is not None:
        (home / "release").write_text(f'IMPLEMENTOR="test"\nJAVA_VERSION="{version}"\n')
    java = home / "bin" / "java"
    said = script_version or version or "0"
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{said}\" 2025-01-01' >&2\n")
    java.chmod(0o755)
    return home


@pytest.fixture
def jvm(tmp_path: Path) -> Path:
    (tmp_path / "jvm").mkdir()
    (tmp_path / "empty").mkdir()
    return tmp_path / "jvm"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PATH": str(tmp_path / "empty"), **extra}


def test_skips_java_25_in_java_home_for_a_17_under_the_jvm_dir(tmp_path: Path, jvm: Path) -> None:
    temurin = _home(jvm, "temurin-25-jdk-amd64", "25.0.3")
    openjdk = _home(jvm, "java-17-openjdk-amd64", "17.0.15")
    found = find_spark_java(_env(tmp_path, JAVA_HOME=str(temurin)), jvm_dir=jvm)
    assert (found.home, found.major, found.source) == (openjdk, 17, str(openjdk))


def test_java_on_path_gives_its_home_and_a_version_from_bin_java_without_release(tmp_path: Path, jvm: Path) -> None:
    home = _home(tmp_path, "jdk21", script_version="21.0.2")
    assert home_major(home) == 21
    found = find_spark_java({"PATH": str(home / "bin")}, jvm_dir=jvm)
    assert (found.home, found.major, found.source) == (home, 21, "PATH")


def test_release_file_of_java_8_style_reads_as_8(tmp_path: Path) -> None:
    assert home_major(_home(tmp_path, "jdk8", "1.8.0_402")) == 8


def test_configured_java_is_the_only_one_tried(tmp_path: Path, jvm: Path) -> None:
    _home(jvm, "java-17-openjdk-amd64", "17.0.15")
    temurin = _home(tmp_path, "temurin25", "25.0.3")
    with pytest.raises(SparkJavaNotFound) as err:
        find_spark_java(_env(tmp_path, KX_LAKE_SPARK_JAVA=str(temurin / "bin" / "java")), jvm_dir=jvm)
    assert f"KX_LAKE_SPARK_JAVA: {temurin} is Java 25" in str(err.value)
    found = find_spark_java(_env(tmp_path, KX_LAKE_SPARK_JAVA=str(jvm / "java-17-openjdk-amd64")), jvm_dir=jvm)
    assert found.major == 17 and found.source == "KX_LAKE_SPARK_JAVA"


def test_none_fits_names_every_version_found(tmp_path: Path, jvm: Path) -> None:
    _home(jvm, "java-11-openjdk-amd64", "11.0.22")
    _home(jvm, "temurin-25-jdk-amd64", "25.0.3")
    with pytest.raises(SparkJavaNotFound) as err:
        find_spark_java(_env(tmp_path, JAVA_HOME=str(tmp_path / "gone")), jvm_dir=jvm)
    message = str(err.value)
    assert "needs Java 17 or 21" in message
    assert "is Java 11" in message and "is Java 25" in message
    assert f"JAVA_HOME: no directory {tmp_path / 'gone'}" in message
    assert "PATH: no java" in message


def test_a_configured_path_that_does_not_exist_is_named_as_such(tmp_path: Path, jvm: Path) -> None:
    missing = tmp_path / "nowhere" / "no-java"  # not its grandparent, which exists
    with pytest.raises(SparkJavaNotFound) as err:
        find_spark_java(_env(tmp_path, KX_LAKE_SPARK_JAVA=str(missing)), jvm_dir=jvm)
    assert f"KX_LAKE_SPARK_JAVA: no directory {missing}" in str(err.value)
