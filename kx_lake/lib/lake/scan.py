"""Reading one window of a collection into a spool: the extraction step both engines share.

The local engine scans a collection's whole window in one query; the Spark engine scans date ranges
of it in tasks (kx_lake.lib.spark), each into its own spool. Either way every document goes through
this one function: PII tokenized before anything is written, placed on its partition date, rejected
with a reason when no partition can hold it, and observed by the schema accumulator.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Protocol

import bson
from pymongo import MongoClient

from kx_lake.lib.config import CollectionSpec
from kx_lake.lib.extract.reader import DICT_OPTIONS, iter_window
from kx_lake.lib.extract.windows import Bounds, Window, window_filter
from kx_lake.lib.harmonize import SchemaAccumulator
from kx_lake.lib.lake.partition_values import split_leaf
from kx_lake.lib.lake.placement import placement
from kx_lake.lib.lake.rejects import id_key

if TYPE_CHECKING:
    from kx_lake.lib.lake.pipeline import StagedCollection


class Spool(Protocol):
    def append(self, day: date, raw: bytes) -> None: ...


def scan_window(
    client: MongoClient, spec: CollectionSpec, window: Window, wanted: set[date],
    spool: Spool, acc: SchemaAccumulator, staged: StagedCollection, bounds: Bounds | None = None,
    *, sweep: bool = True,
) -> dict[str, int]:
    """Read a window, spool and observe the documents of the wanted dates; count partition columns seen.
    With `bounds`, documents no partition can hold are rejected (staged.rejects), never skipped; `sweep`
    (default) also asks the source for them — a window split into ranges sweeps in one range only."""
    coll = client[spec.database][spec.collection]
    filt = window_filter(spec.timestamp_column, window, bounds if sweep else None)
    staged.source_filter = filt
    seen = dict.fromkeys(spec.partition_columns, 0)
    tz, tokenize = window.tz, staged.tokenizer
    for batch in iter_window(coll, filt, spec.timestamp_column, stats=staged.read):
        kept = []
        for raw, doc in batch:
            raw_bytes = raw.raw
            if tokenize is not None:  # before anything is written, spool and rejects included
                doc = tokenize(doc)
                raw_bytes = bson.encode(doc, codec_options=DICT_OPTIONS)
            ts_ms, why = placement(doc, spec, tz, bounds)
            if ts_ms is None:
                if staged.rejects is not None:
                    staged.rejects.append(why, raw_bytes, doc)
                continue
            day = window.date_of_ms(ts_ms)
            if day not in wanted:
                continue
            for col in spec.partition_columns:
                if doc.get(col) is not None:
                    seen[col] += 1
            split_leaf(doc, spec.partition_columns)
            spool.append(day, raw_bytes)
            kept.append(doc)
            if staged.open_rejects:
                key = id_key(doc)
                if key in staged.open_rejects:
                    staged.landed_rejects.add(key)
            staged.rows_by_date[day] = staged.rows_by_date.get(day, 0) + 1
            staged.min_ts_ms = ts_ms if staged.min_ts_ms is None else min(staged.min_ts_ms, ts_ms)
            staged.max_ts_ms = ts_ms if staged.max_ts_ms is None else max(staged.max_ts_ms, ts_ms)
        acc.observe_many(kept)
    return seen
