"""What makes a row one version of one document: `_id` (as text), its BSON type, and the timestamp.

`_id` is stored as text (ObjectId → hex) so joins stay simple; `_kx_id_type` beside it keeps ids
that render alike apart (ObjectId('65a1…') and '65a1…', 1 and '1'). The column is added by the
pipeline, not the harmonizer: it describes the document, not one of its fields, and a document key
that happens to be named `_kx_id_type` is stored as `_kx_id_type_` (it is a reserved column).
"""

from __future__ import annotations

import pyarrow as pa

from kx_lake.lib.config import CollectionSpec
from kx_lake.lib.harmonize import StructType
from kx_lake.lib.harmonize.types import STRING
from kx_lake.lib.lake.rejects import id_type
from kx_lake.lib.lake.tombstones import DELETED_COLUMN

ID_TYPE_COLUMN = "_kx_id_type"


def reserved_columns(spec: CollectionSpec) -> tuple[str, ...]:
    """Top-level columns no document key may take (a key named like one is stored as `<name>_`)."""
    return ("date", ID_TYPE_COLUMN, DELETED_COLUMN, *spec.partition_columns)


def with_id_type(schema: StructType) -> StructType:
    """The lake schema plus `_kx_id_type`: the BSON type of `_id` beside its text, so two documents whose
    `_id`s render alike (ObjectId('65a1…') and '65a1…', 1 and '1') stay two rows in `_latest`."""
    if ID_TYPE_COLUMN in schema.names:
        return schema
    return StructType.of({**dict(schema.fields), ID_TYPE_COLUMN: STRING})


def fill_id_type(batch: pa.RecordBatch, docs: list[dict]) -> pa.RecordBatch:
    index = batch.schema.get_field_index(ID_TYPE_COLUMN)
    values = pa.array([id_type(d.get("_id")) for d in docs], pa.string())
    return batch.set_column(index, batch.schema.field(index), values)


def version_keys(table: pa.Table | pa.RecordBatch, ts_column: str) -> list[tuple]:
    """(`_id`, `_kx_id_type`, timestamp ms) per row: one version of one document."""
    ts = table.column(ts_column).cast(pa.int64()).to_pylist()
    return list(zip(table.column("_id").to_pylist(), table.column(ID_TYPE_COLUMN).to_pylist(), ts, strict=True))
