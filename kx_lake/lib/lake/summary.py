"""The run summary: what a sync did per collection, as a structured object.

The CLI prints it, the operations layer mails it, tests assert on it. It is built from results the
pipeline returns (or from a Dagster run's events), never parsed back out of log text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CollectionResult:
    env: str
    database: str
    collection: str
    status: str  # "succeeded" | "failed"
    rows: int = 0
    bytes: int = 0
    partitions: int = 0
    error: str | None = None
    duration_s: float = 0.0
    rejected: int = 0  # documents this run could not place (in the kx_rejects table with a reason)
    coverage_gap: str | None = None  # why synced_until did not advance over this run's dates (lake/coverage.py)

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


class CollectionResults:
    """What a run did per collection, split by outcome (shared by SyncSummary and the e-mail's RunReport)."""

    results: list[CollectionResult]

    @property
    def succeeded(self) -> list[CollectionResult]:
        return [r for r in self.results if r.ok]

    @property
    def failed(self) -> list[CollectionResult]:
        return [r for r in self.results if not r.ok]


@dataclass
class SyncSummary(CollectionResults):
    env: str
    started_at: datetime
    finished_at: datetime | None = None
    run_ids: list[str] = field(default_factory=list)
    results: list[CollectionResult] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        end = self.finished_at or self.started_at
        return (end - self.started_at).total_seconds()

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.results)

    @property
    def rejected(self) -> int:
        return sum(r.rejected for r in self.results)

    def to_dict(self) -> dict:
        return {
            "env": self.env,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_s": round(self.duration_s, 3),
            "run_ids": self.run_ids,
            "succeeded": len(self.succeeded),
            "failed": len(self.failed),
            "rows": self.rows,
            "rejected": self.rejected,
            "results": [asdict(r) for r in self.results],
        }
