"""A SQLite event store that writes a batch of asset events in one transaction.

Dagster records one materialization event per partition: a full load of one collection over a year
is ~400 events, and OSS SQLite storage opens two new SQLAlchemy engines per event (~10-20 ms each),
so bookkeeping, not data, set the pace (measured: 67 s of 76 s for eight small collections). With
DAGSTER_EVENT_BATCH_SIZE set, Dagster hands a ranged output's materializations to
`store_event_batch`, which the stock SQLite storage still writes one by one; this one writes the
batch in one transaction per shard and updates each asset's row once per batch.

It re-implements the asset branch of the stock `store_event` with members of SqlEventLogStorage
that are not public API (`REQUIRED_MEMBERS`). That is only safe on the Dagster release it was
checked against, so `dagster_home.batching_problems()` guards it: a different Dagster version, a
missing member or a failed import means stock storage with a warning, never a silently partial write.
Only this module imports Dagster's private modules; `dagster_home` imports it inside that guard.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import dagster as dg
import sqlalchemy.exc as db_exc
from dagster._core.storage.event_log.schema import AssetKeyTable  # no public equivalent
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage  # no public equivalent

# Every SqlEventLogStorage member the batched branch calls; the guard checks each is present.
REQUIRED_MEMBERS = (
    "store_event",
    "prepare_insert_event",
    "run_connection",
    "index_transaction",
    "_store_asset_event_tags",
    "_has_asset_key_index_cols_on_connection",
    "_get_asset_entry_values",
)
# The event kinds whose stock handling (insert, mirror into the index shard, tags, asset row) the
# batched branch reproduces; a batch holding anything else goes to the stock path whole.
BATCHED_EVENT_TYPES = frozenset({dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_OBSERVATION})


def missing_members() -> list[str]:
    return [m for m in REQUIRED_MEMBERS if not callable(getattr(SqliteEventLogStorage, m, None))]


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage whose store_event_batch writes asset events in one transaction.

    `batched_events` counts the events written by the batched branch (tests and benchmarks read it)."""

    batched_events = 0

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # noqa: ANN001, ANN206 - Dagster's signature
        from kx_lake.builders.dagster_home import batching_problems

        problems = batching_problems()
        if problems:  # a dagster.yaml written under another Dagster release: stock storage
            warnings.warn(f"kx-lake: stock SQLite event storage ({'; '.join(problems)})", stacklevel=2)
            return SqliteEventLogStorage(inst_data=inst_data, **config_value)
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[dg.EventLogEntry]) -> None:
        run_ids = {e.run_id for e in events}
        if len(events) < 2 or len(run_ids) != 1 or not all(
            e.is_dagster_event and e.dagster_event_type in BATCHED_EVENT_TYPES and e.dagster_event.asset_key
            for e in events
        ):
            super().store_event_batch(events)
            return
        statements = [self.prepare_insert_event(e) for e in events]
        with self.run_connection(run_ids.pop()) as conn:
            for statement in statements:
                conn.execute(statement)
        with self.index_transaction() as conn:  # the mirror in the cross-run index shard, as store_event does
            ids = []
            for statement in statements:
                result = conn.execute(statement)
                ids.append(result.inserted_primary_key[0])
                result.close()
            self._store_asset_event_tags(conn, list(events), ids)
            self._store_asset_entries(conn, events, ids)
        self.batched_events += len(events)

    def _store_asset_entries(self, conn, events: Sequence[dg.EventLogEntry], ids: list[int]) -> None:  # noqa: ANN001
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
