"""The Spark engine makes exactly the local engine's lake (issue 13).

env2 of the local FerretDB is seeded (every documented mess, plus `attendance`'s reserved `date` key
and `beds`' updates), then synced through the same Dagster job twice per step — once with the local
engine into lake L, once with `engine=spark` (the run tag `kx-lake sync --engine spark` sets) into
lake S — and the two lakes are compared file by file (paths, schema, rows) and state by state:
a full load; two more simulated days and an incremental sync; then a widening (a text amount in a
column that held numbers) with its rewrite of older dates, and a rejected document.
A collection failing under Spark leaves the others and every state right.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import pytest

from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.lake.plan import plan_sync
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.storage import LakeStorage
from kx_lake.lib.synth import MESSES, mutate_environment, seed_environment
from kx_lake_tests.fixtures.lake_compare import compare_lakes

# each database's step runs two Spark jobs; on a loaded 2-core machine a run takes minutes
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.spark, pytest.mark.timeout(1800)]

ENV = "env2"
AS_OF = date(2026, 6, 30)
SEED = 7
COLLECTIONS = sorted({m.collection for m in MESSES} | {"attendance", "beds"})
FIRST = AS_OF - timedelta(days=27)  # four weeks: a year of dates would write ~10x the files for no new case


def _project(mp: pytest.MonkeyPatch, cfg_dir: Path, home: Path, root: Path) -> ProjectConfig:
    mp.setenv("KX_LAKE_CONFIG_DIR", str(cfg_dir))
    mp.setenv("KX_LAKE_HOME", str(home))
    mp.setenv("KX_LAKE_ROOT", str(root))
    return ProjectConfig.load(Settings.resolve(cfg_dir, environ={"KX_LAKE_HOME": str(home), "KX_LAKE_ROOT": str(root)}))


def _sync(mp, cfg_dir, home, root, engine: str, collections: list[str], *, expect_failed=(), **plan_kwargs):
    project = _project(mp, cfg_dir, home, root)
    from kx_lake.definitions import defs

    groups = plan_sync(project, ENV, [project.collection(c) for c in collections], **plan_kwargs)
    summary = run_sync(defs(), "sync_collections", groups, instance=dg.DagsterInstance.ephemeral(), engine=engine)
    failed = {r.collection: r.error for r in summary.results if not r.ok}
    assert sorted(failed) == sorted(expect_failed), failed
    return summary


@pytest.fixture(scope="module")
def seeded(local_source, spark_session, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("spark-engine")
    with pytest.MonkeyPatch.context() as mp:
        project = _project(mp, DEFAULT_CONFIG_DIR, local_source.settings.home, base / "seed-lake")
        client = local_source.client(ENV)
        seed_environment(client, project, ENV, scale=0.002, seed=SEED, as_of=AS_OF)
        yield project, client, base, local_source.settings.home, mp


def _assert_same(local_root: Path, spark_root: Path) -> None:
    result = compare_lakes(local_root, spark_root)
    assert result.differences == [], result.differences[:10]
    assert result.parquet_files > len(COLLECTIONS) and result.rows > 0


def test_spark_engine_writes_the_local_engines_lake(seeded) -> None:
    project, client, base, home, mp = seeded
    tz = project.environment(ENV).tz
    lakes = {engine: base / f"lake-{engine}" for engine in ("local", "spark")}

    for engine, root in lakes.items():  # a first load of four weeks
        _sync(mp, DEFAULT_CONFIG_DIR, home, root, engine, COLLECTIONS, dates=(FIRST, AS_OF),
              now=datetime.combine(AS_OF, time(12), tz))
    _assert_same(lakes["local"], lakes["spark"])

    report = mutate_environment(client, project, ENV, days=2, seed=SEED)  # two more days, incremental
    now = datetime.combine(report.last_day, time(23), tz)
    for engine, root in lakes.items():
        _sync(mp, DEFAULT_CONFIG_DIR, home, root, engine, COLLECTIONS, now=now)
    _assert_same(lakes["local"], lakes["spark"])

    # a widening: text in `tax`, a column of doubles, rewrites every older date; plus one reject
    bill = client.hims_billing.bills.find_one(sort=[("updated_at", -1)])
    day = datetime.combine(report.last_day, time(10), tz)
    client.hims_billing.bills.insert_many([
        {**bill, "_id": "BILL-SPARK-1", "updated_at": day, "tax": "18.00", "spark_note": {"a": 1}},
        {**bill, "_id": "BILL-SPARK-2", "updated_at": "not a date"},
    ])
    state_before = CollectionState.read(LakeStorage.from_root(str(lakes["local"])), ENV, "hims_billing", "bills")
    for engine, root in lakes.items():
        _sync(mp, DEFAULT_CONFIG_DIR, home, root, engine, ["bills"], dates=(report.last_day, report.last_day),
              now=now + timedelta(hours=1))
    _assert_same(lakes["local"], lakes["spark"])
    state_after = CollectionState.read(LakeStorage.from_root(str(lakes["spark"])), ENV, "hims_billing", "bills")
    assert state_after.schema_version == state_before.schema_version + 1  # the widening really happened
    assert state_after.schema.get("tax") != state_before.schema.get("tax")
    rejects = list((lakes["spark"] / ENV / "kx_rejects").rglob("*.parquet"))
    assert rejects, "the unplaceable bill reached no rejects table"


def test_one_failing_collection_leaves_the_others_and_their_state(seeded, tmp_path: Path) -> None:
    project, client, base, home, mp = seeded
    cfg_dir = tmp_path / "cfg"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg_dir)
    csv = cfg_dir / "collections.csv"
    # vitals partitioned by a column no document has: its sync must fail, and only its own
    csv.write_text("\n".join(
        line if not line.startswith("vitals,") else ",".join(line.split(",")[:4] + ["no_such_column"] + line.split(",")[5:])
        for line in csv.read_text().splitlines()) + "\n")
    picked = ["bills", "vitals", "payments"]
    tz = project.environment(ENV).tz
    roots = {engine: tmp_path / f"lake-{engine}" for engine in ("local", "spark")}
    errors = {}
    for engine, root in roots.items():
        summary = _sync(mp, cfg_dir, home, root, engine, picked, expect_failed=["vitals"], dates=(FIRST, AS_OF),
                        now=datetime.combine(AS_OF + timedelta(days=2), time(12), tz))
        errors[engine] = next(r.error for r in summary.results if r.collection == "vitals")
    assert "no_such_column" in errors["spark"] and errors["spark"] == errors["local"]
    spark_lake = LakeStorage.from_root(str(roots["spark"]))
    spec = project.collection("vitals")
    assert CollectionState.read(spark_lake, ENV, spec.database, spec.collection).schema is None
    assert not list((roots["spark"] / ENV / spec.database).glob("vitals*"))
    for name in ("bills", "payments"):
        other = project.collection(name)
        assert CollectionState.read(spark_lake, ENV, other.database, other.collection).watermark_ms is not None
    _assert_same(roots["local"], roots["spark"])
