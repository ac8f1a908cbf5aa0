"""The local Dagster instance: where `kx-lake sync` and `make dev` record runs, and a batching
SQLite event store so a full load's per-partition bookkeeping doesn't dominate its run time.

Dagster records one materialization event per partition: a full load of one collection over a year
is ~400 events, and OSS SQLite storage opens two new SQLAlchemy engines per event (~10-20 ms each),
so bookkeeping, not data, set the pace (measured: 67 s of 76 s for eight small collections).
With DAGSTER_EVENT_BATCH_SIZE set, Dagster hands a ranged output's materializations to
`store_event_batch`, which the stock SQLite storage still writes one by one; ours writes the batch
in one transaction per shard, and updates each asset's row once per batch, not once per partition. It relies on SqlEventLogStorage internals of the pinned Dagster line
(1.13): a test exercises it end to end, and anything unusual falls back to the stock path.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy.exc as db_exc
from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import AssetKeyTable
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
# One sync per environment: queued runs carrying the same environment tag start one at a time
# (kx_lake/env on the CLI's, schedule's and sensor's runs; dagster/partition/env on a UI launch of
# one partition). In-process runs skip the queue: the lake's lease (components/run_lease.py) binds them.
concurrency:
  runs:
    tag_concurrency_limits:
      - key: kx_lake/env
        value:
          applyLimitPerUniqueValue: true
        limit: 1
      - key: dagster/partition/env
        value:
          applyLimitPerUniqueValue: true
        limit: 1
"""


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage whose store_event_batch writes asset events in one transaction."""

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # noqa: ANN001, ANN206 - Dagster's signature
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        run_ids = {e.run_id for e in events}
        if len(events) < 2 or len(run_ids) != 1 or not all(
            e.is_dagster_event and e.dagster_event_type in _BATCHED and e.dagster_event.asset_key for e in events
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
            self._store_asset_entries(conn, events, ids)

    def _store_asset_entries(self, conn, events: Sequence[EventLogEntry], ids: list[int]) -> None:  # noqa: ANN001
        """The asset-key rows, written once per (asset, event type) instead of once per event.

        Each event type overwrites a fixed set of columns of its asset's row (the last
        materialization, run id, timestamp), so applying only the last event of each type per asset,
        in the batch's order, leaves the same row; a full load's batch holds hundreds of partition
        materializations of one asset, each re-serialized by the stock path (40% of its cost)."""
        last: dict[tuple[str, str], int] = {}
        for i, event in enumerate(events):
            last[(event.dagster_event.asset_key.to_string(), event.dagster_event_type.value)] = i
        has_index_cols = self._has_asset_key_index_cols_on_connection(conn)  # a schema inspection: once
        for i in sorted(last.values()):
            event, key = events[i], events[i].dagster_event.asset_key.to_string()
            values = self._get_asset_entry_values(event, ids[i], has_index_cols)
            if not values:
                continue
            try:
                conn.execute(AssetKeyTable.insert().values(asset_key=key, **values))
            except db_exc.IntegrityError:
                conn.execute(AssetKeyTable.update().values(**values).where(AssetKeyTable.c.asset_key == key))


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
