"""env3 in Asia/Dubai (UTC+4) beside env1 in IST (UTC+5:30), each synced from its own real FerretDB.

The same two documents near midnight land on different dates per environment, because a partition
date is the calendar day in the environment's own timezone: 19:00Z is 00:30 on the next day in IST but
still 23:00 the same day in Dubai; 20:15Z is after midnight in both.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from kx_lake.builders.collection_assets import collection_key
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.lake.pipeline import storage_for
from kx_lake.lib.lake.plan import SyncGroup, plan_sync
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.source import local_server
from kx_lake_tests.fixtures.ferretdb import TEST_PII_KEY
from kx_lake_tests.fixtures.mixed_zones import mixed_zone_config

pytestmark = pytest.mark.integration

ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
z_bills,hims_billing,updated_at,date,,true
"""
ENVS = ("env1", "env3")
DOCS = [
    {"_id": "late-evening", "updated_at": datetime(2026, 1, 2, 19, 0, tzinfo=UTC)},  # IST 01-03 00:30 · Dubai 01-02 23:00
    {"_id": "after-midnight", "updated_at": datetime(2026, 1, 2, 20, 15, tzinfo=UTC)},  # IST 01-03 01:45 · Dubai 01-03 00:15
]


@pytest.fixture
def mixed(ferretdb_binary: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cfg = mixed_zone_config(tmp_path / "cfg", ROWS)
    environ = {"KX_LAKE_CONFIG_DIR": str(cfg), "KX_LAKE_HOME": str(tmp_path / "home"),
               "KX_LAKE_ROOT": str(tmp_path / "lake")}
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    project = ProjectConfig.load(Settings.resolve(cfg, environ=environ))
    for spec in project.environments.values():  # only these local servers can be reached
        monkeypatch.delenv(spec.mongodb_uri_secret, raising=False)
        monkeypatch.setenv(spec.pii_key_variable, TEST_PII_KEY)
    try:
        for env in ENVS:
            local_server.up(project, env, binary=ferretdb_binary, exit_with_parent=True)
        yield project
    finally:
        for env in ENVS:
            local_server.down(project, env)


def test_each_environment_dates_documents_on_its_own_calendar(mixed: ProjectConfig) -> None:
    import pymongo

    from kx_lake.definitions import defs

    for env in ENVS:
        with pymongo.MongoClient(local_server.uri(mixed, env)) as client:
            client.hims_billing.z_bills.insert_many([dict(d) for d in DOCS])
    definitions, instance = defs(), dg.DagsterInstance.ephemeral()
    spec = mixed.collection("z_bills")
    for env in ENVS:
        full_load = SyncGroup(env, mixed.partitions_start, date(2026, 1, 4), (spec,), True)
        summary = run_sync(definitions, "sync_collections", [full_load], instance=instance)
        assert [(r.status, r.rows) for r in summary.results] == [("succeeded", 2)], [r.error for r in summary.results]

    placed = {}
    for env in ENVS:
        table = storage_for(mixed, mixed.environment(env)).read_table(env, "hims_billing", "z_bills")
        placed[env] = {r["_id"]: (str(r["date"]), r["updated_at"]) for r in table.to_pylist()}
    assert placed["env3"] == {"late-evening": ("2026-01-02", datetime(2026, 1, 2, 23, 0)),  # Dubai wall clock
                              "after-midnight": ("2026-01-03", datetime(2026, 1, 3, 0, 15))}
    assert placed["env1"] == {"late-evening": ("2026-01-03", datetime(2026, 1, 3, 0, 30)),  # IST wall clock
                              "after-midnight": ("2026-01-03", datetime(2026, 1, 3, 1, 45))}

    # Dagster recorded env3's dates as env3's partitions (the same date keys, read in Dubai)
    materialized = instance.get_materialized_partitions(collection_key(spec))
    assert {"2026-01-02|env3", "2026-01-03|env3", "2026-01-03|env1"} <= materialized

    # synced up to the end of 01-04 in each env's timezone; the next incremental sync plans from there
    reached = {env: CollectionState.read(storage_for(mixed, mixed.environment(env)), env, "hims_billing",
                                         "z_bills").synced_until_ms for env in ENVS}
    assert reached == {"env1": int(datetime(2026, 1, 4, 18, 30, tzinfo=UTC).timestamp() * 1000),
                       "env3": int(datetime(2026, 1, 4, 20, 0, tzinfo=UTC).timestamp() * 1000)}
    now = datetime(2026, 1, 5, 19, 0, tzinfo=UTC)  # 00:30 on 01-06 in IST, 23:00 on 01-05 in Dubai
    plans = {env: [(g.first, g.last) for g in plan_sync(mixed, env, [spec], now=now)] for env in ENVS}
    assert plans == {"env1": [(date(2026, 1, 4), date(2026, 1, 6))], "env3": [(date(2026, 1, 4), date(2026, 1, 5))]}
