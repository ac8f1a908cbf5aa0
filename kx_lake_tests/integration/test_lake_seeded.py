"""The lake on seeded synthetic HIMS data (env2 of the real local FerretDB): a full load of every
collection carrying a documented mess (MESSES, plus `attendance`, whose documents have a top-level
`date` key, and `beds`, see below) is exactly MongoDB — same `_id`s, each once, every leaf of every document found in its
row, each row in the partition its timestamp and facility say — and after `mutate_environment`
simulates two more days, an incremental sync brings the lake back to exactly MongoDB: for every
`_id` the lake's latest version equals the document, and updated documents moved to their new date.

An updated document whose previous date lies before the incremental range keeps its old row there
(by design: only the synced dates are replaced; the dedup views pick the latest version), so the
incremental assertions compare the latest version per `_id` and check that any older copy lies
outside the re-materialized range.

Why `beds`: at this scale two simulated days resolve none of the open work items (appointments,
bills, discharges...), so `mutate_environment` updates no document of the mess collections; the bed
status changes are the updates it does make (measured: {'beds': 3}). Syncing `beds` too keeps the
"an updated document moves to its new date" case real instead of vacuous.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bson.codec_options import CodecOptions, DatetimeConversion

from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.config import CollectionSpec, ProjectConfig, TimestampEncoding
from kx_lake.lib.harmonize import check_round_trip
from kx_lake.lib.lake.placement import pii_tokenizer
from kx_lake.lib.lake.plan import plan_sync
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.storage import LakeStorage
from kx_lake.lib.synth import MESSES, mutate_environment, seed_environment
from kx_lake_tests.fixtures.scratch_lake import scratch_project

pytestmark = pytest.mark.integration

ENV = "env2"
AS_OF = date(2026, 6, 30)
SEED = 7
COLLECTIONS = sorted({m.collection for m in MESSES} | {"attendance", "beds"})
# what the lake would see with tz-aware decoding; datetimes beyond Python's range stay DatetimeMS
CODEC = CodecOptions(tz_aware=True, datetime_conversion=DatetimeConversion.DATETIME_AUTO)


def lake_id(value: object) -> str:
    return str(value)  # ObjectId → 24 hex digits; strings and numbers → their text


def path_value(value: object) -> str | None:
    """A partition column's value as the path holds it (only strings and ints occur in the seed)."""
    if value is None or value == "":
        return None
    return str(value)


def source_ms(value: object, encoding: TimestampEncoding) -> int:
    """UTC epoch millis of a stored timestamp, computed here independently of the pipeline."""
    if isinstance(value, datetime):
        return int(value.astimezone(UTC).timestamp() * 1000)
    if isinstance(value, str):
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    return int(value)


class LakeTable:
    """Every row of a collection's table, conformed to the catalog schema (files are read by name, as
    Athena and DuckDB do: a column added after a file was written is null in it), with each row's
    partition date and id values from its path."""

    def __init__(self, storage: LakeStorage, spec: CollectionSpec):
        state = CollectionState.read(storage, ENV, spec.database, spec.collection)
        assert state.schema is not None, f"{spec.collection}: no lake schema persisted"
        self.state = state
        target = state.schema.to_arrow_schema()
        tables, self.dates, self.ids = [], [], []
        for part in storage.list_partitions(ENV, spec.database, spec.collection):
            with storage.fs.open(part.path, "rb") as fh:
                table = pq.read_table(fh)
            for f in table.schema:
                assert f.name in target.names, f"{part.path}: column {f.name} not in the catalog schema"
                assert f.type == target.field(f.name).type, f"{part.path}: {f.name} is {f.type}, catalog says " \
                                                            f"{target.field(f.name).type}"
            columns = [table.column(f.name) if f.name in table.schema.names
                       else pa.nulls(table.num_rows, f.type) for f in target]
            tables.append(pa.Table.from_arrays(columns, schema=target))
            self.dates += [part.date] * table.num_rows
            self.ids += [dict(part.ids)] * table.num_rows
        self.table = pa.concat_tables(tables) if tables else target.empty_table()
        self.row_ids: list[str] = self.table.column("_id").to_pylist()
        ts = spec.timestamp_column
        self.stamps: list[datetime] = self.table.column(ts).to_pylist()  # naive IST wall clock (ms)


def source_docs(client, spec: CollectionSpec, project: ProjectConfig) -> list[dict]:
    """The collection as the lake must hold it: pii_columns tokenized with the env's key (lake.placement)."""
    coll = client[spec.database].get_collection(spec.collection, codec_options=CODEC)
    tokenize = pii_tokenizer(project, ENV, spec)
    return [tokenize(d) if tokenize else d for d in coll.find()]


def check_rows(project: ProjectConfig, spec: CollectionSpec, docs: list[dict], lake: LakeTable,
               rows: list[int]) -> list[str]:
    """Round trip of docs[i] against lake row rows[i], plus the row's partition date and id values."""
    tz = project.environment(ENV).tz
    problems = []
    stripped = []
    for doc, row in zip(docs, rows, strict=True):
        day = datetime.fromtimestamp(source_ms(doc[spec.timestamp_column], spec.timestamp_encoding) / 1000,
                                     UTC).astimezone(tz).date()
        if lake.dates[row] != day:
            problems.append(f"_id={doc['_id']!r}: in date={lake.dates[row]}, its timestamp says {day}")
        d = dict(doc)
        for col in spec.partition_columns:
            want = path_value(d.pop(col, None))
            if lake.ids[row].get(col) != want:
                problems.append(f"_id={doc['_id']!r}: {col}={lake.ids[row].get(col)!r} in the path, {want!r} in MongoDB")
        stripped.append(d)
    problems += check_round_trip(
        stripped, lake.table.take(rows), lake.state.schema, tz=tz, timestamp_column=spec.timestamp_column,
        timestamp_encoding=spec.timestamp_encoding, reserved_columns=("date", *spec.partition_columns),
    )
    return problems


@pytest.fixture(scope="module")
def seeded_lake(local_source, tmp_path_factory: pytest.TempPathFactory):
    """env2 seeded with the repo's own configuration; a lake root of its own."""
    root = tmp_path_factory.mktemp("seeded-lake") / "lake"
    with pytest.MonkeyPatch.context() as mp:
        project = scratch_project(mp, local_source.settings.home, root)
        client = local_source.client(ENV)
        seed_environment(client, project, ENV, scale=0.002, seed=SEED, as_of=AS_OF)
        from kx_lake.definitions import defs

        yield project, defs(), client, LakeStorage.from_root(str(root))


def sync(project: ProjectConfig, defs, **plan_kwargs):
    specs = [project.collection(c) for c in COLLECTIONS]
    groups = plan_sync(project, ENV, specs, **plan_kwargs)
    summary = run_sync(defs, "sync_collections", groups, instance=dg.DagsterInstance.ephemeral())
    failed = {f"{r.database}.{r.collection}": r.error for r in summary.results if not r.ok}
    assert not failed, failed
    assert sorted(r.collection for r in summary.results) == COLLECTIONS
    return groups, summary


def test_full_load_then_incremental_sync_of_seeded_data_is_exactly_mongodb(seeded_lake) -> None:
    project, defs, client, storage = seeded_lake
    tz = project.environment(ENV).tz
    specs = [project.collection(c) for c in COLLECTIONS]
    assert "date" in client.hims_hr.attendance.find_one({})  # the reserved-name case is really exercised

    # --- full load -------------------------------------------------------------------------------
    groups, _ = sync(project, defs, all_dates=True, now=datetime.combine(AS_OF, time(12), tz))
    assert [(g.first, g.last, g.full_load) for g in groups] == [(project.partitions_start, AS_OF, True)]
    before: dict[str, dict[str, int]] = {}
    for spec in specs:
        docs = source_docs(client, spec, project)
        lake = LakeTable(storage, spec)
        ids = [lake_id(d["_id"]) for d in docs]
        assert docs, spec.collection
        assert len(lake.row_ids) == len(docs), f"{spec.collection}: {len(lake.row_ids)} rows for {len(docs)} documents"
        assert len(set(lake.row_ids)) == len(lake.row_ids), f"{spec.collection}: duplicate _ids in the lake"
        assert set(lake.row_ids) == set(ids), spec.collection
        index = {v: i for i, v in enumerate(lake.row_ids)}
        problems = check_rows(project, spec, docs, lake, [index[i] for i in ids])
        assert problems == [], f"{spec.collection}: {problems[:5]}"
        before[spec.collection] = {lake_id(d["_id"]): source_ms(d[spec.timestamp_column], spec.timestamp_encoding)
                                   for d in docs}

    # --- two more simulated days, then an incremental sync ----------------------------------------
    report = mutate_environment(client, project, ENV, days=2, seed=SEED)
    assert report.first_day == AS_OF and sum(report.updated.get(c, 0) for c in COLLECTIONS) > 0, report.updated
    now = datetime.combine(report.last_day, time(23), tz)
    groups, _ = sync(project, defs, now=now)
    assert all(not g.full_load and g.last == report.last_day for g in groups)
    synced = {(spec.collection): (g.first, g.last) for g in groups for spec in g.collections}

    moved = 0
    for spec in specs:
        docs = source_docs(client, spec, project)
        lake = LakeTable(storage, spec)
        ids = [lake_id(d["_id"]) for d in docs]
        assert set(lake.row_ids) == set(ids), f"{spec.collection}: _ids differ from MongoDB"
        copies: dict[str, list[int]] = defaultdict(list)
        for i, v in enumerate(lake.row_ids):
            copies[v].append(i)
        latest = {v: max(rows, key=lambda i: lake.stamps[i]) for v, rows in copies.items()}
        first, last = synced[spec.collection]
        for v, rows in copies.items():
            stale = [lake.dates[i] for i in rows if i != latest[v]]
            assert all(d < first for d in stale), \
                f"{spec.collection} _id={v}: older copies in {stale}, inside the re-synced range {first}..{last}"
            assert len(set(lake.stamps[i] for i in rows)) == len(rows), f"{spec.collection} _id={v}: tied copies"
        problems = check_rows(project, spec, docs, lake, [latest[i] for i in ids])
        assert problems == [], f"{spec.collection}: {problems[:5]}"
        for d in docs:
            v = lake_id(d["_id"])
            old_ms = before[spec.collection].get(v)
            new_ms = source_ms(d[spec.timestamp_column], spec.timestamp_encoding)
            if old_ms is not None and new_ms != old_ms:
                old_day = datetime.fromtimestamp(old_ms / 1000, UTC).astimezone(tz).date()
                if lake.dates[latest[v]] != old_day:
                    moved += 1
    assert moved > 0, "no updated document moved to a new date"
    print(f"\n{moved} updated documents moved to a new date; mutate: +{sum(report.inserted.values())} "
          f"new, {sum(report.updated.values())} updates")

    # --- the catalog: each `_latest` view is exactly MongoDB — one row per _id, the newest version --
    from kx_lake.builders.catalog_runner import run_catalog_refresh
    from kx_lake.lib.catalog import duckdb_catalog, names

    done = run_catalog_refresh(defs, "refresh_catalog", ENV, specs, instance=dg.DagsterInstance.ephemeral())
    assert done.success, done.errors
    con = duckdb_catalog.connect(project, ENV)
    try:
        for spec in specs:
            view = names.qualified(names.glue_database(project.environment(ENV), spec.database),
                                   names.latest_view_name(spec))
            rows = con.execute(f'SELECT "_id", "date" FROM {view}').fetchall()
            want = {lake_id(d["_id"]): datetime.fromtimestamp(
                        source_ms(d[spec.timestamp_column], spec.timestamp_encoding) / 1000, UTC).astimezone(tz)
                    .date().isoformat() for d in source_docs(client, spec, project)}
            assert len(rows) == len(want), f"{view}: {len(rows)} rows for {len(want)} documents"
            assert dict(rows) == want, f"{view}: not the newest version of every _id"
    finally:
        con.close()
