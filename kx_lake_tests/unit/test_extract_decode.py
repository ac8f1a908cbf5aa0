"""Per-document decoding of raw batches, and per-document conversion: one bad document costs only itself."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import bson
import pytest
from bson.son import SON

from kx_lake.lib.extract.decode import decode_batch, split_documents
from kx_lake.lib.harmonize import Converter, SchemaAccumulator
from kx_lake.lib.harmonize.errors import HarmonizeError
from kx_lake.lib.lake.leaves import convert_isolating
from kx_lake.lib.lake.rejects import UNDECODABLE, RejectSpool

TS = datetime(2026, 1, 2, 6, tzinfo=UTC)
GOOD = bson.encode({"_id": "g1", "updated_at": TS, "s": "ok"})


def bad_value() -> bytes:
    return bson.encode({"_id": "bv", "s": "XY", "n": {"t": "QQ"}}).replace(b"XY", b"X\xff").replace(b"QQ", b"Q\xfe")


def test_a_good_batch_decodes_in_one_go_with_its_raw_slices():
    batch = GOOD + bson.encode({"_id": 2, "a": [1, {"b": None}]})
    out = decode_batch(batch)
    assert [d.problem for d in out] == [None, None]
    assert b"".join(d.raw for d in out) == batch
    assert [d.doc["_id"] for d in out] == ["g1", 2]


def test_invalid_utf8_in_values_is_located_and_shown_as_escapes():
    [good, bad, good2] = decode_batch(GOOD + bad_value() + GOOD)
    assert good.problem is None and good2.problem is None
    assert bad.problem == "invalid UTF-8 in 's', 'n.t'"
    assert bad.doc == {"_id": "bv", "s": "X\\xff", "n": {"t": "Q\\xfe"}}  # the readable stand-in
    assert bad.raw == bad_value() and bad.position == 1


def test_invalid_utf8_in_a_key_and_in_the_id():
    key = bson.encode({"_id": "bk", "kX": 1}).replace(b"kX", b"k\xfe")
    ident = bson.encode({"_id": "iX"}).replace(b"iX", b"i\xff")
    [k, i] = decode_batch(key + ident)
    assert k.problem == "invalid UTF-8 in 'k\\\\xfe'" and k.doc["_id"] == "bk"
    assert i.doc is None and i.problem == "invalid UTF-8 in '_id' (the _id itself)" and i.position == 1


def test_duplicate_keys_are_found_at_any_depth():
    top = bson.encode(SON([("_id", "d"), ("a", 1), ("b", 2)])).replace(b"\x10b\x00", b"\x10a\x00")
    nested = bson.encode({"_id": "n", "o": SON([("x", 1), ("y", 2)])}).replace(b"\x10y\x00", b"\x10x\x00")
    [d, n, g] = decode_batch(top + nested + GOOD)
    assert d.problem == "duplicate keys 'a' (only the last value of each would land)"
    assert n.problem.startswith("duplicate keys 'x'")
    assert g.problem is None


def test_bytes_that_are_not_bson_are_kept_as_bytes():
    [g, cut] = decode_batch(GOOD + GOOD[:-3])
    assert g.problem is None and cut.doc is None and cut.problem.startswith("not decodable as BSON")
    assert list(split_documents(GOOD + GOOD[:-3])) == [GOOD, GOOD[:-3]]


def test_an_undecodable_reject_is_keyed_by_its_bytes_and_keeps_them_only_without_pii(tmp_path: Path):
    spool = RejectSpool(tmp_path / "r.bson")
    spool.append_undecodable("not decodable", b"\x05\x00\x00\x00\xff", 3, keep_bytes=True)
    spool.append_undecodable("not decodable", b"\x05\x00\x00\x00\xfe", 4, keep_bytes=False)
    [entries] = list(spool.read())
    assert [e["undecodable"][:7] for e in entries] == ["sha256:", "sha256:"]
    assert entries[0]["info"]["base64"] == "BQAAAP8=" and entries[1]["info"]["base64"] is None
    assert spool.count == 2 and UNDECODABLE == "undecodable"


def test_conversion_rejects_only_the_documents_the_schema_cannot_hold():
    acc = SchemaAccumulator("updated_at")
    acc.observe_many([{"_id": "a", "updated_at": TS, "n": 1}])
    conv = Converter(acc.schema, ZoneInfo("Asia/Kolkata"), "updated_at")
    docs = [{"_id": "a", "updated_at": TS, "n": 1}, {"_id": "b", "updated_at": TS, "n": {"x": 1}},
            {"_id": "c", "updated_at": TS, "n": 3}]
    batch, bad = convert_isolating(conv, docs)
    assert batch.column("_id").to_pylist() == ["a", "c"] and batch.column("n").to_pylist() == [1, 3]
    assert [(i, "cannot be converted" in why) for i, why in bad] == [(1, True)]


def test_a_conversion_failure_no_single_document_explains_is_raised():
    acc = SchemaAccumulator("updated_at")
    acc.observe_many([{"_id": "a", "updated_at": TS}])
    conv = Converter(acc.schema, ZoneInfo("Asia/Kolkata"), "updated_at")

    class Broken(Converter):
        calls = 0

        def convert(self, docs):
            Broken.calls += 1
            if len(docs) > 1:
                raise HarmonizeError("batch-level", field="<document>", doc_id=None)
            return conv.convert(docs)

    broken = Broken(acc.schema, ZoneInfo("Asia/Kolkata"), "updated_at")
    with pytest.raises(HarmonizeError, match="batch-level"):
        convert_isolating(broken, [{"_id": "a", "updated_at": TS}, {"_id": "b", "updated_at": TS}])
