"""Dagster metadata for collection materializations: what the UI shows and plots per run."""

from __future__ import annotations

import json

import dagster as dg

from kx_lake.lib.lake.pipeline import PublishedCollection, StagedCollection
from kx_lake.lib.lake.state import iso_ms

_MAX_TABLE_ROWS = 60


def staged_metadata(staged: list[StagedCollection]) -> dict:
    first = staged[0]
    return {
        "env": ", ".join(s.env for s in staged),
        "rows": sum(s.rows for s in staged),
        "source_documents_read": sum(s.read.documents for s in staged),
        "source_bytes_read": sum(s.read.bytes for s in staged),
        "min_timestamp": iso_ms(min((s.min_ts_ms for s in staged if s.min_ts_ms is not None), default=None)),
        "max_timestamp": iso_ms(max((s.max_ts_ms for s in staged if s.max_ts_ms is not None), default=None)),
        "source_filter": dg.MetadataValue.json(json.loads(json.dumps(first.source_filter, default=str))),
        "extract_duration_s": round(sum(s.duration_s for s in staged), 3),
        "rewritten_partitions": sum(len(s.rewrite_dates) for s in staged),
        "cursor_resumes": sum(s.read.resumes for s in staged),
    }


def published_metadata(published: list[PublishedCollection]) -> dict:
    rows = [
        dg.TableRecord({"env": p.staged.env, "date": d.isoformat(), "rows": p.staged.rows_by_date.get(d, 0)})
        for p in published
        for d in p.staged.dates
    ][:_MAX_TABLE_ROWS]
    return {
        "bytes": sum(p.bytes for p in published),
        "files": sum(len(p.files) for p in published),
        "schema_version": max(p.schema_version for p in published),
        "schema_fingerprint": published[0].staged.schema.fingerprint[:16],
        "watermark": iso_ms(max((p.staged.watermark_ms or 0) for p in published)) or "",
        "publish_duration_s": round(sum(p.duration_s for p in published), 3),
        "partitions": dg.MetadataValue.table(
            rows,
            schema=dg.TableSchema(
                columns=[dg.TableColumn("env"), dg.TableColumn("date"), dg.TableColumn("rows", type="int")]
            ),
        ),
    }
