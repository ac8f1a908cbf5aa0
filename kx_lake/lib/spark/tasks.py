"""What runs inside Spark tasks: reading date ranges from MongoDB, and writing dates into the lake.

Both are plain functions over Arrow batches (`mapInArrow`), closed over picklable inputs only.
`extract` reads one unit (a collection's contiguous range of dates) with the local engine's own
`scan_window` into a task-local spool, then emits each document's raw BSON as a row (kind `doc`,
ordered by `seq` within its date) and one `unit` row carrying what the range taught: its schema,
counts, rejects. `publish` receives the rows of whole dates (repartitioned by collection and date,
sorted by `seq`), decodes them in the local engine's chunks (spool.chunk_pairs) and calls the local
engine's `publish_date`, so each file is written by the same code through the same atomic storage layer.
A failure is returned as an `error` row naming its collection, never raised: one collection's
failure must not fail the job and with it every other collection.
"""

from __future__ import annotations

import hashlib
import pickle
import shutil
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import pyarrow as pa
from pymongo import MongoClient

from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.extract.reader import ReadStats
from kx_lake.lib.extract.windows import Bounds, Window
from kx_lake.lib.harmonize import SchemaAccumulator, StructType
from kx_lake.lib.lake.identity import reserved_columns
from kx_lake.lib.lake.pipeline import StagedCollection, converter_for, publish_date
from kx_lake.lib.lake.rejects import id_type
from kx_lake.lib.lake.scan import scan_window
from kx_lake.lib.lake.spool import DateSpool, chunk_pairs

ROWS = pa.schema([
    ("kind", pa.string()),  # doc | unit | date | files | error
    ("key", pa.int32()),  # the collection's index in the job
    ("day", pa.date32()),
    ("seq", pa.int64()),  # a document's position in its date; a unit's index; -1 for a date marker
    ("raw", pa.binary()),  # a document's raw BSON
    ("meta", pa.binary()),  # pickled UnitResult / (list[WrittenFile], conversion rejects) / TaskError
])
ROWS_DDL = "kind string, key int, day date, seq long, raw binary, meta binary"
# sweep_wanted: every wanted date of the collection, given to the sweeping range (a document placed by
# timestamp_fallback is found by the sweep only, whichever range its date is in)
UNITS_DDL = ("key int, unit int, first date, last date, wanted array<date>, sweep boolean, bounded boolean, "
             "sweep_wanted array<date>")
_ROWS_PER_BATCH = 2000


@dataclass
class UnitResult:
    """What one range taught about its collection (merged by the driver in range order)."""

    schema: StructType
    seen: dict[str, int]
    rows_by_date: dict[date, int]
    min_ts_ms: int | None
    max_ts_ms: int | None
    landed_rejects: set
    read: ReadStats
    rejects: list[tuple] = field(default_factory=list)  # _RejectList.entries
    fallback_deferred: int = 0


@dataclass(frozen=True)
class TaskError:
    type_name: str
    message: str
    trace: str


class _RejectList:
    """Stands in for the RejectSpool inside a task; the driver replays the entries into the real one
    (replay_rejects): ("doc", reason, raw, _id) or ("undecodable", reason, raw, position, keep_bytes)."""

    def __init__(self) -> None:
        self.entries: list[tuple] = []

    def append(self, reason: str, raw: bytes | None, doc: object) -> None:
        self.entries.append(("doc", reason, raw, doc.get("_id") if hasattr(doc, "get") else None))

    def append_undecodable(self, reason: str, raw: bytes, position: int, keep_bytes: bool) -> None:
        self.entries.append(("undecodable", reason, raw, position, keep_bytes))


def replay_rejects(entries: list[tuple], rejects, seen: set[tuple[str, str]]) -> int:
    """Append a task's reject entries to the collection's RejectSpool, skipping those already in `seen`
    (a range's text margin may see a neighbour's reject); returns how many were appended."""
    added = 0
    for entry in entries:
        if entry[0] == "undecodable":
            _, reason, raw, position, keep_bytes = entry
            ident = ("undecodable", hashlib.sha256(raw).hexdigest())
            if ident not in seen:
                seen.add(ident)
                rejects.append_undecodable(reason, raw, position, keep_bytes)
                added += 1
        else:
            _, reason, raw, doc_id = entry
            ident = (id_type(doc_id), repr(doc_id))
            if ident not in seen:
                seen.add(ident)
                rejects.append(reason, raw, {"_id": doc_id})
                added += 1
    return added


def _error(exc: BaseException) -> bytes:
    return pickle.dumps(TaskError(type(exc).__name__, str(exc), "".join(traceback.format_exception(exc)[-6:])))


def _batch(rows: list[tuple]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([dict(zip(ROWS.names, r, strict=True)) for r in rows], schema=ROWS)


def _scan_unit(client: MongoClient, template: StagedCollection, tz, unit: dict, bounds: Bounds, tmp: Path):
    spec = template.spec
    staged = replace(template, spool=None, rejects=_RejectList(), rows_by_date={}, min_ts_ms=None, max_ts_ms=None,
                     landed_rejects=set(), read=ReadStats())
    acc = SchemaAccumulator(spec.timestamp_column, spec.timestamp_encoding, schema=template.state_before.schema,
                            reserved_columns=reserved_columns(spec))
    spool = DateSpool(tmp)
    window = Window(unit["first"], unit["last"], tz)
    seen = scan_window(client, spec, window, set(unit["wanted"]), spool, acc, staged,
                       bounds if unit["bounded"] else None, sweep=unit["sweep"],
                       fallback_wanted=set(unit["sweep_wanted"] or unit["wanted"]))
    spool.close()
    result = UnitResult(acc.schema, seen, staged.rows_by_date, staged.min_ts_ms, staged.max_ts_ms,
                        staged.landed_rejects, staged.read, staged.rejects.entries, staged.fallback_deferred)
    return spool, result


def extract(project: ProjectConfig, mongo_uri: str, templates: dict[int, StagedCollection], bounds: dict[int, Bounds]):
    """The `mapInArrow` function over units (UNITS_DDL) → rows (ROWS)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        client = MongoClient(mongo_uri, serverSelectionTimeoutMS=20_000, appname="kx-lake-spark", tz_aware=True)
        try:
            for batch in batches:
                for unit in batch.to_pylist():
                    key, template = unit["key"], templates[unit["key"]]
                    tmp = Path(tempfile.mkdtemp(prefix="kx-lake-unit-"))
                    try:
                        tz = project.environment(template.env).tz
                        spool, result = _scan_unit(client, template, tz, unit, bounds[key], tmp)
                        rows: list[tuple] = []
                        for day in spool.dates():
                            for seq, raw in enumerate(spool.raw_documents(day)):
                                rows.append(("doc", key, day, seq, raw, None))
                                if len(rows) >= _ROWS_PER_BATCH:
                                    yield _batch(rows)
                                    rows = []
                        rows.append(("unit", key, None, unit["unit"], None, pickle.dumps(result)))
                        yield _batch(rows)
                    except Exception as exc:  # isolation: reported to the driver as this collection's failure
                        yield _batch([("error", key, None, unit["unit"], None, _error(exc))])
                    finally:
                        shutil.rmtree(tmp, ignore_errors=True)
        finally:
            client.close()

    return run


def publish(project: ProjectConfig, finals: dict[int, StagedCollection]):
    """The `mapInArrow` function over `doc` and `date` rows, whole dates per task, sorted by
    (key, day, seq) → one `files` or `error` row per date."""
    convs: dict = {}

    def write(key: int, day: date, raws: list[bytes]) -> tuple:
        staged = finals[key]
        try:
            if key not in convs:
                convs[key] = converter_for(project, staged)
            rejected = _RejectList()
            spill = Path(tempfile.mkdtemp(prefix="kx-lake-leaves-"))
            files = publish_date(project, staged, convs[key], day, chunk_pairs(raws), spill, rejected.append)
            return ("files", key, day, 0, None, pickle.dumps((files, rejected.entries)))
        except Exception as exc:
            return ("error", key, day, 0, None, _error(exc))

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        current: tuple[int, date] | None = None
        raws: list[bytes] = []
        failed: set[int] = set()  # a collection stops at its first failing date, as in the local engine
        out: list[tuple] = []
        for batch in batches:
            cols = batch.to_pydict()
            for kind, key, day, raw in zip(cols["kind"], cols["key"], cols["day"], cols["raw"], strict=True):
                if (key, day) != current:
                    if current is not None and current[0] not in failed:
                        out.append(write(*current, raws))
                        failed.update(r[1] for r in out[-1:] if r[0] == "error")
                    current, raws = (key, day), []
                if kind == "doc":
                    raws.append(raw)
        if current is not None and current[0] not in failed:
            out.append(write(*current, raws))
        if out:
            yield _batch(out)

    return run
