"""A run over a range that left a gap behind `synced_until` says so in the run summary and the e-mail:
the `coverage_gap` metadata a materialization carries (per environment) travels, through a real
(ephemeral) Dagster instance, into the collection's result and the message text."""

from __future__ import annotations

import dagster as dg

from kx_lake.builders.run_summary import results_from_events
from kx_lake.lib.notify import RunReport, build_message

GAP = "gap 2026-01-04..2026-01-05: synced only until 2026-01-03T18:30:00.000+00:00 but this run starts at 2026-01-06"


def test_the_gap_travels_from_the_materialization_to_the_summary_and_the_message() -> None:
    @dg.asset(key=["hims_billing", "bills"])
    def bills() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 1, "coverage_gap": f"env2: other; env1: {GAP}"})

    @dg.asset(key=["hims_patient", "vitals"])
    def vitals() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 1, "coverage_gap": ""})

    instance = dg.DagsterInstance.ephemeral()
    run = dg.materialize([bills, vitals], instance=instance)
    events = instance.all_logs(run.run_id, of_type={dg.DagsterEventType.ASSET_MATERIALIZATION})
    results = {r.collection: r for r in results_from_events("env1", events)}
    assert (results["bills"].coverage_gap, results["vitals"].coverage_gap) == (GAP, None)
    report = RunReport("sync_collections", "r-7", "SUCCESS", "env1", "http://d/runs/r-7", 2.0, list(results.values()))
    text = build_message(report, sender="kx@x.org", recipients=["a@x.org"]).get_body(("plain",)).get_content()
    listed = text.split("Coverage gaps (dates published, synced_until not advanced across the gap):\n")[1]
    assert listed.splitlines()[0] == f"  - hims_billing.bills: {GAP}"
