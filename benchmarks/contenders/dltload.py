"""The peer: dlt loading the same collections into its filesystem destination as Parquet.

Written the way dlt documents MongoDB loading (its `mongodb` verified source, which is not a pip
package, reduced to what this needs): one resource per collection with `dlt.sources.incremental` on
the collection's timestamp column, a server-side `$gte last_value` filter sorted by the cursor,
chunks of 10,000 documents, and the BSON types dlt cannot take (ObjectId, Decimal128, Regex,
Timestamp) converted — to text, as the verified source does. `object` yields converted dicts (the
verified source's default); `arrow` yields pymongoarrow tables (its `data_item_format="arrow"`; values that do not
match the batch's inferred type become null — pymongoarrow's allow_invalid, lossy but it would
otherwise fail on the mixed-type fields).
Write disposition is `append`: merge on the filesystem destination needs delta/iceberg tables.
The cursor lives in dlt's pipeline state, so the second run is dlt's own incremental cycle.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from benchmarks.contenders.plan import Item, Plan

CHUNK = 10_000


def _convert(value: Any) -> Any:
    from bson import Decimal128, ObjectId, Regex, Timestamp

    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_convert(v) for v in value]
    if isinstance(value, (ObjectId, Decimal128)):
        return str(value)
    if isinstance(value, Regex):
        return value.pattern
    if isinstance(value, Timestamp):
        return value.as_datetime()
    return value


def _initial_value(item: Item, start: datetime) -> Any:
    if item.timestamp_encoding == "epoch_ms":
        return int(start.timestamp() * 1000)
    if item.timestamp_encoding == "iso_string":
        return start.strftime("%Y-%m-%d")
    return start


def _resource(uri: str, item: Item, start: datetime, data_format: str):  # noqa: ANN202
    import dlt

    # the incremental must be the generator's default argument: dlt binds it to the resource from there
    @dlt.resource(name=item.collection, table_name=item.collection, primary_key="_id", write_disposition="append")
    def documents(cursor=dlt.sources.incremental(item.timestamp_column,  # noqa: ANN202, B008
                                                 initial_value=_initial_value(item, start),
                                                 on_cursor_value_missing="include")):
        from pymongo import MongoClient

        client = MongoClient(uri, tz_aware=True)
        coll = client[item.database][item.collection]
        filt = {item.timestamp_column: {"$gte": cursor.last_value}}
        sort = [(item.timestamp_column, 1)]
        try:
            if data_format == "arrow":
                from pymongoarrow.context import PyMongoArrowContext
                from pymongoarrow.lib import process_bson_stream

                for batch in coll.find_raw_batches(filt, sort=sort, batch_size=CHUNK):
                    context = PyMongoArrowContext(None, codec_options=coll.codec_options, allow_invalid=True)
                    process_bson_stream(batch, context)
                    yield _arrow_columns(context.finish())
            else:
                chunk: list[dict] = []
                for doc in coll.find(filt, sort=sort, batch_size=CHUNK):
                    chunk.append(_convert(doc))
                    if len(chunk) >= CHUNK:
                        yield chunk
                        chunk = []
                if chunk:
                    yield chunk
        finally:
            client.close()

    return documents()


def _arrow_columns(table):  # noqa: ANN001, ANN202 - as the verified source: ObjectId/Decimal128 → text
    import pyarrow as pa
    from pymongoarrow.types import _is_decimal128, _is_objectid

    for i, field in enumerate(table.schema):
        if _is_objectid(field.type) or _is_decimal128(field.type):
            table = table.set_column(i, pa.field(field.name, pa.string()),
                                     pa.array([str(v) for v in table[field.name]], type=pa.string()))
    return table


def run(plan: Plan, workdir: Path, data_format: str = "object") -> dict:
    import dlt

    from kx_lake.lib.config import ProjectConfig, Settings
    from kx_lake.lib.source.uri import resolve_mongo_uri

    project = ProjectConfig.load(Settings.resolve())
    uri = resolve_mongo_uri(project, plan.env)
    tz = project.environment(plan.env).tz
    start = datetime.combine(project.partitions_start, time(), tz).astimezone(UTC)
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{plan.env}", pipelines_dir=str(workdir / "pipelines"), dataset_name=plan.env,
        destination=dlt.destinations.filesystem(bucket_url=(workdir / "lake").as_uri()), progress=None,
    )
    resources = [_resource(uri, item, start, data_format) for item in plan.items]
    info = pipeline.run(resources, loader_file_format="parquet")
    rows = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace.last_normalize_info else {}
    top = {c: int(rows.get(c, 0)) for c in plan.collections}
    failed = {j.job_file_info.table_name: str(j.failed_message)[:300]
              for p in info.load_packages for j in p.jobs.get("failed_jobs", [])}
    return {"documents": sum(top.values()), "bytes": None, "collections": len(plan.items), "failed": failed,
            "per_collection": top, "child_table_rows": sum(int(v) for k, v in rows.items()
                                                           if k not in top and not k.startswith("_dlt"))}
