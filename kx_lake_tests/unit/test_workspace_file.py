"""workspace.yaml (part of the fixed top level) points at the code location `dg dev` serves."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_workspace_points_at_the_code_location_dg_serves() -> None:
    [entry] = yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"]
    module = entry["python_module"]
    dg_project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["dg"]["project"]
    assert module["location_name"] == dg_project["code_location_name"]
    assert module["module_name"].split(".")[0] == dg_project["root_module"]
    assert callable(importlib.import_module(module["module_name"]).defs)
