"""The run-summary e-mail as data (RunReport) and as a MIME message (plain text + HTML alternative).

A report is built from facts the run recorded (SyncSummary results, check evaluations, run stats);
rendering is a pure function so it is unit-tested without a mail server. Every string that came
from a run (errors, check descriptions) passes the Scrubber before it is rendered, and HTML is
escaped, so neither a secret nor markup from a document can reach a mailbox.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from kx_lake.lib.lake.summary import CollectionResult, CollectionResults
from kx_lake.lib.scrub import Scrubber

_ERROR_CHARS = 600


@dataclass(frozen=True)
class CheckOutcome:
    asset: str  # database.collection
    check: str
    passed: bool
    severity: str = "ERROR"  # ERROR | WARN
    description: str = ""


@dataclass
class RunReport(CollectionResults):
    job: str
    run_id: str
    status: str  # SUCCESS | FAILURE | CANCELED
    env: str
    run_url: str
    duration_s: float | None = None
    results: list[CollectionResult] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    run_error: str | None = None  # the run-level failure message, when the run failed

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed]

    @property
    def ok(self) -> bool:
        return self.status == "SUCCESS" and not self.failed

    def subject(self, prefix: str) -> str:
        state = "succeeded" if self.ok else ("failed" if self.status != "CANCELED" else "canceled")
        parts = [f"{len(self.succeeded)} ok", f"{len(self.failed)} failed"]
        if self.failed_checks:
            parts.append(f"{len(self.failed_checks)} check(s) failing")
        return f"{prefix} {self.env} {self.job} {state}: {', '.join(parts)}".strip()


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs} s" if minutes else f"{seconds:.1f} s"


def _short(text: str | None, scrub: Scrubber) -> str:
    text = scrub(text or "").strip()
    return text if len(text) <= _ERROR_CHARS else text[:_ERROR_CHARS] + "…"


def render_text(report: RunReport, scrub: Scrubber) -> str:
    lines = [
        f"Job:         {report.job}",
        f"Environment: {report.env}",
        f"Status:      {report.status}",
        f"Duration:    {_duration(report.duration_s)}",
        f"Run:         {report.run_url}",
        "",
        f"Collections succeeded: {len(report.succeeded)}, failed: {len(report.failed)}, "
        f"rows: {sum(r.rows for r in report.results)}, rejected documents: {sum(r.rejected for r in report.results)}",
    ]
    if report.run_error:
        lines += ["", "Run error:", f"  {_short(report.run_error, scrub)}"]
    if report.failed:
        lines += ["", "Failed collections:"]
        lines += [f"  - {r.database}.{r.collection}: {_short(r.error, scrub)}" for r in report.failed]
    rejected = [r for r in report.results if r.rejected]
    if rejected:
        lines += ["", "Collections with rejected documents (see the kx_rejects table):"]
        lines += [f"  - {r.database}.{r.collection}: {r.rejected}" for r in rejected]
    gaps = [r for r in report.results if r.coverage_gap]
    if gaps:
        lines += ["", "Coverage gaps (dates published, synced_until not advanced across the gap):"]
        lines += [f"  - {r.database}.{r.collection}: {r.coverage_gap}" for r in gaps]
    if report.failed_checks:
        lines += ["", "Failing data-quality checks:"]
        lines += [f"  - [{c.severity}] {c.asset} {c.check}: {_short(c.description, scrub)}" for c in report.failed_checks]
    if report.succeeded:
        lines += ["", "Succeeded collections (rows, bytes, seconds):"]
        lines += [f"  - {r.database}.{r.collection}: {r.rows} rows, {r.bytes} bytes, {r.duration_s:.1f} s"
                  for r in report.succeeded]
    if report.checks and not report.failed_checks:
        lines += ["", f"All {len(report.checks)} data-quality checks passed."]
    return "\n".join(lines) + "\n"


def render_html(report: RunReport, scrub: Scrubber) -> str:
    e = html.escape
    colour = "#1a7f37" if report.ok else "#cf222e"
    rows = "".join(
        f"<tr><td>{e(r.database)}.{e(r.collection)}</td><td>{e(r.status)}</td><td align='right'>{r.rows}</td>"
        f"<td align='right'>{r.rejected}</td><td align='right'>{r.bytes}</td><td align='right'>{r.duration_s:.1f}</td>"
        f"<td>{e(_short(r.error, scrub))}</td></tr>"
        for r in sorted(report.results, key=lambda r: (r.ok, r.database, r.collection))
    )
    checks = "".join(
        f"<tr><td>{e(c.asset)}</td><td>{e(c.check)}</td><td>{e(c.severity)}</td><td>{e(_short(c.description, scrub))}</td></tr>"
        for c in report.failed_checks
    )
    parts = [
        f"<h2 style='color:{colour}'>{e(report.env)} · {e(report.job)} · {e(report.status)}</h2>",
        f"<p>Duration {e(_duration(report.duration_s))} · {len(report.succeeded)} succeeded · "
        f"{len(report.failed)} failed · <a href='{e(report.run_url)}'>open the run</a></p>",
    ]
    if report.run_error:
        parts.append(f"<p><b>Run error:</b> {e(_short(report.run_error, scrub))}</p>")
    if checks:
        parts.append("<h3>Failing data-quality checks</h3><table border='1' cellpadding='4'>"
                     "<tr><th>asset</th><th>check</th><th>severity</th><th>why</th></tr>" + checks + "</table>")
    if rows:
        parts.append("<h3>Collections</h3><table border='1' cellpadding='4'><tr><th>collection</th><th>status</th>"
                     "<th>rows</th><th>rejected</th><th>bytes</th><th>seconds</th><th>error</th></tr>" + rows + "</table>")
    return "<html><body>" + "".join(parts) + "</body></html>"


def build_message(report: RunReport, *, sender: str, recipients: list[str] | tuple[str, ...],
                  subject_prefix: str = "[kx-lake]", scrub: Scrubber | None = None) -> EmailMessage:
    scrub = scrub or Scrubber()
    msg = EmailMessage()
    msg["Subject"] = scrub(report.subject(subject_prefix))
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="kx-lake")
    msg["X-KX-Lake-Run-Id"] = report.run_id
    msg.set_content(render_text(report, scrub))
    msg.add_alternative(render_html(report, scrub), subtype="html")
    return msg
