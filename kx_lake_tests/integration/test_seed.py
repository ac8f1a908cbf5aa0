"""Seeding and mutating a real local source (FerretDB): every configured collection exists with data,
every deliberate mess is really in MongoDB, seeding twice gives the same documents, and mutate
advances existing documents' modified timestamps and adds new ones — inside the new days only."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import bson
import pytest
from bson.decimal128 import Decimal128
from kx_lake.lib.config import TimestampEncoding
from kx_lake.lib.synth import MESSES, META_DB, mutate_environment, seed_environment
from kx_lake.lib.synth.api import server_supports_decimal128

pytestmark = pytest.mark.integration

SCALE = 0.002
ENV = "env1"
IST = ZoneInfo("Asia/Kolkata")


@pytest.fixture(scope="module")
def as_of(local_source) -> date:
    """A fixed date, moved later if needed so the whole simulated year lies after the partitions start."""
    start = getattr(local_source.project, "partitions_start", None)
    return max(date(2026, 3, 1), start + timedelta(days=365)) if start else date(2026, 3, 1)


@pytest.fixture(scope="module")
def seeded(local_source, as_of):
    client = local_source.client(ENV)
    report = seed_environment(client, local_source.project, ENV, scale=SCALE, seed=42, as_of=as_of)
    return client, report


def _fetch(local_source, client):
    dbs = {c.collection: c.database for c in local_source.project.collections}
    return lambda coll: list(client[dbs[coll]][coll].find())


def _fingerprint(local_source, client) -> dict[str, str]:
    out = {}
    for spec in local_source.project.enabled_collections:
        encoded = sorted(bson.encode(d) for d in client[spec.database][spec.collection].find())
        out[spec.collection] = hashlib.sha256(b"".join(encoded)).hexdigest()
    return out


def test_every_configured_collection_exists_with_the_reported_documents(local_source, seeded, as_of):
    client, report = seeded
    for spec in local_source.project.enabled_collections:
        assert spec.collection in client[spec.database].list_collection_names()
        n = len(list(client[spec.database][spec.collection].find({}, {"_id": 1})))
        assert n == report.inserted.get(spec.collection, 0) > 0, spec.collection
    assert report.first_day == as_of - timedelta(days=365) and report.last_day == as_of - timedelta(days=1)


@pytest.mark.parametrize("mess", MESSES, ids=lambda m: m.id)
def test_every_mess_is_in_mongodb(local_source, seeded, mess):
    client, _ = seeded
    fetch = _fetch(local_source, client)
    if mess.needs_decimal128 and not server_supports_decimal128(client):
        # FerretDB 1.x cannot store Decimal128: the documented substitute is a double in the same field
        values = [d[mess.field] for d in fetch(mess.collection)]
        assert values and all(isinstance(v, float) for v in values) and not any(isinstance(v, Decimal128)
                                                                                for v in values)
        return
    assert mess.check(fetch), f"{mess.id}: {mess.collection}.{mess.field} not present in MongoDB"


def test_seeding_twice_gives_the_same_documents(local_source, seeded, as_of):
    client, first = seeded
    before = _fingerprint(local_source, client)
    again = seed_environment(client, local_source.project, ENV, scale=SCALE, seed=42, as_of=as_of)
    assert again.inserted == first.inserted
    assert _fingerprint(local_source, client) == before


def _stamp_ms(value, encoding: TimestampEncoding) -> int:
    if encoding is TimestampEncoding.EPOCH_MS:
        return int(value)
    if encoding is TimestampEncoding.ISO_STRING:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    return int(value.replace(tzinfo=UTC).timestamp() * 1000)


def _stamps(local_source, client) -> dict[str, dict[str, int]]:
    out = {}
    for spec in local_source.project.enabled_collections:
        col = spec.timestamp_column
        out[spec.collection] = {repr(d["_id"]): _stamp_ms(d[col], spec.timestamp_encoding)
                                for d in client[spec.database][spec.collection].find({}, {col: 1})}
    return out


def test_mutate_advances_existing_documents_and_adds_new_ones(local_source, seeded, as_of):
    client, _ = seeded
    days = 4
    horizon = int(datetime.combine(as_of, datetime.min.time(), IST).timestamp() * 1000)
    new_horizon = horizon + days * 86_400_000
    before = _stamps(local_source, client)
    report = mutate_environment(client, local_source.project, ENV, days=days, seed=42)
    after = _stamps(local_source, client)
    assert report.first_day == as_of and report.last_day == as_of + timedelta(days=days - 1)
    changed_total = 0
    for coll, stamps in after.items():
        new = {i: ms for i, ms in stamps.items() if i not in before[coll]}
        changed = {i: ms for i, ms in stamps.items() if i in before[coll] and ms != before[coll][i]}
        assert len(new) == report.inserted.get(coll, 0), coll
        assert len(changed) <= report.updated.get(coll, 0), coll
        assert all(horizon <= ms < new_horizon for ms in (*new.values(), *changed.values())), coll
        assert set(before[coll]) <= set(stamps), f"{coll}: documents disappeared"
        changed_total += len(changed)
    assert changed_total > 0 and sum(report.inserted.values()) > 100
    run = client[META_DB]["runs"].find_one({"_id": ENV})
    assert run["as_of"] == (as_of + timedelta(days=days)).isoformat()
