"""pii_columns: keyed tokens by dotted field path, over decoded documents (kx_lake.lib.pii)."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import hashlib
import hmac
import re
import shutil
from pathlib import Path

import bson
import pytest
from bson import ObjectId
from bson.int64 import Int64

from kx_lake.lib.config import ConfigErrors, ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.pii import PiiKeyError, PiiTokenizer, canonical_text, pii_key, tokenizer_for
from kx_lake.lib.scrub import Scrubber

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
TOKEN = re.compile(r"^kxpii:[0-9a-f]{8}:[0-9a-f]{32}$")

PATIENT = {
    "_id": "P1", "facility_id": "F1", "updated_at": dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
    "name": "Asha Rao", "phone": Int64(919876543210), "email": None, "gender": "F",
    "addresses": [{"type": "home", "line1": "12, Main Road", "city": "Pune", "geo": {"coordinates": [73.8, 18.5]}},
                  {"type": "work", "city": "Mumbai"}],
    "contacts": [{"name": "Ravi Rao", "relation": "spouse", "phone": "+91 9000000001"},
                 {"name": "Meena Rao", "relation": "mother", "phone": None}],
    "aliases": ["A. Rao", "Asha R"],
    "insurance": {"payer_id": "PAY-1", "policy_no": "1234567890"},
}
PATHS = ("name", "phone", "email", "addresses.line1", "addresses.geo", "contacts.name", "contacts.phone",
         "aliases", "insurance.policy_no", "not_there", "gender.nested")


def tok(key: bytes = KEY, paths: tuple[str, ...] = PATHS) -> PiiTokenizer:
    return PiiTokenizer(key, paths)


def test_every_listed_path_is_tokenized_and_nothing_else_changes() -> None:
    original = copy.deepcopy(PATIENT)
    out = tok()(PATIENT)
    assert PATIENT == original  # pure: the input document is untouched
    t = tok().token
    assert out["name"] == t("Asha Rao") and TOKEN.match(out["name"])
    assert out["phone"] == t(Int64(919876543210))
    assert out["email"] is None  # null stays null
    assert out["addresses"][0] == {"type": "home", "line1": t("12, Main Road"), "city": "Pune",
                                   "geo": t({"coordinates": [73.8, 18.5]})}
    assert out["addresses"][1] == {"type": "work", "city": "Mumbai"}  # a path absent in one element
    assert [c["name"] for c in out["contacts"]] == [t("Ravi Rao"), t("Meena Rao")]
    assert [c["phone"] for c in out["contacts"]] == [t("+91 9000000001"), None]
    assert [c["relation"] for c in out["contacts"]] == ["spouse", "mother"]
    assert out["aliases"] == [t("A. Rao"), t("Asha R")]  # an array of values: each element
    assert out["insurance"] == {"payer_id": "PAY-1", "policy_no": t("1234567890")}
    assert out["gender"] == "F" and "not_there" not in out  # paths through scalars or absent fields
    for key in ("_id", "facility_id", "updated_at"):
        assert out[key] == PATIENT[key]


def test_no_clear_value_survives_anywhere_in_the_encoded_document() -> None:
    raw = bson.encode(tok()(PATIENT))
    for clear in (b"Asha Rao", b"12, Main Road", b"Ravi Rao", b"9000000001", b"1234567890", b"A. Rao"):
        assert clear not in raw
    assert Int64(919876543210) not in bson.decode(raw).values()


def test_same_value_same_token_within_a_key_different_across_keys() -> None:
    a, b = tok(), tok()
    assert a.token("Asha Rao") == b.token("Asha Rao")
    assert a.token("Asha Rao") != a.token("asha rao")
    assert a.token("Asha Rao") != tok(OTHER_KEY).token("Asha Rao")
    assert a.token("Asha Rao").split(":")[1] != tok(OTHER_KEY).token("Asha Rao").split(":")[1]  # key id shows
    assert a.key_id == hmac.new(KEY, b"kx-lake pii key id", hashlib.sha256).hexdigest()[:8]
    assert KEY.decode() not in a.token("x") and a.key_id not in KEY.decode()


def test_canonical_text_equates_what_mongodb_equates_and_nothing_more() -> None:
    assert canonical_text(5) == canonical_text(Int64(5)) == canonical_text(5.0)
    assert canonical_text("5") != canonical_text(5)
    assert canonical_text("caf\u00e9") == canonical_text("cafe\u0301")  # NFC and NFD: the same name
    assert canonical_text({"b": 1, "a": 2}) == canonical_text({"a": 2, "b": 1})
    assert canonical_text(True) != canonical_text(1)
    assert canonical_text(ObjectId("650000000000000000000001")) == 'j:"650000000000000000000001"'


def test_token_is_an_hmac_not_a_plain_hash() -> None:
    plain = hashlib.sha256(canonical_text("Asha Rao").encode()).hexdigest()[:32]
    assert plain not in tok().token("Asha Rao")
    expected = hmac.new(KEY, canonical_text("Asha Rao").encode(), hashlib.sha256).hexdigest()[:32]
    assert tok().token("Asha Rao").endswith(expected)


def test_key_comes_from_the_environment_and_is_never_printed() -> None:
    with pytest.raises(PiiKeyError, match=r"env1: .*KX_LAKE_ENV1_PII_KEY is not set"):
        pii_key("KX_LAKE_ENV1_PII_KEY", "env1", environ={})
    with pytest.raises(PiiKeyError, match="shorter than 32") as info:
        pii_key("KX_LAKE_ENV1_PII_KEY", "env1", environ={"KX_LAKE_ENV1_PII_KEY": "short-secret"})
    assert "short-secret" not in str(info.value)
    secret = "s" * 40
    assert pii_key("KX_LAKE_ENV1_PII_KEY", "env1", environ={"KX_LAKE_ENV1_PII_KEY": secret}) == secret.encode()
    assert tokenizer_for((), "KX_LAKE_ENV1_PII_KEY", "env1", environ={}) is None  # no pii_columns, no key needed
    with pytest.raises(PiiKeyError):
        PiiTokenizer(b"short", ("name",))


def test_the_key_variable_is_per_environment_and_scrubbed(tmp_path: Path) -> None:
    project = ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ={"KX_LAKE_HOME": str(tmp_path)}))
    assert project.environment("env2").pii_key_variable == "KX_LAKE_ENV2_PII_KEY"
    secret = "pii-key-0123456789-0123456789-abcdef"
    scrub = Scrubber.for_project(project, environ={"KX_LAKE_ENV2_PII_KEY": secret})
    assert secret not in scrub(f"failed with key {secret}")


def config_with(tmp_path: Path, pii: str, parts: str = "facility_id") -> Path:
    target = tmp_path / "cfg"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    (target / "collections.csv").write_text(
        "collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled,pii_columns\n"
        f"patients,hims_patient,updated_at,date,{parts},true,{pii}\n")
    return target


@pytest.mark.parametrize(
    ("pii", "text"),
    [("contacts..phone", "not a dotted field path"), ("_id", "_id, the timestamp or a partition column"),
     ("updated_at", "timestamp"), ("facility_id", "partition column"), ("phone;phone", "same path twice"),
     ("contacts;contacts.phone", "already covered by 'contacts'")],
)
def test_bad_pii_columns_are_refused_with_row_and_field(tmp_path: Path, pii: str, text: str) -> None:
    with pytest.raises(ConfigErrors) as info:
        ProjectConfig.load(Settings.resolve(config_with(tmp_path, pii), environ={}))
    (err,) = info.value.errors
    assert (err.row, err.field) == (2, "pii_columns") and text in err.message


def test_the_synthetic_datas_pii_is_marked() -> None:
    with open(DEFAULT_CONFIG_DIR / "collections.csv", encoding="utf-8") as fh:
        marked = {r["collection"]: set(filter(None, r["pii_columns"].split(";"))) for r in csv.DictReader(fh)}
    assert {"name", "first_name", "last_name", "phone", "email", "national_id", "addresses.line1",
            "contacts.name", "contacts.phone"} <= marked["patients"]
    for coll in ("appointments", "admissions", "bills", "lab_orders"):
        assert "patient_name" in marked[coll], coll
    assert "patient.name" in marked["encounters"]
    assert {"phone", "email"} <= marked["staff"] and {"phone", "email"} <= marked["doctors"]


def test_the_embedded_local_stack_gets_a_key_made_once_a_deployment_must_set_its_own(tmp_path) -> None:
    from kx_lake.lib.pii import environ_with_key, local_key_file

    env = environ_with_key("KX_LAKE_ENV1_PII_KEY", "env1", tmp_path, uses_local_source=True, environ={})
    key = env["KX_LAKE_ENV1_PII_KEY"]
    path = local_key_file(tmp_path, "env1")
    assert len(key) >= 32 and path.read_text() == key and (path.stat().st_mode & 0o777) == 0o600
    again = environ_with_key("KX_LAKE_ENV1_PII_KEY", "env1", tmp_path, uses_local_source=True, environ={})
    assert again["KX_LAKE_ENV1_PII_KEY"] == key  # stable tokens across runs
    given = environ_with_key("KX_LAKE_ENV1_PII_KEY", "env1", tmp_path, uses_local_source=True,
                             environ={"KX_LAKE_ENV1_PII_KEY": "k" * 40})
    assert given["KX_LAKE_ENV1_PII_KEY"] == "k" * 40  # a set variable always wins
    deployed = environ_with_key("KX_LAKE_ENV2_PII_KEY", "env2", tmp_path, uses_local_source=False, environ={})
    assert "KX_LAKE_ENV2_PII_KEY" not in deployed and not local_key_file(tmp_path, "env2").exists()
