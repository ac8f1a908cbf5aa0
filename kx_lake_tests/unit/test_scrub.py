"""The one scrubber: secrets are removed wherever they sit in a longer text, by shape and by value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kx_lake.cli.common import print_error
from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.scrub import REDACTED, Scrubber, scrub

PASSWORD = "Pa55w0rd-Very-Secret"
URI = f"mongodb://kx_app:{PASSWORD}@mongo-1.internal:27017/?authSource=admin"
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    "text",
    [
        f"ServerSelectionTimeoutError: could not reach {URI} after 20 s",  # not at the start: missed before
        f"OperationFailure: auth failed (uri='{URI}')",
        f"while connecting to\n{URI}\nretrying",
        f"two: mongodb://a:{PASSWORD}@h1/ and postgresql://b:{PASSWORD}@h2:5432/db",
    ],
)
def test_uri_password_anywhere_in_a_message(text: str) -> None:
    out = scrub(text, environ={})
    assert PASSWORD not in out
    assert "mongo" in out or "postgresql" in out  # the rest of the message survives


def test_uri_shape_keeps_hosts_and_harmless_query() -> None:
    out = scrub(f"failed: {URI}", environ={})
    assert out == f"failed: mongodb://kx_app:{REDACTED}@mongo-1.internal:27017/?authSource=admin"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"InvalidClientTokenId: key {AWS_KEY_ID} is not valid", AWS_KEY_ID),
        (f"botocore: signature mismatch for secret {AWS_SECRET}.", AWS_SECRET),
        (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),
        ("{'AccessKeyId': 'ASIAXYZXYZXYZXYZXYZ1', 'SecretAccessKey': 'abc/def+ghi'}", "abc/def+ghi"),
        ("{'SessionToken': 'FwoGZXIvYXdzEJr//////////wEaDH'}", "FwoGZXIvYXdzEJr"),
        ("GET /x Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ("Authorization: Basic a3g6aHVudGVyMg==", "a3g6aHVudGVyMg=="),
        ("smtp login failed: password=hunter2-x for kx", "hunter2-x"),
        ('{"password": "s3cr3t!"}', "s3cr3t!"),
        ("http://127.0.0.1:8050/login?token=Zq9-abcdefgh", "Zq9-abcdefgh"),
    ],
)
def test_secret_shapes_never_seen_before(text: str, secret: str) -> None:
    out = scrub(text, environ={})
    assert secret not in out, out
    assert REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        "plain text, no secrets",
        "basic checks passed; 12 tokens; commit 3f786850e387550fdab836ed7e6dc881de23001b",
        "env1/hims_billing.bills: none of the configured partition columns ['facility_id'] exist",
        "s3://kx-lake/env1/hims_core/patients/date=2026-01-01/part-00000.parquet",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub(text, environ={}) == text


def test_values_of_secret_variables_anywhere_even_encoded() -> None:
    environ = {
        "KX_LAKE_ENV1_MONGODB_URI": URI,
        "ATLAS_PROD": "mongodb://u:p%40ss-w0rd-x@h/",  # named only in environments.yaml
        "SMTP_PASSWORD": "correct-horse-battery",
        "HOME": "/home/kx",
    }
    s = Scrubber.from_environment(["ATLAS_PROD"], environ)
    out = s(f"raw {PASSWORD} / p@ss-w0rd-x / p%40ss-w0rd-x / correct-horse-battery in /home/kx")
    for secret in (PASSWORD, "p@ss-w0rd-x", "p%40ss-w0rd-x", "correct-horse-battery"):
        assert secret not in out
    assert "/home/kx" in out  # not a secret variable


def test_for_project_uses_each_environments_uri_variable(tmp_path: Path) -> None:
    project = ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ={"KX_LAKE_HOME": str(tmp_path)}))
    env = next(iter(project.environments.values()))
    s = Scrubber.for_project(project, environ={env.mongodb_uri_secret: "mongodb://u:opaque-value@h/"})
    assert "opaque-value" not in s("echo opaque-value, its password alone")


def test_scrubbed_json_stays_json() -> None:
    doc = {"error": 'OperationFailure: {"password": "abc\\"def"} password=x\\y ' + URI, "rows": 1}
    out = scrub(json.dumps(doc), environ={})
    assert PASSWORD not in out and json.loads(out)["rows"] == 1


def test_cli_errors_are_scrubbed(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KX_LAKE_SMTP_PASSWORD", "hunter2-hunter2")
    print_error(f"sync failed: {URI} rejected hunter2-hunter2")
    err = capsys.readouterr().err
    assert PASSWORD not in err and "hunter2-hunter2" not in err and "sync failed" in err


LEAKY = "publishing failed: mongodb://user:S3cretPw@host:27017 key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _raise_in(block, exc: BaseException) -> BaseException:
    import traceback

    try:
        with block:
            raise exc
    except BaseException as raised:  # noqa: BLE001 - the test inspects what left the block
        raised.printed = "".join(traceback.format_exception(raised))
        return raised
    raise AssertionError("nothing was raised")


def test_errors_leave_a_block_scrubbed_same_type_and_without_the_original_in_the_chain() -> None:
    from kx_lake.lib.scrub import errors_scrubbed

    raised = _raise_in(errors_scrubbed(Scrubber), OSError(LEAKY))
    assert type(raised) is OSError and "mongodb://user:***@host:27017" in str(raised)
    for secret in ("S3cretPw", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"):
        assert secret not in raised.printed  # the whole printed traceback, chain included


def test_a_secret_in_the_cause_is_scrubbed_and_a_type_without_a_message_constructor_is_named() -> None:
    from kx_lake.lib.scrub import ScrubbedError, errors_scrubbed

    class NeedsTwo(Exception):
        def __init__(self, code: int, text: str):
            super().__init__(f"{code}: {text}")

    def chained() -> None:
        try:
            raise ValueError(LEAKY)
        except ValueError as inner:
            raise NeedsTwo(500, "storage refused") from inner

    try:
        with errors_scrubbed(Scrubber):
            chained()
    except ScrubbedError as raised:
        assert str(raised).startswith("NeedsTwo: 500: storage refused (caused by ValueError: publishing failed:")
        assert "S3cretPw" not in str(raised) and raised.__cause__ is None and raised.__suppress_context__
    else:
        raise AssertionError("no ScrubbedError")


def test_an_error_with_nothing_secret_leaves_untouched() -> None:
    from kx_lake.lib.scrub import errors_scrubbed

    original = KeyError("plain")
    assert _raise_in(errors_scrubbed(Scrubber), original) is original
