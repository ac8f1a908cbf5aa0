"""The generated Dagster instance queues at most one sync run per environment, and every sync run the
project launches (schedule, sensor, CLI) carries the environment tag that limit counts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg

from kx_lake.builders.dagster_home import ensure_dagster_home
from kx_lake.builders.partitions import ENV_TAG, range_tags
from kx_lake.builders.schedules import scheduled_requests
from kx_lake.builders.sensors import new_data_requests
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.ops.config import OperationsConfig
from kx_lake.lib.ops.newdata import NewData


def test_the_instance_queue_allows_one_run_per_environment_tag_value(tmp_path) -> None:
    home = ensure_dagster_home(tmp_path / "dagster")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    per_env = {"value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    assert {"key": ENV_TAG, **per_env} in limits
    assert {"key": "dagster/partition/env", **per_env} in limits  # a UI launch of one partition


def test_schedule_sensor_and_cli_runs_carry_the_environment_tag(tmp_path) -> None:
    cfg = ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ={"KX_LAKE_ROOT": str(tmp_path)}))
    scheduled = scheduled_requests(cfg, OperationsConfig(), datetime(2026, 3, 10, 19, 0, tzinfo=UTC))
    assert [r.tags[ENV_TAG] for r in scheduled] == ["env1", "env2"]
    new = NewData("env2", "hims_billing", "bills", 3, 1_773_000_000_000, (date(2026, 3, 9), date(2026, 3, 10)))
    [sensed] = new_data_requests(cfg, [(new, cfg.collection("bills"))], lookback_days=1,
                                 now=datetime(2026, 3, 10, 19, 0, tzinfo=UTC))
    assert sensed.tags[ENV_TAG] == "env2"
    assert range_tags("env1", date(2026, 3, 9), date(2026, 3, 10))[ENV_TAG] == "env1"  # the CLI's runs
