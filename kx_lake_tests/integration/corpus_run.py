"""Running one case of the bad-input corpus: documents on the real FerretDB, plus (where FerretDB 1.24
cannot store a case) raw BSON appended to the window's batches exactly as a server would return it,
through the real stage + publish path; then what landed and what was rejected.

FerretDB refuses on insert (measured): keys with `.` or a leading `$` (so DBRef), duplicate keys and
invalid UTF-8 in a key; it drops the connection on NaN, MinKey/MaxKey, JavaScript code and Decimal128;
it refuses ±Infinity; it stores -0.0 as 0.0 and replaces invalid UTF-8 in a value by U+FFFD. Those
cases are injected (`raw`), so they go through decode → tokenize → place → infer → convert → write
like any document the server returns.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import bson
import pyarrow as pa
import pytest

from kx_lake.lib.extract.decode import decode_batch
from kx_lake.lib.lake.pipeline import publish_staged, stage_collection
from kx_lake.lib.lake.rejects import read_rejects
from kx_lake.lib.lake.scan import read_source
from kx_lake.builders.resources import load_project
from kx_lake.lib.storage import LakeStorage
from kx_lake_tests.fixtures.scratch_lake import scratch_lake

DATES = [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]
CSV = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
corpus_docs,hims_admin,updated_at,date,,true
corpus_parts,hims_admin,updated_at,date,facility_id,true
"""


@pytest.fixture
def corpus(request: pytest.FixtureRequest, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """(project, env1 client) of a scratch lake over the corpus collections, which are dropped after."""
    scratch_lake(request, local_source, tmp_path, monkeypatch, CSV)
    client = local_source.client("env1")
    yield load_project(), client
    client.hims_admin.corpus_docs.drop()
    client.hims_admin.corpus_parts.drop()


def at(minute: int) -> datetime:
    return datetime(2026, 1, 2, 6, minute, tzinfo=UTC)


def good_documents() -> list[dict]:
    """Ordinary documents every case carries beside its bad ones: they must land exactly."""
    return [{"_id": f"good-{i}", "updated_at": at(i), "facility_id": "F1", "amount": 100.5 + i, "name": f"n{i}",
             "items": [{"code": "A", "qty": i}]} for i in range(3)]


@dataclass
class Outcome:
    rows: dict[str, dict]  # lake rows by _id
    rejects: dict[str, dict]  # rejects by _id (or sha256:… for undecodable ones)
    table: pa.Table
    storage: LakeStorage


def run_case(project, client, collection: str, stored: Iterable[dict | bytes] = (), raw: Iterable[bytes] = ()) -> Outcome:
    """`stored` goes into FerretDB (dicts, or raw BSON bytes); `raw` is appended to the batches read."""
    spec = project.collection(collection)
    coll = client[spec.database][spec.collection]
    coll.drop()
    for doc in [*good_documents(), *stored]:
        coll.insert_one(bson.raw_bson.RawBSONDocument(doc) if isinstance(doc, bytes) else doc)
    injected = b"".join(raw)

    def source(c, filt, ts):
        yield from read_source(c, filt, ts)
        if injected:
            yield decode_batch(injected)

    with tempfile.TemporaryDirectory() as staging:
        staged = stage_collection(client=client, project=project, env="env1", spec=spec, dates=DATES,
                                  staging_dir=Path(staging), source=source)
        publish_staged(project, staged)
    storage = LakeStorage.from_root(project.lake_root(project.environment("env1")))
    table = storage.read_table("env1", spec.database, spec.collection)
    rows = {r["_id"]: r for r in table.to_pylist()} if table.num_rows else {}
    assert table.num_rows == len(rows), "a document landed twice"
    rejects = {r["_id"]: r for r in read_rejects(storage, "env1", spec.database, spec.collection).to_pylist()}
    return Outcome(rows, rejects, table, storage)


def assert_good_landed(out: Outcome) -> None:
    for doc in good_documents():
        row = out.rows[doc["_id"]]
        assert (row["amount"], row["name"], row["items"]) == (doc["amount"], doc["name"], doc["items"]), row
        assert row["updated_at"] == datetime(2026, 1, 2, 11, 30 + int(doc["_id"][-1]))  # IST wall clock
        assert doc["_id"] not in out.rejects
