"""Dagster metadata for collection materializations: what the UI shows and plots per run."""

from __future__ import annotations

import json
import time

from kx_lake.lib.lake.pipeline import PublishedCollection, StagedCollection
from kx_lake.lib.lake.state import iso_ms


def staged_metadata(staged: list[StagedCollection]) -> dict:
    # Kept small on purpose: Dagster stores a run's metadata once per materialized partition, and a
    # full load records hundreds of partitions per collection.
    filt = json.dumps(staged[0].source_filter, default=str, separators=(",", ":"))
    return {
        "env": ", ".join(s.env for s in staged),
        "rows": sum(s.rows for s in staged),
        "dates_with_rows": sum(len(s.rows_by_date) for s in staged),
        "source_documents_read": sum(s.read.documents for s in staged),
        "source_bytes_read": sum(s.read.bytes for s in staged),
        "min_timestamp": iso_ms(min((s.min_ts_ms for s in staged if s.min_ts_ms is not None), default=None)) or "",
        "max_timestamp": iso_ms(max((s.max_ts_ms for s in staged if s.max_ts_ms is not None), default=None)) or "",
        "source_filter": filt if len(filt) <= 600 else filt[:600] + "…",
        "extract_duration_s": round(sum(s.duration_s for s in staged), 3),
        "rewritten_partitions": sum(len(s.rewrite_dates) for s in staged),
        "cursor_resumes": sum(s.read.resumes for s in staged),
        "coverage_gap": "; ".join(f"{s.env}: {s.coverage_gap}" for s in staged if s.coverage_gap),
        "fallback_deferred": sum(s.fallback_deferred for s in staged),
    }


def published_metadata(published: list[PublishedCollection]) -> dict:
    watermark_ms = max((p.staged.watermark_ms or 0) for p in published)
    return {
        # hours from the newest timestamp in the lake to now: a float so the UI plots it per run
        "lag_hours": round((time.time() * 1000 - watermark_ms) / 3_600_000, 3) if watermark_ms else -1.0,
        "bytes": sum(p.bytes for p in published),
        "files": sum(len(p.files) for p in published),
        "schema_version": max(p.schema_version for p in published),
        "schema_fingerprint": published[0].staged.schema.fingerprint[:16],
        "watermark": iso_ms(max((p.staged.watermark_ms or 0) for p in published)) or "",
        "publish_duration_s": round(sum(p.duration_s for p in published), 3),
        # documents this run could not place (kx_rejects table), and the table's rows afterwards
        "rejected": sum(p.rejects.rejected for p in published),
        "rejects_total": sum(p.rejects.total for p in published),
        # look-back dates whose documents and files were exactly those last published: not rewritten
        "unchanged_dates": sum(p.unchanged_dates for p in published),
    }


_NEWEST = {"schema_version", "watermark", "watermark_ms", "max_timestamp", "last_date"}
_OLDEST = {"min_timestamp", "first_date"}


def combined(parts: list[dict]) -> dict:
    """Several environments' metadata of one collection as one (a run may span environments, some
    published here and some by a Spark job): counts summed, newest/oldest kept, labels joined."""
    out: dict = {}
    for key in dict.fromkeys(k for part in parts for k in part):
        values = [p[key] for p in parts if p.get(key) not in (None, "")]
        if not values:
            out[key] = next((p[key] for p in parts if key in p), None)
        elif key in _NEWEST:
            out[key] = max(values)
        elif key in _OLDEST:
            out[key] = min(values)
        elif key == "lag_hours":
            out[key] = min((v for v in values if v >= 0), default=-1.0)
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            out[key] = round(sum(values), 3) if any(isinstance(v, float) for v in values) else sum(values)
        else:
            out[key] = ", ".join(dict.fromkeys(str(v) for v in values))
    return {k: v for k, v in out.items() if v is not None}
