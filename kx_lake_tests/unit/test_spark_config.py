"""The Spark engine's settings in environments.yaml: defaults, validation naming file and field, the
session's configuration, the run tag's override, and the date ranges the tasks read."""

from __future__ import annotations

import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml

from kx_lake.builders.spark_resource import ENGINE_TAG, engine_for
from kx_lake.lib.config import ConfigErrors, ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.spark.session import session_config
from kx_lake.lib.spark.units import split_dates


def _with_env1(tmp_path: Path, **extra) -> Path:
    cfg = tmp_path / "cfg"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg)
    raw = yaml.safe_load((cfg / "environments.yaml").read_text())
    raw["environments"]["env1"].update(extra)
    (cfg / "environments.yaml").write_text(yaml.safe_dump(raw))
    return cfg


def _load(cfg: Path) -> ProjectConfig:
    return ProjectConfig.load(Settings.resolve(cfg, environ={}))


def test_engine_defaults_to_local_with_a_local_two_core_spark() -> None:
    env = _load(DEFAULT_CONFIG_DIR).environment("env1")
    assert env.engine == "local"
    assert env.spark.master == "local[2]" and env.spark.ranges_per_collection >= 1


def test_the_commented_spark_example_in_environments_yaml_loads_when_uncommented(tmp_path: Path) -> None:
    lines = (DEFAULT_CONFIG_DIR / "environments.yaml").read_text().splitlines()
    start = lines.index("    # engine: spark                 # local (the default: this process) or spark")
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("    #"))
    uncommented = ["    " + line[len("    # "):] for line in lines[start:end]]
    cfg = tmp_path / "cfg"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg)
    (cfg / "environments.yaml").write_text("\n".join([*lines[:start], *uncommented, *lines[end:]]) + "\n")
    env = _load(cfg).environment("env1")
    assert env.engine == "spark" and env.spark.master == "local[2]" and env.spark.launcher == "session"
    assert session_config(env)["spark.driver.memory"] == "2g"


def test_spark_settings_are_read_and_become_the_sessions_configuration(tmp_path: Path) -> None:
    cfg = _with_env1(tmp_path, engine="spark", spark={"master": "local[1]", "conf": {"spark.driver.memory": "2g",
                                                                                      "spark.sql.ansi.enabled": True}})
    env = _load(cfg).environment("env1")
    conf = session_config(env)
    assert env.engine == "spark"
    assert conf["spark.master"] == "local[1]" and conf["spark.driver.memory"] == "2g"  # the environment's wins
    assert conf["spark.sql.ansi.enabled"] == "true" and conf["spark.pyspark.python"] == sys.executable


@pytest.mark.parametrize(("extra", "field"), [
    ({"engine": "flink"}, "environments.env1.engine"),
    ({"spark": {"conf": {"executor.memory": "1g"}}}, "environments.env1.spark.conf"),
    ({"spark": {"conf": {"spark.master": "yarn"}}}, "environments.env1.spark.conf"),
    ({"spark": {"ranges_per_collection": 0}}, "environments.env1.spark.ranges_per_collection"),
    ({"spark": {"masterr": "local[2]"}}, "environments.env1.spark.masterr"),
])
def test_bad_spark_settings_are_refused_naming_file_and_field(tmp_path: Path, extra: dict, field: str) -> None:
    with pytest.raises(ConfigErrors) as info:
        _load(_with_env1(tmp_path, **extra))
    text = str(info.value)
    assert "environments.yaml" in text and field in text, text


def test_the_run_tag_overrides_the_environments_engine(tmp_path: Path) -> None:
    project = _load(_with_env1(tmp_path, engine="spark"))
    assert engine_for(project, "env1", {}) == "spark"
    assert engine_for(project, "env1", {ENGINE_TAG: "local"}) == "local"
    assert engine_for(project, "env2", {ENGINE_TAG: "spark"}) == "spark"
    with pytest.raises(dg.Failure, match="expected 'local' or 'spark'"):
        engine_for(project, "env1", {ENGINE_TAG: "dask"})


def test_dates_split_into_contiguous_near_equal_ranges() -> None:
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(10)]
    parts = split_dates(days, 3)
    assert [len(p) for p in parts] == [4, 3, 3]
    assert [d for p in parts for d in p] == days
    assert split_dates(days[:2], 5) == [[days[0]], [days[1]]]
    assert split_dates([], 2) == []
    with pytest.raises(ValueError):
        split_dates(days, 0)
