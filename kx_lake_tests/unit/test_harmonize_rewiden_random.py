"""widen_batch on random documents and on the synthetic hospital data (every documented mess):
exact, or refused for a column `widening_risks` lists (test_harmonize_rewiden.check_widening)."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bson import Decimal128, Int64, ObjectId, Regex

from kx_lake.lib.harmonize import NotWidenableFromLake, columns_to_rewrite, lake_render, widening_risks
from kx_lake_tests.unit.test_harmonize_rewiden import assert_same, check_widening, convert, schema_of, widen
from kx_lake_tests.unit.test_harmonize_roundtrip import _KEYS, T0, _random_value, nasty_documents


# --- random documents -----------------------------------------------------------------------------

_WORDS = ["Ravi Kumar", "नमस्ते", "a b", "x", "ok?", "O'Brien", '"quoted"']  # text no other type renders as


_SCALARS = [
    lambda rng: None,
    lambda rng: rng.random() < 0.5,
    lambda rng: rng.randrange(-1000, 1000),
    lambda rng: rng.choice([-(2**53), 2**62, Int64(-(2**63))]),
    lambda rng: rng.randrange(-10**6, 10**6) + 0.5,
    lambda rng: rng.choice([float("nan"), float("inf"), -0.0, 1e300, 1e-7]),
    lambda rng: rng.choice(_WORDS),
    lambda rng: T0 + timedelta(milliseconds=rng.randrange(-10**12, 10**12)),
    lambda rng: rng.choice([datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999000)]),
    lambda rng: Decimal128(f"{rng.randrange(-10**6, 10**6)}.{rng.randrange(10**4):04d}"),
    lambda rng: Regex("x", rng.choice(["", "i"])),
]


def _decidable_value(rng: random.Random, depth: int, kind: int | None = None):
    """Values whose widenings the lake can mostly decide: no integral doubles, no ambiguous text.
    `kind`: the one scalar kind to use (a column's type before it widens), else any."""
    roll = rng.random()
    if depth < 3 and roll < 0.15:
        return {rng.choice("abcd"): _decidable_value(rng, depth + 1, kind) for _ in range(rng.randrange(0, 3))}
    if depth < 3 and roll < 0.3:
        return [_decidable_value(rng, depth + 1, kind) for _ in range(rng.randrange(0, 4))]
    return _SCALARS[rng.randrange(len(_SCALARS)) if kind is None else kind](rng)


def _documents(rng: random.Random, n: int, value, keys: list[str], kinds: dict[str, int] | None = None) -> list[dict]:
    docs = []
    for i in range(n):
        doc = {"_id": rng.choice([ObjectId(), f"id{i}", i]), "modifiedAt": T0 + timedelta(hours=rng.randrange(-5000, 5000))}
        for _ in range(rng.randrange(0, 6)):
            key = rng.choice(keys)
            doc[key] = value(rng, 0) if kinds is None else value(rng, 0, kinds[key])
        docs.append(doc)
    return docs


def test_random_widenings_are_exact():
    # docs1: one scalar kind per key (a clean column); docs2: any value, so columns widen every way
    outcomes = {"same": 0, "exact": 0, "refused": 0}
    keys = ["a", "B", "b", "c", "x.y", "z"]
    for seed in range(100):
        rng = random.Random(seed)
        kinds = {key: rng.randrange(len(_SCALARS)) for key in keys}
        docs1 = _documents(rng, rng.randrange(1, 60), _decidable_value, keys, kinds)
        docs2 = _documents(rng, rng.randrange(1, 10), _decidable_value, keys)
        outcomes[check_widening(docs1, docs2, tz=ZoneInfo(rng.choice(["Asia/Kolkata", "UTC"])))] += 1
    # most pairs really widen, and exactly; refusals (the generator can't avoid them): decimals meeting
    # doubles or text, objects inside lists meeting scalars (-> json), mixed text meeting lists
    assert outcomes["exact"] >= 50 and outcomes["exact"] > 2.5 * outcomes["refused"], outcomes


@pytest.mark.parametrize("seed", range(4))
def test_random_hostile_widenings_are_exact_or_refused_for_a_listed_column(seed):
    # the round-trip tests' generator: ambiguous text and integral doubles everywhere, so many refusals
    outcomes = {"same": 0, "exact": 0, "refused": 0}
    for trial in range(25):
        rng = random.Random(1000 * seed + trial)
        docs = _documents(rng, 60, _random_value, _KEYS) + (nasty_documents() if trial % 5 == 0 else [])
        rng.shuffle(docs)
        split = rng.randrange(1, len(docs))
        outcomes[check_widening(docs[:split], docs[split:])] += 1
    assert outcomes["exact"] >= 3, outcomes


def test_no_risk_means_no_refusal():
    for seed in range(40):
        rng = random.Random(500 + seed)
        docs = _documents(rng, 40, _random_value, _KEYS)
        s1 = schema_of(docs[:20])
        s2 = schema_of(docs[20:], base=s1)
        if not widening_risks(s1, s2):
            assert_same(widen(convert(s1, docs[:20]), s1, s2), convert(s2, docs[:20]))


# --- the synthetic hospital data, with every documented mess ----------------------------------------


@pytest.fixture(scope="module")
def synthetic():
    from kx_lake.lib.config import ProjectConfig
    from kx_lake.lib.synth import generate_environment

    project = ProjectConfig.load()
    docs: dict[str, list[dict]] = {}
    for batch in generate_environment(project, "env1", scale=0.001, seed=11, as_of=date(2026, 6, 30)):
        docs.setdefault(batch.collection, []).extend(batch.docs)
    return project, docs


NUMBERS_AS_TEXT = {lake_render.DECIMAL_TEXT, lake_render.INTEGRAL_DOUBLE}


def _widen_slices(project, spec, first, later, outcomes) -> None:
    """`first`'s rows, stored in Parquet as the lake does (partition columns left out, read back),
    widened by what `later` brings, must be exactly `first` converted under the widened schema."""
    tz = project.environment("env1").tz
    reserved = ("date", *spec.partition_columns)
    kw = dict(ts=spec.timestamp_column, encoding=spec.timestamp_encoding, reserved=reserved)
    s1 = schema_of(first, **kw)
    s2 = schema_of(later, base=s1, **kw)
    stored = _through_parquet(convert(s1, first, tz=tz, **kw), reserved)
    try:
        got = widen(stored, s1, s2, tz=tz, **kw)
    except NotWidenableFromLake as refused:
        assert refused.column in widening_risks(s1, s2)
        outcomes["refused"].append(refused.reason)
        return
    want = convert(s2, first, tz=tz, **kw)
    assert_same(got, pa.Table.from_batches([want]).drop_columns([n for n in reserved if n in want.schema.names]))
    outcomes["retyped" if columns_to_rewrite(s1, s2) else "same" if s1 == s2 else "added"].append(spec.collection)


@pytest.mark.slow
def test_synthetic_collections_widen_exactly_from_their_files(synthetic):
    """Every collection: a small slice of its documents, widened by the others."""
    project, docs = synthetic
    outcomes: dict[str, list[str]] = {"same": [], "added": [], "retyped": [], "refused": []}
    for spec in project.collections:
        rows = docs.get(spec.collection, [])
        rng = random.Random(spec.collection)
        for _ in range(3 if len(rows) > 1 else 0):
            start = rng.randrange(len(rows))
            stop = start + rng.randrange(1, max(2, len(rows) // 5))
            _widen_slices(project, spec, rows[start:stop], rows[:start] + rows[stop:], outcomes)
    assert len(outcomes["retyped"]) >= 10 and len(outcomes["added"]) >= 20, {k: len(v) for k, v in outcomes.items()}
    assert set(outcomes["refused"]) <= NUMBERS_AS_TEXT  # pharmacy_sales.net_amount: Decimal128 or double (M17)


@pytest.mark.slow
def test_every_synthetic_mess_widens_exactly_or_is_refused(synthetic):
    """Each documented mess: the documents whose messy field has one lake type, widened by the others
    (bills.total_amount double -> string, allergies list<string> -> list<struct>, ...)."""
    from kx_lake.lib.harmonize import column_name
    from kx_lake.lib.synth import MESSES

    project, docs = synthetic
    specs = {spec.collection: spec for spec in project.collections}
    outcomes: dict[str, list[str]] = {"same": [], "added": [], "retyped": [], "refused": []}
    for mess in MESSES:
        spec, top = specs[mess.collection], column_name(mess.field.split(".")[0])
        groups: dict[str, list[dict]] = {}
        for doc in docs[mess.collection]:
            one = schema_of([doc], ts=spec.timestamp_column, encoding=spec.timestamp_encoding)
            groups.setdefault(str(one.get(top) or one.get(top + "_")), []).append(doc)
        for group in groups.values():  # each shape's rows, widened by all the other shapes
            _widen_slices(project, spec, group, [d for g in groups.values() if g is not group for d in g], outcomes)
    assert len(outcomes["retyped"]) >= 10, {k: len(v) for k, v in outcomes.items()}
    assert set(outcomes["refused"]) <= NUMBERS_AS_TEXT


def _through_parquet(batch: pa.RecordBatch, reserved) -> pa.Table:
    """The batch as the lake stores it: partition columns left out, Parquet (ms timestamps), read back."""
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_batches([batch]).drop_columns([n for n in reserved if n in batch.schema.names]), sink, coerce_timestamps="ms")
    return pq.read_table(io.BytesIO(sink.getvalue()))
