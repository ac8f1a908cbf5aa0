"""The sync summary's fast path on a real SQLite instance (run-sharded event log, as kx-lake's Dagster home).

A run's events are numbered in the run's own SQLite shard and the asset index in another, so a filter
comparing the two silently fell back to reading the whole log once a second run existed. These tests
run real jobs on a temporary instance and check the fast path answers from the index, alone.
"""

import dagster as dg
import pytest

from kx_lake.builders.collection_assets import collection_key
from kx_lake.builders.sync_runner import first_materializations
from kx_lake.lib.config import CollectionSpec

BILLS = CollectionSpec(collection="bills", database="hims_billing", timestamp_column="modifiedAt")
VITALS = CollectionSpec(collection="vitals", database="hims_patient", timestamp_column="recorded_at_ms")
PER_RUN = 5  # materializations per asset per run, like one per partition date


class Run(dg.Config):
    number: int
    fail_vitals: bool = False


def _asset(spec: CollectionSpec) -> dg.AssetsDefinition:
    @dg.asset(key=collection_key(spec), name=None)
    def _materialize(context: dg.AssetExecutionContext, config: Run) -> dg.MaterializeResult:
        if spec is VITALS and config.fail_vitals:
            raise RuntimeError("vitals failed this time")
        for day in range(PER_RUN - 1):
            context.log_event(dg.AssetMaterialization(collection_key(spec), metadata={"run": config.number, "day": day}))
        return dg.MaterializeResult(metadata={"run": config.number, "day": PER_RUN - 1})

    return _materialize


@pytest.fixture
def instance(tmp_path):
    with dg.DagsterInstance.local_temp(str(tmp_path)) as inst:
        yield inst


def _run(instance: dg.DagsterInstance, number: int, *, fail_vitals: bool = False) -> str:
    job = dg.define_asset_job("sync", selection=dg.AssetSelection.all())
    defs = dg.Definitions(assets=[_asset(BILLS), _asset(VITALS)], jobs=[job])
    config = {"config": {"number": number, "fail_vitals": fail_vitals}}
    result = defs.resolve_job_def("sync").execute_in_process(
        instance=instance, raise_on_error=False,
        run_config={"ops": {"hims_billing__bills": config, "hims_patient__vitals": config}},
    )
    return result.run_id


def _runs_of(events: list) -> set[tuple[str, int]]:
    out = set()
    for entry in events:
        mat = entry.dagster_event.event_specific_data.materialization
        out.add((mat.asset_key.path[-1], mat.metadata["run"].value))
    return out


def test_fast_path_answers_for_a_later_run_on_a_shared_instance(instance: dg.DagsterInstance) -> None:
    _run(instance, 1)
    second = _run(instance, 2, fail_vitals=True)  # vitals' newest materialization stays run 1's
    events = first_materializations(instance, second, [BILLS, VITALS])
    assert events is not None, "the fast path fell back to reading the whole run log"
    assert _runs_of(events) == {("bills", 2)}  # the first of run 2's five, nothing of run 1
    assert [e.dagster_event.event_specific_data.materialization.metadata["day"].value for e in events] == [0]


def test_fast_path_defers_to_the_whole_log_when_another_run_came_since(instance: dg.DagsterInstance) -> None:
    first = _run(instance, 1, fail_vitals=True)
    _run(instance, 2)  # vitals first materialized after run 1 started, by run 2
    assert first_materializations(instance, first, [BILLS, VITALS]) is None
    assert _runs_of(first_materializations(instance, first, [BILLS])) == {("bills", 1)}
