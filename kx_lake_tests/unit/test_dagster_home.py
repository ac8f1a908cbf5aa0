"""The batching event store runs only behind its guard, and writes what the stock store would."""

import warnings
from pathlib import Path

import dagster as dg
import pytest

from kx_lake.builders import batching_event_log, dagster_home

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-01-11")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def ranged(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"partitions": len(context.partition_keys)})


def _run_range(home: Path) -> dg.DagsterInstance:
    """A single-run backfill of ten days, as `kx-lake sync` runs one, recorded in `home`."""
    instance = dg.DagsterInstance.from_config(str(home))
    job = dg.Definitions(assets=[ranged]).resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, tags={
        "dagster/asset_partition_range_start": "2026-01-01", "dagster/asset_partition_range_end": "2026-01-10"})
    assert result.success
    return instance


def _recorded(instance: dg.DagsterInstance) -> tuple[set[str], str | None, int]:
    key = dg.AssetKey("ranged")
    latest = instance.get_latest_materialization_event(key)
    records = instance.fetch_materializations(key, limit=100).records
    return instance.get_materialized_partitions(key), latest and latest.dagster_event.partition, len(records)


@pytest.fixture
def batch_env(monkeypatch):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", dagster_home.EVENT_BATCH_SIZE)
    monkeypatch.setenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")


def test_the_batched_branch_writes_what_the_stock_store_writes(tmp_path: Path, batch_env) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning on the pinned Dagster
        home = dagster_home.ensure_dagster_home(tmp_path / "batching")
    instance = _run_range(home)
    storage = instance.event_log_storage
    assert type(storage) is batching_event_log.BatchingSqliteEventLogStorage
    assert storage.batched_events == 10  # the ten partition materializations went through the batch branch

    stock_home = tmp_path / "stock"
    stock_home.mkdir()
    stock = _run_range(stock_home)  # no dagster.yaml: stock SQLite storage
    assert type(stock.event_log_storage).__name__ == "SqliteEventLogStorage"
    assert _recorded(instance) == _recorded(stock) == ({f"2026-01-{d:02d}" for d in range(1, 11)}, "2026-01-10", 10)


def test_another_dagster_version_falls_back_to_stock_storage_with_a_warning(tmp_path: Path, batch_env,
                                                                            monkeypatch) -> None:
    home = dagster_home.ensure_dagster_home(tmp_path / "home")  # written while the guard passed
    monkeypatch.setattr(dg, "__version__", "1.14.0")
    assert dagster_home.batching_problems() == ["verified with Dagster 1.13.27, running 1.14.0"]
    with pytest.warns(UserWarning, match="stock SQLite event storage"):
        instance = _run_range(home)  # an old dagster.yaml naming the batching class
    assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
    assert _recorded(instance)[0] == {f"2026-01-{d:02d}" for d in range(1, 11)}

    with pytest.warns(UserWarning, match="running 1.14.0"):
        dagster_home.ensure_dagster_home(home)  # and the file is rewritten to the stock configuration
    assert "BatchingSqliteEventLogStorage" not in (home / "dagster.yaml").read_text()


def test_a_missing_private_member_is_named_and_disables_batching(tmp_path: Path, monkeypatch) -> None:
    storage_cls = batching_event_log.SqliteEventLogStorage
    owner = next(c for c in storage_cls.__mro__ if "_get_asset_entry_values" in vars(c))
    monkeypatch.delattr(owner, "_get_asset_entry_values")  # as if Dagster renamed it
    assert dagster_home.batching_problems() == ["SqliteEventLogStorage has no _get_asset_entry_values"]
    with pytest.warns(UserWarning, match="no _get_asset_entry_values"):
        home = dagster_home.ensure_dagster_home(tmp_path / "home")
    assert "batching disabled" in (home / "dagster.yaml").read_text()
    assert type(dg.DagsterInstance.from_config(str(home)).event_log_storage).__name__ == "SqliteEventLogStorage"


def test_a_dagster_yaml_of_the_users_own_is_kept(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    dagster_home.ensure_dagster_home(tmp_path)
    assert (tmp_path / "dagster.yaml").read_text() == "telemetry:\n  enabled: true\n"
