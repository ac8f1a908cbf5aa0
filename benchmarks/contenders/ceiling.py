"""The read ceiling: kx-lake's own window queries (same filter, same (timestamp, _id) order, same
batch size) read from the same server and thrown away — with pymongo raw batches (no decoding at
all) and with pymongoarrow (decoded into Arrow, schema inferred per batch). Nothing can extract these
windows faster from this source, so it bounds every contender."""

from __future__ import annotations

import bson
from bson.raw_bson import RawBSONDocument
from bson.codec_options import DEFAULT_CODEC_OPTIONS

from benchmarks.contenders.plan import Plan, window_of

_RAW = DEFAULT_CODEC_OPTIONS.with_options(document_class=RawBSONDocument)


def run(plan: Plan, mode: str) -> dict:
    from pymongo import MongoClient

    from kx_lake.lib.config import ProjectConfig, Settings
    from kx_lake.lib.extract.windows import window_filter
    from kx_lake.lib.source.uri import resolve_mongo_uri

    project = ProjectConfig.load(Settings.resolve())
    client = MongoClient(resolve_mongo_uri(project, plan.env), tz_aware=True)
    docs = nbytes = 0
    failed: dict[str, str] = {}
    per: dict[str, int] = {}
    per_bytes: dict[str, int] = {}
    for item in plan.items:
        coll = client[item.database][item.collection]
        filt = window_filter(item.timestamp_column, window_of(project, plan.env, item))
        sort = [(item.timestamp_column, 1), ("_id", 1)]
        try:
            if mode == "raw":
                n = 0
                for batch in coll.find_raw_batches(filt, sort=sort, batch_size=5000, allow_disk_use=True):
                    n += len(bson.decode_all(batch, _RAW))
                    nbytes += len(batch)
                    per_bytes[item.collection] = per_bytes.get(item.collection, 0) + len(batch)
            else:
                from pymongoarrow.api import find_arrow_all

                n = find_arrow_all(coll, filt, sort=sort, batch_size=5000, allow_disk_use=True,
                                   allow_invalid=True).num_rows  # mixed types → null, else it raises
        except Exception as exc:  # noqa: BLE001 - a type pymongoarrow cannot infer is a result, not a crash
            failed[item.collection] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        per[item.collection] = n
        docs += n
    client.close()
    return {"documents": docs, "bytes": nbytes if mode == "raw" else None, "collections": len(plan.items),
            "failed": failed, "per_collection": per, "per_collection_bytes": per_bytes}
