"""Which dates a sync covers: full load without state, incremental from where the last sync reached."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.lake.plan import plan_sync
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.storage import LakeStorage

NOW = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 2026-03-11 01:30 IST: "today" is the 11th in env1


def ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


@pytest.fixture
def project(tmp_path: Path) -> ProjectConfig:
    return ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ={"KX_LAKE_ROOT": str(tmp_path / "lake")}))


def test_never_loaded_is_a_full_load_and_explicit_ranges_are_kept(project: ProjectConfig) -> None:
    bills, patients = project.collection("bills"), project.collection("patients")
    [group] = plan_sync(project, "env1", [bills, patients], now=NOW)
    assert (group.first, group.last, group.full_load) == (project.partitions_start, date(2026, 3, 11), True)
    [explicit] = plan_sync(project, "env1", [bills], dates=(date(2026, 1, 1), date(2026, 1, 31)), now=NOW)
    assert (explicit.first, explicit.last, explicit.full_load) == (date(2026, 1, 1), date(2026, 1, 31), False)
    with pytest.raises(ValueError, match="before partitions_start"):
        plan_sync(project, "env1", [bills], dates=(date(2020, 1, 1), date(2020, 1, 2)), now=NOW)


def test_incremental_starts_where_the_last_sync_reached_minus_the_lookback(project: ProjectConfig, tmp_path: Path) -> None:
    storage = LakeStorage.from_root(str(tmp_path / "lake"))
    bills, facilities, patients = (project.collection(n) for n in ("bills", "facilities", "patients"))
    reached = ms(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))  # 17:30 IST on the 10th
    # a master whose newest document is weeks old still starts where the last sync reached
    CollectionState(None, 1, watermark_ms=ms(datetime(2026, 2, 1, tzinfo=UTC)), synced_until_ms=reached).write(
        storage, "env1", "hims_masters", "facilities")
    CollectionState(None, 1, watermark_ms=reached - 5000, synced_until_ms=reached).write(
        storage, "env1", "hims_billing", "bills")
    groups = plan_sync(project, "env1", [bills, facilities, patients], now=NOW)
    assert [(g.first, g.last, sorted(c.collection for c in g.collections), g.full_load) for g in groups] == [
        (project.partitions_start, date(2026, 3, 11), ["patients"], True),
        (date(2026, 3, 9), date(2026, 3, 11), ["bills", "facilities"], False),
    ]
    [wider] = plan_sync(project, "env1", [bills], lookback_days=3, now=NOW)
    assert wider.first == date(2026, 3, 7)


def test_dates_published_by_an_explicit_range_alone_do_not_make_a_collection_loaded(project: ProjectConfig,
                                                                                   tmp_path: Path) -> None:
    """`--dates` on a never-loaded collection writes a watermark but no synced_until: still a full load."""
    storage = LakeStorage.from_root(str(tmp_path / "lake"))
    CollectionState(None, 1, watermark_ms=ms(datetime(2026, 3, 1, tzinfo=UTC)), synced_until_ms=None).write(
        storage, "env1", "hims_billing", "bills")
    [group] = plan_sync(project, "env1", [project.collection("bills")], now=NOW)
    assert (group.first, group.full_load) == (project.partitions_start, True)
