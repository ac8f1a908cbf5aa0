"""Done-when for hostile input: seeded env2 (the repo's configuration, with its pii_columns) with a
sprinkling of the bad-input corpus in five collections — patients, encounters and bills (PII), vitals
(epoch-millis timestamps) and payer_settlements (ISO-text timestamps) — synced through the Dagster job:
every collection succeeds, the documents no partition can hold are counted in the run summary and are
in kx_rejects, every other document (odd keys, odd types, hostile partition values, deep nesting)
lands, and no raw value of a pii_columns field is anywhere under the lake root, in the Dagster event
log or in the staging area — Parquet files are read and every value searched, other files byte by byte.
The staging area is scanned while each collection's spool still exists (publication removes it):
at the `before_state` point (lib/faults.py) of every publication, every file is published and the
spool, its rejects and leaves are still on disk.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
from bson import Binary, Regex, Timestamp

from kx_lake.builders.run_report import check_outcomes
from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib import faults
from kx_lake.lib.lake.plan import plan_sync
from kx_lake.lib.lake.rejects import read_rejects
from kx_lake.lib.storage import LakeStorage
from kx_lake.lib.synth import seed_environment
from kx_lake_tests.fixtures.scratch_lake import scratch_project

pytestmark = pytest.mark.integration

ENV = "env2"
AS_OF = datetime(2026, 6, 30).date()
COLLECTIONS = ["bills", "encounters", "patients", "payer_settlements", "vitals"]
BAD_TIMESTAMPS = 6  # per collection, below
# pii_columns whose values also occur legitimately elsewhere (a facility's locality, a doctor's surname):
# tokenized all the same, but not searched for, as finding them would prove nothing
SHARED = ("locality", "pincode", "geo", "first_name", "last_name", "contacts.name")


def bad_copies(doc: dict, ts: str) -> list[dict]:
    """Documents no partition can hold: copies of a real one (PII and all) with a broken timestamp."""
    base = {k: v for k, v in doc.items() if k not in ("_id", ts)}
    return [{**base, "_id": f"bad-missing-{ts}"},
            {**base, "_id": "bad-text", ts: "N/A"},
            {**base, "_id": "bad-array", ts: [doc[ts]]},
            {**base, "_id": "bad-bool", ts: True},
            {**base, "_id": "bad-future", ts: datetime(2099, 1, 1, tzinfo=UTC)},
            {**base, "_id": "bad-too-old", ts: datetime(1999, 1, 1, tzinfo=UTC)}]


def odd_copies(doc: dict, ts: str) -> list[dict]:
    """Documents that must land: hostile partition values, odd keys, odd types, deep nesting."""
    base = {k: v for k, v in doc.items() if k != "_id"}
    deep: dict = {"v": 1}
    for _ in range(100):
        deep = {"n": deep}
    values = ["a/b", "../../etc", "\U0001F600" * 70, "x" * 300, None, "__HIVE_DEFAULT_PARTITION__", ["F1", "F2"]]
    out = [{**base, "_id": f"odd-facility-{i}", "facility_id": v} for i, v in enumerate(values)]
    out += [{**base, "_id": "odd-keys", "": 1, "Remark": "A", "remark": "b", "x$": 2},
            {**base, "_id": "odd-types", "legacy": deep, "ts_bson": Timestamp(1_700_000_000, 1),
             "pattern": Regex("^a", "i"), "blob": Binary(b"\x00\x01", 5), "big": 2**63 - 1}]
    return out


def pii_values(docs: list[dict], paths: tuple[str, ...]) -> set[str]:
    out: set[str] = set()

    def walk(value, parts):
        if isinstance(value, list):
            for item in value:
                walk(item, parts)
        elif not parts:
            if isinstance(value, str) and len(value) >= 6:
                out.add(value)
            elif isinstance(value, int) and not isinstance(value, bool) and value >= 10**9:
                out.add(str(value))
        elif isinstance(value, dict) and parts[0] in value:
            walk(value[parts[0]], parts[1:])

    for doc in docs:
        for path in paths:
            walk(doc, path.split("."))
    return out


def texts_under(base: Path):
    for path in sorted(base.rglob("*")) if base.exists() else []:
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            rows = pq.read_table(path).to_pylist()
            yield path, json.dumps(rows, default=str, ensure_ascii=False)
        else:
            yield path, path.read_bytes().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def seeded(local_source, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("corpus-seeded") / "lake"
    with pytest.MonkeyPatch.context() as mp:
        project = scratch_project(mp, local_source.settings.home, root)
        client = local_source.client(ENV)
        seed_environment(client, project, ENV, scale=0.002, seed=11, as_of=AS_OF)
        from kx_lake.definitions import defs

        yield project, defs(), client, root


def test_a_seeded_sync_with_the_corpus_sprinkled_in_succeeds_and_leaks_no_pii(
        seeded, local_source, monkeypatch: pytest.MonkeyPatch) -> None:
    project, defs, client, root = seeded
    specs = [project.collection(c) for c in COLLECTIONS]
    pii: set[str] = set()
    for spec in specs:
        coll = client[spec.database][spec.collection]
        sample = coll.find_one({spec.timestamp_column: {"$exists": True}}, sort=[(spec.timestamp_column, -1)])
        coll.insert_many(bad_copies(sample, spec.timestamp_column) + odd_copies(sample, spec.timestamp_column))
        if spec.pii_columns:
            pii |= pii_values(list(coll.find({})), [p for p in spec.pii_columns if not p.endswith(SHARED)])
    assert len(pii) > 50, len(pii)

    pattern = re.compile("|".join(re.escape(v) for v in sorted(pii, key=len, reverse=True)))
    staging = local_source.settings.home / "staging"
    spooled: list[Path] = []  # spool files seen while they existed
    reached = faults.reached

    def scan_spools(point: str) -> None:
        if point == "before_state":
            for path, text in texts_under(staging):
                assert pattern.search(text) is None, f"raw PII in {path}"
                spooled.append(path)
        reached(point)

    monkeypatch.setattr(faults, "reached", scan_spools)
    groups = plan_sync(project, ENV, specs, all_dates=True, now=datetime.combine(AS_OF, time(12), project.environment(ENV).tz))
    instance = dg.DagsterInstance.ephemeral()
    summary = run_sync(defs, "sync_collections", groups, instance=instance)
    # each collection's spool (its documents) and rejects spool were there to scan
    wanted = {(c, n) for c in COLLECTIONS for n in ("spool.bson", "rejects.bson")}
    assert {(p.parent.name, p.name) for p in spooled} >= wanted
    log = "\n".join(repr(e) for run_id in summary.run_ids for e in instance.all_logs(run_id))
    assert pattern.search(log) is None, "raw PII in the Dagster event log"
    assert sorted((r.collection, r.ok, r.error) for r in summary.results) == [(c, True, None) for c in COLLECTIONS]
    assert {r.collection: r.rejected for r in summary.results} == dict.fromkeys(COLLECTIONS, BAD_TIMESTAMPS)
    assert summary.rejected == BAD_TIMESTAMPS * len(COLLECTIONS)
    # the quarantine check warns on each collection, naming the count and the reasons
    checks = [c for run_id in summary.run_ids for c in check_outcomes(instance, run_id) if c.check == "quarantine"]
    assert sorted(c.asset.split(".")[-1] for c in checks) == COLLECTIONS
    assert all((c.passed, c.severity) == (False, "WARN") for c in checks), checks
    assert all(c.description.startswith(f"{BAD_TIMESTAMPS} document(s) quarantined") for c in checks), checks

    storage = LakeStorage.from_root(str(root))
    for spec in specs:
        ids = set(storage.read_table(ENV, spec.database, spec.collection).column("_id").to_pylist())
        source = {str(d["_id"]) for d in client[spec.database][spec.collection].find({}, {"_id": 1})}
        rejected = set(read_rejects(storage, ENV, spec.database, spec.collection).column("_id").to_pylist())
        assert len(rejected) == BAD_TIMESTAMPS and all(i.startswith("bad-") for i in rejected), spec.collection
        assert ids == source - rejected, spec.collection  # every other document landed, odd ones included
        assert {f"odd-facility-{i}" for i in range(7)} | {"odd-keys", "odd-types"} <= ids

    scanned = 0
    for base in (root, staging):
        for path, text in texts_under(base):
            scanned += 1
            found = pattern.search(text)
            assert found is None, f"raw PII in {path}"
    assert scanned >= 50
