"""The run-summary e-mail says how many documents were rejected: in the totals line, per collection
(text) and in the collections table (HTML) — from the `rejected` metadata a materialization carries,
read back from a real (ephemeral) Dagster instance the way the e-mail sensors read it."""

from __future__ import annotations

import re

import dagster as dg

from kx_lake.builders.run_summary import results_from_events
from kx_lake.lib.lake.summary import CollectionResult
from kx_lake.lib.notify import RunReport, Scrubber, build_message
from kx_lake.lib.notify.message import render_html, render_text


def report(results: list[CollectionResult]) -> RunReport:
    return RunReport("sync_collections", "r-7", "SUCCESS", "env1", "http://d/runs/r-7", 2.0, results)


def test_text_and_html_show_the_reject_counts() -> None:
    results = [CollectionResult("env1", "hims_billing", "bills", "succeeded", rows=10, rejected=3),
               CollectionResult("env1", "hims_patient", "vitals", "succeeded", rows=5, rejected=4),
               CollectionResult("env1", "hims_admin", "notes", "succeeded", rows=2)]
    text = render_text(report(results), Scrubber())
    assert "rows: 17, rejected documents: 7" in text
    listed = text.split("Collections with rejected documents (see the kx_rejects table):\n")[1].split("\n\n")[0]
    assert listed.splitlines() == ["  - hims_billing.bills: 3", "  - hims_patient.vitals: 4"]
    html = render_html(report(results), Scrubber())
    cells = dict(re.findall(r"<tr><td>([\w.]+)</td><td>succeeded</td><td align='right'>\d+</td>"
                            r"<td align='right'>(\d+)</td>", html))
    assert cells == {"hims_billing.bills": "3", "hims_patient.vitals": "4", "hims_admin.notes": "0"}


def test_no_rejects_no_reject_section() -> None:
    text = render_text(report([CollectionResult("env1", "d", "c", "succeeded", rows=1)]), Scrubber())
    assert "rejected documents: 0" in text and "Collections with rejected documents" not in text


def test_the_count_travels_from_the_materialization_to_the_message() -> None:
    @dg.asset(key=["hims_billing", "bills"])
    def bills() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 10, "bytes": 100, "files": 1, "rejected": 3})

    instance = dg.DagsterInstance.ephemeral()
    run = dg.materialize([bills], instance=instance)
    events = instance.all_logs(run.run_id, of_type={dg.DagsterEventType.ASSET_MATERIALIZATION})
    results = results_from_events("env1", events)
    assert [(r.collection, r.rows, r.rejected) for r in results] == [("bills", 10, 3)]
    msg = build_message(report(results), sender="kx@x.org", recipients=["a@x.org"])
    assert "  - hims_billing.bills: 3" in msg.get_body(("plain",)).get_content()
