"""env × date partitions: the key and tag helper, and environments in different timezones.

env3 runs in Asia/Dubai (UTC+4) beside env1/env2 in IST (UTC+5:30). A key's date is read in its own
environment's timezone; at 19:00Z it is already tomorrow in IST (00:30) but still today in Dubai (23:00).
"""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from kx_lake.builders.partitions import (
    ENV_TAG,
    EnvDate,
    date_dimension,
    env_date_partitions,
    env_tags,
    parse_key,
    partition_key,
    partition_scope,
    range_tags,
    run_env,
    zone_groups,
)
from kx_lake.builders.checks import run_envs, run_scope
from kx_lake.builders.reconcile_job import RECONCILE_SCHEDULE
from kx_lake.builders.schedules import SYNC_SCHEDULE, scheduled_requests
from kx_lake.builders.sensors import new_data_requests
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.lake.pipeline import storage_for
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.ops.catalog_checks import Scope
from kx_lake.lib.ops.config import OperationsConfig
from kx_lake.lib.ops.newdata import NewData
from kx_lake_tests.fixtures.mixed_zones import ENV3_ZONE, mixed_zone_config

NOW = datetime(2026, 3, 10, 19, 0, tzinfo=UTC)  # 00:30 on 03-11 in IST, 23:00 on 03-10 in Dubai


@pytest.fixture
def mixed(tmp_path: Path) -> ProjectConfig:
    cfg = mixed_zone_config(tmp_path / "cfg")
    return ProjectConfig.load(Settings.resolve(cfg, environ={"KX_LAKE_ROOT": str(tmp_path / "lake")}))


def test_keys_and_tags_round_trip() -> None:
    key = partition_key("env3", date(2026, 1, 2))
    assert str(key) == "2026-01-02|env3" == EnvDate("env3", date(2026, 1, 2)).key
    assert parse_key(key) == parse_key("2026-01-02|env3") == EnvDate("env3", date(2026, 1, 2))
    assert partition_scope(["2026-01-03|env1", key, "2026-01-01|env1"]) == {
        "env1": [date(2026, 1, 1), date(2026, 1, 3)], "env3": [date(2026, 1, 2)]}
    for bad in ("env1", "2026-01-02|env1|x", "env1|2026-01-02", "2026-02-30|env1"):
        with pytest.raises(ValueError, match="not an env × date partition key"):
            parse_key(bad)
    tags = range_tags("env3", date(2026, 1, 1), date(2026, 1, 5))
    assert tags == {"dagster/asset_partition_range_start": "2026-01-01|env3",
                    "dagster/asset_partition_range_end": "2026-01-05|env3", ENV_TAG: "env3"}


def test_checks_scope_a_run_by_its_partition_tags(mixed: ProjectConfig) -> None:
    first = mixed.partitions_start + timedelta(days=10)
    last = first + timedelta(days=2)
    assert run_scope(range_tags("env3", first, last), mixed) == Scope(first, last)
    assert run_scope({"dagster/partition": str(partition_key("env1", first))}, mixed) == Scope(first, first)
    assert run_scope(range_tags("env1", mixed.partitions_start, last), mixed) is None  # a full load: everything
    assert run_scope(env_tags("env1", "cli"), mixed) is None  # a check-only run
    assert [e.name for e in run_envs(range_tags("env3", first, last), mixed)] == ["env3"]
    assert [e.name for e in run_envs(env_tags("env2", "cli"), mixed)] == ["env2"]
    assert run_envs({}, mixed) == list(mixed.active_environments)


def test_run_env_reads_every_kind_of_run() -> None:
    assert run_env(range_tags("env2", date(2026, 1, 1), date(2026, 1, 2))) == "env2"
    assert run_env({"dagster/partition": "2026-01-02|env3"}) == "env3"
    assert run_env({"dagster/partition/env": "env1"}) == "env1"
    assert run_env(env_tags("env2", "cli")) == "env2"
    assert run_env({"kx_lake/source": "cli"}) is None


def test_one_timezone_keeps_its_daily_dimension(repo_project: ProjectConfig) -> None:
    dim = date_dimension(repo_project.active_environments, repo_project.partitions_start)
    assert (dim.timezone, dim.end_offset) == ("Asia/Kolkata", 1)
    assert dim.get_partition_keys(current_time=NOW)[-1] == "2026-03-11"  # today in IST (the day in progress)
    assert [g.name(SYNC_SCHEDULE) for g in zone_groups(repo_project)] == [SYNC_SCHEDULE]


def test_mixed_zones_date_keys_reach_every_environments_today(mixed: ProjectConfig) -> None:
    """Every half hour over two days: the last date key is each env's local today or at most one later."""
    pdef = env_date_partitions(mixed)
    date_dim = pdef.get_partitions_def_for_dimension("date")
    assert pdef.get_partitions_def_for_dimension("env").get_partition_keys() == ["env1", "env2", "env3"]
    for step in range(96):
        now = NOW + timedelta(minutes=30 * step)
        last = date.fromisoformat(date_dim.get_partition_keys(current_time=now)[-1])
        for env in mixed.active_environments:
            today = now.astimezone(env.tz).date()
            assert today <= last <= today + timedelta(days=1), (env.name, now)


def test_mixed_zones_schedules_plan_each_environment_on_its_own_calendar(mixed: ProjectConfig) -> None:
    groups = {g.timezone: g for g in zone_groups(mixed)}
    assert {tz: (g.name(SYNC_SCHEDULE), [e.name for e in g.envs]) for tz, g in groups.items()} == {
        "Asia/Kolkata": ("sync_recent_partitions_asia_kolkata", ["env1", "env2"]),
        ENV3_ZONE: ("sync_recent_partitions_asia_dubai", ["env3"]),
    }
    reached = int(datetime(2026, 3, 8, 19, 15, tzinfo=UTC).timestamp() * 1000)  # 03-09 00:45 IST, 03-08 23:15 Dubai
    for env in ("env1", "env3"):
        storage = storage_for(mixed, mixed.environment(env))
        for spec in mixed.enabled_collections:
            CollectionState(None, 1, watermark_ms=reached, synced_until_ms=reached).write(
                storage, env, spec.database, spec.collection)
    # look-back of one day before the day reached, up to today: both read in the env's own timezone
    requests = scheduled_requests(mixed, OperationsConfig(), NOW, [mixed.environment("env1"), mixed.environment("env3")])
    assert [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
            for r in requests] == [("2026-03-08|env1", "2026-03-11|env1"), ("2026-03-07|env3", "2026-03-10|env3")]

    found = [(NewData("env1", "hims_billing", "bills", 3, reached, (date(2026, 3, 11),)), mixed.collection("bills")),
             (NewData("env3", "hims_billing", "bills", 3, reached, (date(2026, 3, 10),)), mixed.collection("bills"))]
    sensed = new_data_requests(mixed, found, lookback_days=1, now=NOW)
    assert sorted((r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
                  for r in sensed) == [("2026-03-07|env3", "2026-03-10|env3"), ("2026-03-08|env1", "2026-03-11|env1")]


def test_mixed_zones_definitions_fire_per_timezone(mixed: ProjectConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KX_LAKE_CONFIG_DIR", str(mixed.settings.config_dir))
    monkeypatch.setenv("KX_LAKE_ROOT", str(mixed.settings.lake_root_override))
    from kx_lake.definitions import defs as build

    defs = build()
    schedules = {s.name: (s.execution_timezone, s.cron_schedule) for s in defs.schedules}
    assert schedules == {
        "sync_recent_partitions_asia_dubai": (ENV3_ZONE, "0 * * * *"),
        "sync_recent_partitions_asia_kolkata": ("Asia/Kolkata", "0 * * * *"),
        f"{RECONCILE_SCHEDULE}_asia_dubai": (ENV3_ZONE, "0 3 * * 0"),
        f"{RECONCILE_SCHEDULE}_asia_kolkata": ("Asia/Kolkata", "0 3 * * 0"),
        "quality_checks_daily_asia_dubai": (ENV3_ZONE, "0 4 * * *"),
        "quality_checks_daily_asia_kolkata": ("Asia/Kolkata", "0 4 * * *"),
    }
    dubai = defs.resolve_schedule_def("sync_recent_partitions_asia_dubai")
    with dg.build_schedule_context(scheduled_execution_time=NOW) as ctx:
        requests = dubai.evaluate_tick(ctx).run_requests
    # no state in this lake: env3 alone, a full load up to today in Dubai (03-10; IST is on 03-11 already)
    assert [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
            for r in requests] == [(f"{mixed.partitions_start}|env3", "2026-03-10|env3")]
    weekly = defs.resolve_schedule_def(f"{RECONCILE_SCHEDULE}_asia_dubai")
    with dg.build_schedule_context(scheduled_execution_time=NOW) as ctx:
        assert [r.tags[ENV_TAG] for r in weekly.evaluate_tick(ctx).run_requests] == ["env3"]
    quality = defs.resolve_schedule_def("quality_checks_daily_asia_kolkata")
    with dg.build_schedule_context(scheduled_execution_time=NOW) as ctx:
        assert [r.tags[ENV_TAG] for r in quality.evaluate_tick(ctx).run_requests] == ["env1", "env2"]
