"""The local Dagster instance: where `kx-lake sync` and `make dev` record runs, and a batching
SQLite event store so a full load's per-partition bookkeeping doesn't dominate its run time.

Dagster records one materialization event per partition: a full load of one collection over a year
is ~400 events, and OSS SQLite storage opens two new SQLAlchemy engines per event (~10-20 ms each),
so bookkeeping, not data, set the pace (measured: 67 s of 76 s for eight small collections).
With DAGSTER_EVENT_BATCH_SIZE set, Dagster hands a ranged output's materializations to
`store_event_batch`, which the stock SQLite storage still writes one by one; ours writes the batch
in one transaction per shard. It relies on SqlEventLogStorage internals of the pinned Dagster line
(1.13): a test exercises it end to end, and anything unusual falls back to the stock path.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_result

EVENT_BATCH_SIZE = "1000"
_BATCHED = {DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_OBSERVATION}

_DAGSTER_YAML = """\
# Written by kx-lake: the stock SQLite storage with batched asset-event writes.
event_log_storage:
  module: kx_lake.components.dagster_home
  class: BatchingSqliteEventLogStorage
  config:
    base_dir: {base_dir}
telemetry:
  enabled: false
"""


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage whose store_event_batch writes asset events in one transaction."""

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # noqa: ANN001, ANN206 - Dagster's signature
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        run_ids = {e.run_id for e in events}
        if len(events) < 2 or len(run_ids) != 1 or not all(
            e.is_dagster_event and e.dagster_event_type in _BATCHED for e in events
        ):
            super().store_event_batch(events)
            return
        statements = [self.prepare_insert_event(e) for e in events]
        with self.run_connection(run_ids.pop()) as conn:
            for statement in statements:
                conn.execute(statement)
        with self.index_transaction() as conn:
            ids = []
            for statement in statements:
                with db_result(conn, statement) as result:
                    ids.append(result.inserted_primary_key[0])
            self._store_asset_event_tags(conn, list(events), ids)
            for event, event_id in zip(events, ids, strict=True):
                self._store_asset_event(conn, event, event_id)


def ensure_dagster_home(path: Path) -> Path:
    """Create the instance directory with kx-lake's dagster.yaml (kept if the user wrote their own)
    and enable event batching for this process."""
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists():
        config.write_text(_DAGSTER_YAML.format(base_dir=path / "history" / "runs"))
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    # One "planned" event per asset for a partition-range run instead of one per partition.
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    return path
