"""Reading one window into the date spools, one document at a time as far as failures go: the
extraction step both engines share (the local engine scans a collection's whole window in one query;
the Spark engine scans date ranges of it in tasks, lib/spark, each into its own spool).

Each document is decoded, tokenized (pii_columns), placed on its partition date, split from its
partition values and observed by the schema accumulator; whatever of that fails for a document —
invalid UTF-8, a timestamp no partition can hold, a value inference refuses, any other error raised
by that document alone — sends it to the rejects table with the reason, and the rest of the batch
goes on. Only documents that passed every step are spooled, so publication sees no document the
schema has not seen. What fails for the collection as a whole (the source, the configuration, the
disk) is raised, never quarantined.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import bson

from kx_lake.lib import faults
from kx_lake.lib.extract.decode import DICT_OPTIONS, Decoded
from kx_lake.lib.extract.reader import batch_size_for, iter_window
from kx_lake.lib.extract.windows import Bounds, Window, window_filter
from kx_lake.lib.harmonize import SchemaAccumulator
from kx_lake.lib.lake.partition_values import split_leaf
from kx_lake.lib.lake.placement import placement
from kx_lake.lib.lake.rejects import id_key
from kx_lake.lib.lake.spool import DateSpool

# the documents of one window as raw batches: the server's (iter_window), or given by a test
BatchSource = Callable[[Any, dict, str], Iterable[list[Decoded]]]


def read_source(coll, filt: dict, timestamp_column: str, stats=None) -> Iterable[list[Decoded]]:
    return iter_window(coll, filt, timestamp_column, batch_size=batch_size_for(coll), stats=stats)


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _observe(acc: SchemaAccumulator, docs: list[dict]) -> list[str | None]:
    """Observe `docs`; per document, None or why its values cannot be inferred (the schema is then
    left as if it had never been seen)."""
    try:
        acc.observe_many(docs)
        return [None] * len(docs)
    except Exception:  # noqa: BLE001 - some document is bad: find which, one at a time
        out: list[str | None] = []
        for doc in docs:
            try:
                acc.observe(doc)
                out.append(None)
            except Exception as exc:  # noqa: BLE001 - this document's own problem, quarantined
                out.append(f"its values cannot be harmonized: {_why(exc)}")
        return out


def scan_window(
    client, spec, window: Window, wanted: set[date], spool: DateSpool, acc: SchemaAccumulator, staged,
    bounds: Bounds | None = None, source: BatchSource | None = None, *, sweep: bool = True,
    fallback_wanted: set[date] | None = None,
) -> dict[str, int]:
    """Read a window, spool and observe the documents of the wanted dates; count partition columns seen.
    With `bounds`, documents no partition can hold are rejected (staged.rejects), never skipped; `sweep`
    (default) also asks the source for them — a window split into ranges sweeps in one range only.
    Documents placed by `timestamp_fallback` are found by the sweep only, so they are kept when their
    date is in `fallback_wanted` (default `wanted`: the sweeping range is given every wanted date).
    They do not move the watermark: it follows the timestamps the source filters on."""
    coll = client[spec.database][spec.collection]
    filt = window_filter(spec.timestamp_column, window, bounds if sweep else None)
    staged.source_filter = filt
    seen = dict.fromkeys(spec.partition_columns, 0)
    tz, tokenize, columns = window.tz, staged.tokenizer, spec.partition_columns
    rejects = staged.rejects
    fallback_wanted = wanted if fallback_wanted is None else fallback_wanted
    batches = (source or read_source)(coll, filt, spec.timestamp_column, **({} if source else {"stats": staged.read}))
    for batch in batches:
        kept: list[tuple[date, bytes, dict, int, dict]] = []
        for item in batch:
            raw: bytes | None = item.raw if tokenize is None else None  # never keep clear PII in a reject
            doc = item.doc
            try:
                if doc is None:  # not even an _id: the reject is keyed by the bytes
                    rejects.append_undecodable(item.problem or "not decodable", item.raw, item.position,
                                               keep_bytes=tokenize is None)
                    continue
                if tokenize is not None:  # before anything is written, spool and rejects included
                    doc = tokenize(doc)
                    raw = bson.encode(doc, codec_options=DICT_OPTIONS)
                elif item.problem is not None:
                    raw = bson.encode(doc, codec_options=DICT_OPTIONS)  # the readable stand-in: valid UTF-8
                if item.problem is not None:
                    rejects.append(item.problem, raw, doc)
                    continue
                ts_ms, why, fallback = placement(doc, spec, tz, bounds)
                if ts_ms is None:
                    # unbounded scans are a widening's re-extraction of older dates: this run's bounded
                    # scan (or the full load's) already swept and rejected what no partition can hold
                    if bounds is not None:
                        rejects.append(why, raw, doc)
                    continue
                day = window.date_of_ms(ts_ms)
                if day not in (fallback_wanted if fallback else wanted):
                    if fallback:  # found by every run's sweep: counted, never dropped unsaid
                        staged.fallback_deferred += 1
                    continue  # another date's document (text margins, a range's neighbour): its own run lands it
                present = {col: doc.get(col) is not None for col in columns}
                split_leaf(doc, columns)
            except Exception as exc:  # noqa: BLE001 - this document's own problem, quarantined
                rejects.append(f"could not be staged: {_why(exc)}", raw, {"_id": (item.doc or {}).get("_id")})
                continue
            # raw: the whole document (tokenized), as spooled; a fallback placement has no watermark time
            kept.append((day, raw, doc, None if fallback else ts_ms, present))
        problems = _observe(acc, [k[2] for k in kept])
        for (day, raw, doc, ts_ms, present), problem in zip(kept, problems, strict=True):
            if problem is not None:
                rejects.append(problem, raw, doc)
                continue
            for col, there in present.items():
                seen[col] += there
            spool.append(day, raw)
            if staged.open_rejects:
                key = id_key(doc)
                if key in staged.open_rejects:
                    staged.landed_rejects.add(key)
            staged.rows_by_date[day] = staged.rows_by_date.get(day, 0) + 1
            if ts_ms is None:
                continue
            staged.min_ts_ms = ts_ms if staged.min_ts_ms is None else min(staged.min_ts_ms, ts_ms)
            staged.max_ts_ms = ts_ms if staged.max_ts_ms is None else max(staged.max_ts_ms, ts_ms)
        faults.reached("extract_batch")
    return seen
