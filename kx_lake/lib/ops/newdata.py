"""Which collections hold data past their watermark, and on which partition dates it falls.

One query per collection × environment: the documents whose timestamp is newer than the stored
watermark, projected to the timestamp alone. The filter has the window filter's shape (`$or` of a
BSON-date, an epoch-millis and an ISO-text range) so it is right whatever encoding a document uses;
text is selected from a day before the watermark (offsets are within ±14 h) and trimmed exactly on the
client. On MongoDB each branch is an index range scan returning only the new documents; FerretDB v1
scans (it pushes down only `_id` equality) but still ships only new timestamps. A sorted
`find().sort(ts, -1).limit(1)` would be cheaper per query, but across encodings a descending sort
orders by BSON type first (dates before strings before numbers), so it can miss the newest value.

Collections never loaded are reported separately and not requested: a first load is a backfill
(the schedule or an operator starts it), not something a sensor should start on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pymongo import MongoClient

from kx_lake.lib.config import CollectionSpec
from kx_lake.lib.extract.timestamps import to_utc_ms


@dataclass(frozen=True)
class NewData:
    env: str
    database: str
    collection: str
    documents: int
    newest_ms: int
    dates: tuple[date, ...]
    newest_due_ms: int | None = None  # the newest not past `due_until_ms` (None: none, or no bound given)

    @property
    def key_ms(self) -> int:
        """What identifies this news in a run key: a document stamped in the future is found again at
        every look, so only documents up to now (plus skew) tell one look's news from the next."""
        return self.newest_due_ms if self.newest_due_ms is not None else self.newest_ms

    @property
    def name(self) -> str:
        return f"{self.env}/{self.database}.{self.collection}"


def newer_than_filter(timestamp_column: str, after_ms: int) -> dict:
    after = datetime.fromtimestamp(after_ms / 1000, UTC)
    text_from = (after.date() - timedelta(days=1)).isoformat()
    return {
        "$or": [
            {timestamp_column: {"$gt": after}},
            {timestamp_column: {"$gt": after_ms}},
            {timestamp_column: {"$gte": text_from}},
        ]
    }


def find_new_data(client: MongoClient, env: str, spec: CollectionSpec, after_ms: int, tz: ZoneInfo,
                  first_date: date, last_date: date, due_until_ms: int | None = None) -> NewData | None:
    """New documents of one collection (timestamp > after_ms), or None; dates clipped to the partitions."""
    coll = client[spec.database][spec.collection]
    found, newest, dates = 0, after_ms, set()
    newest_due: int | None = None
    cursor = coll.find(newer_than_filter(spec.timestamp_column, after_ms), {spec.timestamp_column: 1, "_id": 0})
    for doc in cursor:
        value = doc
        for part in spec.timestamp_column.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        ts = to_utc_ms(value)
        if ts is None or ts <= after_ms:
            continue
        found += 1
        newest = max(newest, ts)
        if due_until_ms is not None and ts <= due_until_ms:
            newest_due = ts if newest_due is None else max(newest_due, ts)
        day = datetime.fromtimestamp(ts / 1000, UTC).astimezone(tz).date()
        dates.add(min(max(day, first_date), last_date))
    if not found:
        return None
    return NewData(env, spec.database, spec.collection, found, newest, tuple(sorted(dates)), newest_due)
