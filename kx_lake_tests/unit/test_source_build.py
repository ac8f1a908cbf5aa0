"""ensure_binary's cache, atomic placement and error messages, with a fake `go` (no real build)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kx_lake.lib.config import Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.source import ferretdb_build
from kx_lake.lib.source.ferretdb_build import BuildError, binary_path, ensure_binary, source_digest

FAKE_GO = """#!/bin/sh
echo "$@" >> "{calls}"
{body}
"""
WRITE_OUTPUT = """while [ $# -gt 0 ]; do
  if [ "$1" = "-o" ]; then shift; printf 'fake server' > "$1"; fi
  shift
done
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.resolve(DEFAULT_CONFIG_DIR, environ={"KX_LAKE_HOME": str(tmp_path / "home")})


def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    calls = tmp_path / "go-calls.txt"
    go = bin_dir / "go"
    go.write_text(FAKE_GO.format(calls=calls, body=body))
    go.chmod(go.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    monkeypatch.setattr(ferretdb_build, "GO_FALLBACK_PATHS", ())
    return calls


def test_builds_once_then_reuses(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_go(tmp_path, monkeypatch, WRITE_OUTPUT)
    first = ensure_binary(settings)
    assert first == binary_path(settings) == settings.home / "bin" / f"ferretdb-{source_digest()}"
    assert first.read_text() == "fake server" and os.access(first, os.X_OK)
    assert ensure_binary(settings) == first
    lines = calls.read_text().splitlines()
    assert len(lines) == 1
    assert "-trimpath" in lines[0] and "-buildvcs=false" in lines[0]
    assert [p.name for p in first.parent.iterdir() if p.name.startswith(".ferretdb")] == []  # no temp left


def test_force_rebuilds_and_prunes_old_versions(settings: Settings, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_go(tmp_path, monkeypatch, WRITE_OUTPUT)
    old = settings.home / "bin" / "ferretdb-000000000000"
    old.parent.mkdir(parents=True)
    old.write_text("old")
    ensure_binary(settings)
    ensure_binary(settings, force=True)
    assert len(calls.read_text().splitlines()) == 2
    assert sorted(p.name for p in old.parent.glob("ferretdb-*")) == [binary_path(settings).name]


def test_build_failure_reports_go_output_tail(settings: Settings, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    fake_go(tmp_path, monkeypatch, 'for i in $(seq 1 100); do echo "line $i"; done; echo "main.go:1: boom"; exit 1')
    with pytest.raises(BuildError) as exc:
        ensure_binary(settings)
    message = str(exc.value)
    assert "exit code 1" in message and "main.go:1: boom" in message and "line 99" in message
    assert "line 5\n" not in message  # only the tail
    assert not binary_path(settings).exists()
    assert list((settings.home / "bin").glob(".ferretdb-*")) == []


def test_missing_go_is_a_clear_error(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(ferretdb_build, "GO_FALLBACK_PATHS", (tmp_path / "nope" / "go",))
    with pytest.raises(BuildError, match=r"`go` was not found on PATH.*install Go"):
        ensure_binary(settings)


def test_digest_follows_the_sources(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("main.go", "go.mod", "go.sum"):
        (src / name).write_text(name)
    before = source_digest(src)
    assert source_digest(src) == before and len(before) == 12
    (src / "main.go").write_text("package main // changed")
    assert source_digest(src) != before
