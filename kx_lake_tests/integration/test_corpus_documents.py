"""Bad-input corpus, documents: odd keys, odd values, odd BSON types, broken bytes. Each case puts its
documents beside three ordinary ones on the real FerretDB (or, for what FerretDB 1.24 cannot store,
appends their raw BSON to the batches read: see corpus_run.py, which lists those) and ends with: the
good documents landed exactly, the bad ones are in kx_rejects with a reason, nothing else failed
(stage + publish raise on any collection-level failure).
"""

from __future__ import annotations

import base64
import math
from decimal import Decimal
from collections.abc import Callable

import bson
import pytest
from bson import Binary, Code, DBRef, Decimal128, Int64, MaxKey, MinKey, Regex, Timestamp
from bson.son import SON

from kx_lake.lib.catalog import glue
from kx_lake.lib.catalog.aws_catalog import glue_columns
from kx_lake.lib.harmonize.infer import MAX_NESTING, MAX_TYPE_CHARS
from kx_lake.lib.harmonize.types import INT64, StructType
from kx_lake.lib.lake.state import CollectionState
from kx_lake_tests.integration.corpus_run import Outcome, assert_good_landed, at, run_case

pytestmark = pytest.mark.integration




def raw(doc: dict | SON, *replace: tuple[bytes, bytes]) -> bytes:
    data = bson.encode(doc)
    for old, new in replace:
        assert old in data
        data = data.replace(old, new)
    return data


def landed(out: Outcome, _id: str) -> dict:
    assert _id in out.rows and _id not in out.rejects, (sorted(out.rows), out.rejects)
    return out.rows[_id]


def rejected(out: Outcome, _id: str, reason: str) -> dict:
    assert _id not in out.rows and _id in out.rejects, (sorted(out.rows), out.rejects)
    assert reason in out.rejects[_id]["reason"], out.rejects[_id]["reason"]
    return out.rejects[_id]


def check_invalid_utf8_value_stored(out: Outcome) -> None:
    # FerretDB stores invalid UTF-8 in a value as U+FFFD: what the server returns is valid, and lands
    assert landed(out, "bad-utf8-stored")["s"] == "X\ufffd"


def check_invalid_utf8_value(out: Outcome) -> None:
    reject = rejected(out, "bad-utf8-value", "invalid UTF-8 in 's', 'n.t'")
    assert '"s":"X\\\\xff"' in reject["document"]  # shown as \xff text, the rest of the document kept


def check_invalid_utf8_key(out: Outcome) -> None:
    rejected(out, "bad-utf8-key", "invalid UTF-8 in 'k\\\\xfe'")


def check_invalid_utf8_id(out: Outcome) -> None:
    [(key, reject)] = [(k, r) for k, r in out.rejects.items() if r["_kx_id_type"] == "undecodable"]
    assert key.startswith("sha256:") and "the _id itself" in reject["reason"]
    assert base64.b64decode(bson.json_util.loads(reject["document"])["base64"]) == BAD_ID


def check_truncated(out: Outcome) -> None:
    [reject] = [r for r in out.rejects.values() if r["_kx_id_type"] == "undecodable"]
    assert "not decodable as BSON" in reject["reason"]


def check_duplicate_keys(out: Outcome) -> None:
    rejected(out, "dup-keys", "duplicate keys 'a'")


def check_dotted_and_dollar_keys(out: Outcome) -> None:
    row = landed(out, "dots")
    assert (row["a_b"], row["_x"], row["x_"]) == (1, 2, 3)  # names.py: `a.b` -> a_b, `$x` -> _x, `x$` -> x_


def check_empty_and_case_keys(out: Outcome) -> None:
    row = landed(out, "keys")
    assert row["_"] == 1  # the empty key's column
    assert row["name"] == "B" or row["name"] == "a"
    assert bson.json_util.loads(row["_kx_overflow"]) in ({"Name": "B"}, {"name": "a"})


def check_nesting(out: Outcome) -> None:
    # Arrow nests types at most 64 deep: from MAX_NESTING levels down the value is JSON text, losslessly
    value = landed(out, "deep")
    for level in range(100):
        if level == MAX_NESTING - 1:
            assert isinstance(value["n"], str)
            value = {"n": bson.json_util.loads(value["n"])}
        value = value["n"]
    assert value == {"v": 1}


def check_many_keys(out: Outcome) -> None:
    # top level: 10,000 columns, each a short Glue type. Nested: the struct's type string would be
    # ~230k characters, over Glue's 131,072 (glue.column_specs refuses it), so the column is JSON text
    row = landed(out, "wide")
    assert all(row[f"k{i:05d}"] == i for i in range(10_000))
    nested = landed(out, "wide-nested")["attrs"]
    assert bson.json_util.loads(nested) == {f"attribute_{i:05d}": i for i in range(10_000)}
    schema = StructType.of({f"attribute_{i:05d}": INT64 for i in range(10_000)})
    assert len(schema.to_hive()) > MAX_TYPE_CHARS  # what the column would have been
    columns = dict(glue_columns(CollectionState.read(out.storage, "env1", "hims_admin", "corpus_docs").schema))
    assert columns["attrs"] == "string" and len(columns) > 10_000
    glue.column_specs("corpus_docs", list(columns.items()), ["date"])  # Glue would take the table


def check_floats(out: Outcome) -> None:
    row = landed(out, "floats")
    assert math.isnan(row["nan"]) and row["inf"] == math.inf and row["ninf"] == -math.inf
    assert row["nz"] == 0.0 and math.copysign(1, row["nz"]) == -1  # the sign of -0.0 is kept
    assert landed(out, "int64-max")["big"] == 2**63 - 1
    assert landed(out, "nz-stored")["nz"] == 0.0  # FerretDB itself stores -0.0 as 0.0


def check_types(out: Outcome) -> None:
    # lossless renderings (harmonize/README_SECTION.md): generic binary as base64, UUID as text, other
    # subtypes, regex, timestamps, DBRef, MinKey/MaxKey and code as canonical Extended JSON text
    row = landed(out, "binary")
    assert (row["b0"], row["b4"]) == ("AAE=", "30313233-3435-3637-3839-616263646566")
    assert row["b5"] == '{"$binary":{"base64":"MDEyMzQ1Njc4OWFiY2RlZg==","subType":"05"}}'
    assert row["b128"] == '{"$binary":{"base64":"eno=","subType":"80"}}'
    assert landed(out, "regex")["r"] == '{"$regularExpression":{"options":"i","pattern":"^a.*"}}'
    assert landed(out, "bson-ts")["t"] == '{"$timestamp":{"i":1,"t":1700000000}}'
    assert landed(out, "dbref")["r"] == '{"$db":"hims","$id":"P1","$ref":"patients"}'
    assert (landed(out, "minmax")["lo"], out.rows["minmax"]["hi"]) == ('{"$minKey":1}', '{"$maxKey":1}')
    assert landed(out, "code")["c"] == '{"$code":"function(){}"}'
    assert (landed(out, "decimal")["d"], out.rows["decimal"]["dnan"]) == (Decimal("1.5"), "NaN")


CASES: dict[str, tuple[list, list[bytes], Callable[[Outcome], None]]] = {}
BAD_ID = raw({"_id": "iX", "updated_at": at(9)}, (b"iX", b"i\xff"))
CASES["invalid-utf8-value-on-ferretdb"] = ([raw({"_id": "bad-utf8-stored", "updated_at": at(9), "s": "XY"},
                                                (b"XY", b"X\xff"))], [], check_invalid_utf8_value_stored)
CASES["invalid-utf8-value"] = ([], [raw({"_id": "bad-utf8-value", "updated_at": at(9), "s": "XY", "n": {"t": "QQ"}},
                                        (b"XY", b"X\xff"), (b"QQ", b"Q\xfe"))], check_invalid_utf8_value)
CASES["invalid-utf8-key"] = ([], [raw({"_id": "bad-utf8-key", "updated_at": at(9), "kX": 1}, (b"kX", b"k\xfe"))],
                             check_invalid_utf8_key)
CASES["invalid-utf8-id"] = ([], [BAD_ID], check_invalid_utf8_id)
CASES["truncated-bson"] = ([], [raw({"_id": "cut", "updated_at": at(9)})[:-3]], check_truncated)
CASES["duplicate-keys"] = ([], [raw(SON([("_id", "dup-keys"), ("updated_at", at(9)), ("a", 1), ("b", 2)]),
                                    (b"\x10b\x00", b"\x10a\x00"))], check_duplicate_keys)
CASES["dotted-and-dollar-keys"] = ([], [raw({"_id": "dots", "updated_at": at(9), "a.b": 1, "$x": 2, "x$": 3})],
                                   check_dotted_and_dollar_keys)
CASES["empty-and-case-only-keys"] = ([{"_id": "keys", "updated_at": at(9), "": 1, "Name": "B", "name": "a"}], [],
                                     check_empty_and_case_keys)


def _deep() -> dict:
    d: dict = {"v": 1}
    for _ in range(100):
        d = {"n": d}
    return d


CASES["nesting-100-levels"] = ([{"_id": "deep", "updated_at": at(9), **_deep()}], [], check_nesting)
CASES["10000-distinct-keys"] = ([{"_id": "wide", "updated_at": at(9), **{f"k{i:05d}": i for i in range(10_000)}},
                                 {"_id": "wide-nested", "updated_at": at(10),
                                  "attrs": {f"attribute_{i:05d}": i for i in range(10_000)}}], [], check_many_keys)
CASES["nan-infinity-negative-zero-int64-max"] = (
    [{"_id": "int64-max", "updated_at": at(9), "big": Int64(2**63 - 1)}, {"_id": "nz-stored", "updated_at": at(10),
                                                                          "nz": -0.0}],
    [raw({"_id": "floats", "updated_at": at(11), "nan": math.nan, "inf": math.inf, "ninf": -math.inf, "nz": -0.0})],
    check_floats)
CASES["bson-types"] = (
    [{"_id": "binary", "updated_at": at(9), "b0": Binary(b"\x00\x01", 0), "b4": Binary(b"0123456789abcdef", 4),
      "b5": Binary(b"0123456789abcdef", 5), "b128": Binary(b"zz", 128)},
     {"_id": "regex", "updated_at": at(10), "r": Regex("^a.*", "i")},
     {"_id": "bson-ts", "updated_at": at(11), "t": Timestamp(1_700_000_000, 1)}],
    [raw({"_id": "dbref", "updated_at": at(12), "r": DBRef("patients", "P1", "hims")}),
     raw({"_id": "minmax", "updated_at": at(13), "lo": MinKey(), "hi": MaxKey()}),
     raw({"_id": "code", "updated_at": at(14), "c": Code("function(){}")}),
     raw({"_id": "decimal", "updated_at": at(15), "d": Decimal128("1.5"), "dnan": Decimal128("NaN")})],
    check_types)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_documents_are_quarantined_and_the_rest_lands(corpus, case: str) -> None:
    project, client = corpus
    stored, injected, check = CASES[case]
    out = run_case(project, client, "corpus_docs", stored, injected)
    assert_good_landed(out)
    check(out)
