"""The zero-rows guard: a sync that extracted nothing newer than the watermark while the source holds
newer documents in the same window is a loud error, not a silent zero-row success.

This is the failure mode peers' users report most (watermark type or timezone mismatch → empty
loads for days). The check asks the source independently of the extraction path: candidates newer
than the watermark in each encoding (dates and numbers compared on the server, text by a date
prefix and parsed here), limited to a handful of documents.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from pymongo import MongoClient

from kx_lake.lib.config import CollectionSpec
from kx_lake.lib.extract.timestamps import to_utc_ms
from kx_lake.lib.extract.windows import Window, window_filter

if TYPE_CHECKING:
    from kx_lake.lib.lake.pipeline import StagedCollection

_SAMPLE = 50


class WatermarkGuardError(RuntimeError):
    """The source has documents newer than the watermark in the window, but none were extracted."""


def newer_than_filter(column: str, watermark_ms: int) -> dict:
    instant = datetime.fromtimestamp(watermark_ms / 1000, UTC)
    prefix = (instant - timedelta(days=1)).date().isoformat()
    return {"$or": [{column: {"$gt": instant}}, {column: {"$gt": watermark_ms}}, {column: {"$gte": prefix}}]}


def check_watermark(
    client: MongoClient, spec: CollectionSpec, window: Window, wanted: set[date], staged: StagedCollection, env: str
) -> None:
    wm = staged.state_before.watermark_ms
    if wm is None or window.end_ms <= wm or len(wanted) != len(window.dates()):
        return
    if staged.max_ts_ms is not None and staged.max_ts_ms > wm:
        return
    coll = client[spec.database][spec.collection]
    query = {"$and": [window_filter(spec.timestamp_column, window), newer_than_filter(spec.timestamp_column, wm)]}
    newer = []
    for doc in coll.find(query, {spec.timestamp_column: 1}).limit(_SAMPLE):
        ts = to_utc_ms(doc.get(spec.timestamp_column))
        if ts is not None and ts > wm and window.start_ms <= ts < window.end_ms:
            newer.append(doc.get("_id"))
    if newer:
        raise WatermarkGuardError(
            f"{env}/{spec.database}.{spec.collection}: the source holds {len(newer)}+ document(s) newer than the "
            f"watermark {datetime.fromtimestamp(wm / 1000, UTC).isoformat()} in {window.first}..{window.last} "
            f"(e.g. _id={newer[0]!r}) but the sync extracted none; refusing a silent zero-row load"
        )
