"""CLI error lines: one unbroken line whatever the terminal width, brackets printed as text."""

from __future__ import annotations

import pytest
import typer

from kx_lake.cli.common import fail


def test_long_error_is_one_line_and_not_markup(capsys: pytest.CaptureFixture[str]) -> None:
    path = "/very/long/" + "nested/" * 30 + "environments.yaml"
    with pytest.raises(typer.Exit) as exc:
        fail(f"environment 'env3' is inactive in {path}; active environments: env1, env2 [see docs]", 2)
    assert exc.value.exit_code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert path in err and "env1, env2 [see docs]" in err
