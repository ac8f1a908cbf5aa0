"""Build the structured SyncSummary from a Dagster run's events (materializations and the failure
observations the collection assets log), so the CLI, sensors and e-mail all read the same facts."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from kx_lake.lib.lake.summary import CollectionResult


def _value(entry: object) -> object:
    return getattr(entry, "value", entry)


def _for_env(env: str, joined: str) -> str | None:
    """This env's part of a per-env "env: text; env: text" metadata value (lake_metadata.py)."""
    parts = [p.split(": ", 1)[1] for p in joined.split("; ") if p.startswith(f"{env}: ")]
    return "; ".join(parts) or None


def results_from_events(env: str, events: Iterable[dg.DagsterEvent | dg.EventLogEntry]) -> list[CollectionResult]:
    out: dict[tuple[str, str], CollectionResult] = {}
    for item in events:
        event = item.dagster_event if isinstance(item, dg.EventLogEntry) else item
        if event is None:
            continue
        if event.event_type_value == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            meta = {k: _value(v) for k, v in mat.metadata.items()}
            database, collection = mat.asset_key.path[-2:]
            key = (database, collection)
            if key in out:  # one materialization event per partition; the metadata is the run's
                continue
            out[key] = CollectionResult(
                env=env, database=database, collection=collection, status="succeeded",
                rows=int(meta.get("rows", 0) or 0), bytes=int(meta.get("bytes", 0) or 0),
                partitions=int(meta.get("files", 0) or 0), rejected=int(meta.get("rejected", 0) or 0),
                coverage_gap=_for_env(env, str(meta.get("coverage_gap") or "")),
                duration_s=float(meta.get("extract_duration_s", 0) or 0) + float(meta.get("publish_duration_s", 0) or 0),
            )
        elif event.event_type_value == "ASSET_OBSERVATION":
            obs = event.event_specific_data.asset_observation
            meta = {k: _value(v) for k, v in obs.metadata.items()}
            if meta.get("status") != "failed":
                continue
            database, collection = obs.asset_key.path[-2:]
            out[(database, collection)] = CollectionResult(
                env=env, database=database, collection=collection, status="failed",
                error=str(meta.get("error")), duration_s=float(meta.get("duration_s", 0) or 0),
            )
    return sorted(out.values(), key=lambda r: (r.status, r.database, r.collection))
