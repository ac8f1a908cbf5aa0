"""Re-materializing a date merges: which rows of the date's existing files stay, in the new schema.

Every version not extracted again stays — history of documents that changed since, documents purged
or moved at the source — so the lake never shrinks because the source did; the same version
(`_id`, `_kx_id_type`, timestamp) extracted again replaces its copy. When the schema widened, the kept
rows are rewritten from the files (harmonize.rewiden); a version that cannot be rewritten from its
file and was not extracted again fails the collection rather than being dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pyarrow as pa

from kx_lake.lib.harmonize.names import mapped_path, reserved_names
from kx_lake.lib.harmonize.lake_render import DOUBLES_AS_STORED, INTEGRAL_DOUBLE
from kx_lake.lib.harmonize.rewiden import NotWidenableFromLake, widen_batch
from kx_lake.lib.lake.identity import ID_TYPE_COLUMN, reserved_columns, version_keys
from kx_lake.lib.lake.tombstones import DELETED_COLUMN, conform_to


class MergeError(ValueError):
    """Existing lake rows that cannot be kept as they are nor rewritten; the message names the collection."""


def keep_existing(staged, tz, leaves: dict) -> Callable[[pa.Table], pa.Table]:
    """The rows of a date's existing files that stay when the date is re-materialized: every version
    not extracted again (history, documents purged or moved at the source), in the new schema."""
    spec, old, new = staged.spec, staged.state_before.schema, staged.schema
    ts_column = mapped_path(spec.timestamp_column, reserved_names(reserved_columns(spec)))[0]
    replaced: set[tuple] | None = None
    building = threading.Lock()  # leaves are written on several threads; the set is built once
    tombstone_flag = pa.schema([f for f in new.to_arrow_schema() if f.name == DELETED_COLUMN])

    def keep(table: pa.Table) -> pa.Table:
        nonlocal replaced
        table = conform_to(table, tombstone_flag)  # files from before the first tombstone lack the column
        with building:
            if replaced is None:  # only dates that already have files pay for this
                replaced = {k for batches in leaves.values() for b in batches for k in version_keys(b, ts_column)}
        if ID_TYPE_COLUMN not in table.column_names:
            raise MergeError(f"{staged.name}: a lake file has no {ID_TYPE_COLUMN} column (written by an "
                                      "older kx-lake); rebuild the table once (delete it and its state, then sync)")
        mask = pa.array([k not in replaced for k in version_keys(table, ts_column)], pa.bool_())
        kept = table.filter(mask)
        if old is None or old == new or not kept.num_rows:
            return kept
        widen = lambda: widen_batch(kept, old, new, tz=tz, timestamp_column=spec.timestamp_column,  # noqa: E731
                                    timestamp_encoding=spec.timestamp_encoding,
                                    reserved_columns=("date", *spec.partition_columns))
        try:
            return widen()
        except NotWidenableFromLake as exc:
            if exc.reason != INTEGRAL_DOUBLE:
                raise MergeError(
                    f"{staged.name}: {kept.num_rows} version(s) already in the lake can't be rewritten to the widened "
                    f"schema from the files ({exc}) and were not extracted again; refusing to drop them"
                ) from exc
        # versions the source no longer gives (history, purged): their integral doubles become the text of
        # the double they are stored as (860.0 -> "860.0"); the value is exact, only an int's spelling is not
        token = DOUBLES_AS_STORED.set(True)
        try:
            return widen()
        except NotWidenableFromLake as exc:
            raise MergeError(
                f"{staged.name}: {kept.num_rows} version(s) already in the lake can't be rewritten to the widened "
                f"schema from the files ({exc}) and were not extracted again; refusing to drop them"
            ) from exc
        finally:
            DOUBLES_AS_STORED.reset(token)

    return keep
