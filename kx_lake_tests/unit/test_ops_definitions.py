"""Schedules and sensors exist, start STOPPED, and the schedule plans each environment from the
collections' state (one range run per environment while they share a range, the outage covered);
a UI backfill over a date range is one run per environment."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from kx_lake.builders.partitions import env_date_partitions, partition_key
from kx_lake.builders.schedules import SYNC_SCHEDULE, scheduled_requests
from kx_lake.builders.sensors import FAILURE_EMAIL_SENSOR, NEW_DATA_SENSOR, SUCCESS_EMAIL_SENSOR
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.lake.pipeline import storage_for
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.ops.config import OperationsConfig


@pytest.fixture(scope="module")
def defs(tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KX_LAKE_CONFIG_DIR", str(DEFAULT_CONFIG_DIR))
        mp.setenv("KX_LAKE_ROOT", str(tmp_path_factory.mktemp("empty-lake")))  # no state: never the checkout's
        from kx_lake.definitions import defs as build

        return build()


def test_automation_is_declared_and_stopped_by_default(defs: dg.Definitions) -> None:
    schedule = defs.resolve_schedule_def(SYNC_SCHEDULE)
    assert schedule.cron_schedule == "0 * * * *" and schedule.job_name == "sync_collections"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    for name in (NEW_DATA_SENSOR, SUCCESS_EMAIL_SENSOR, FAILURE_EMAIL_SENSOR):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.STOPPED
    assert defs.resolve_sensor_def(NEW_DATA_SENSOR).minimum_interval_seconds == 300


def test_schedule_plans_from_state_so_an_outage_is_covered(tmp_path) -> None:
    """Three days without ticks: the next tick starts where the last sync reached, not at yesterday."""
    cfg = ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ={"KX_LAKE_ROOT": str(tmp_path)}))
    reached = int(datetime(2026, 3, 7, 12, 0, tzinfo=UTC).timestamp() * 1000)  # 17:30 IST on the 7th
    for env in ("env1", "env2"):
        storage = storage_for(cfg, cfg.environment(env))
        for spec in cfg.enabled_collections:
            CollectionState(None, 1, watermark_ms=reached, synced_until_ms=reached).write(
                storage, env, spec.database, spec.collection)
    when = datetime(2026, 3, 10, 19, 0, tzinfo=UTC)  # 00:30 on 2026-03-11 in IST
    requests = scheduled_requests(cfg, OperationsConfig(), when)
    assert [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
            for r in requests] == [("2026-03-06|env1", "2026-03-11|env1"), ("2026-03-06|env2", "2026-03-11|env2")]
    assert all(r.asset_selection is None and r.tags["kx_lake/source"] == "schedule" for r in requests)

    # one collection never loaded: it gets a full load of its own; the rest keep their range
    storage = storage_for(cfg, cfg.environment("env1"))
    storage.fs.rm(storage.state_path("env1", "hims_billing/bills.json"))
    env1 = [r for r in scheduled_requests(cfg, OperationsConfig(), when) if "env1" in r.run_key]
    assert sorted((r.tags["dagster/asset_partition_range_start"], r.tags.get("kx_lake/full_load"),
                   len(r.asset_selection)) for r in env1) == [
        (f"{cfg.partitions_start}|env1", "true", 1), ("2026-03-06|env1", None, 101)]


def test_schedule_evaluates_through_dagster(defs: dg.Definitions) -> None:
    # no state in the default lake: one full-load run per environment
    schedule = defs.resolve_schedule_def(SYNC_SCHEDULE)
    with dg.build_schedule_context(scheduled_execution_time=datetime(2026, 3, 10, 6, tzinfo=UTC)) as ctx:
        result = schedule.evaluate_tick(ctx)
    assert len(result.run_requests) == 2


def test_ui_backfill_of_a_range_is_one_run_per_environment_for_all_collections(defs: dg.Definitions,
                                                                              repo_project: ProjectConfig) -> None:
    """The backfill daemon's single-run path: every collection asset shares BackfillPolicy.single_run and
    the env × date partitions, so a range over two environments becomes one run (range) per environment."""
    graph = defs.resolve_asset_graph()
    job = defs.resolve_job_def("sync_collections")
    collection_keys = {k for k in job.asset_layer.selected_asset_keys}
    assert len(collection_keys) == 102
    assert {graph.get(k).backfill_policy for k in collection_keys} == {dg.BackfillPolicy.single_run()}
    pdef = env_date_partitions(repo_project)
    keys = [partition_key(env, date(2026, 1, d)) for env in ("env1", "env2") for d in range(1, 32)]
    ranges = pdef.subset_with_partition_keys(keys).get_partition_key_ranges(pdef)
    assert len(ranges) == 2  # one run per environment, not 62 (one per day)
