"""S3-only storage behaviour against a real SeaweedFS: configuration through the standard AWS variables.

The shared local/S3 cases live in unit/test_storage_lake.py (its s3 half is also marked integration).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pyarrow as pa
import pytest
import s3fs

from kx_lake.lib.storage import LakeStorage

pytestmark = pytest.mark.integration

_AWS_VARS = ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_SESSION_TOKEN")


@pytest.fixture
def aws_env(seaweed_s3, monkeypatch):
    """Point the default AWS chain at SeaweedFS, as a deployment would with real S3."""
    for name in _AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in seaweed_s3.env().items():
        monkeypatch.setenv(name, value)
    return seaweed_s3


def test_endpoint_and_credentials_come_from_aws_variables_read_at_first_use(seaweed_s3, monkeypatch):
    root = seaweed_s3.unique_prefix()
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", *_AWS_VARS):
        monkeypatch.delenv(name, raising=False)
    storage = LakeStorage.from_root(root)  # no storage_options, and the variables are not even set yet
    for name, value in seaweed_s3.env().items():
        if name != "AWS_ENDPOINT_URL":  # the S3-specific variable alone is enough
            monkeypatch.setenv(name, value)
    # Resolve the client before any request, so a regression fails here instead of calling real AWS.
    assert storage.fs.s3.meta.endpoint_url == seaweed_s3.endpoint_url
    table = pa.table({"x": [1, 2, 3]})
    [written] = storage.write_partition("env1", "hims", "visits", dt.date(2024, 1, 1), {(): table}, table.schema)
    assert written.path == f"{root}/env1/hims/visits/date=2024-01-01/part-00000.parquet"
    assert seaweed_s3.filesystem().exists(written.path)


def test_generic_endpoint_variable_is_honoured_too(aws_env, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    storage = LakeStorage.from_root(aws_env.unique_prefix())
    assert storage.fs.s3.meta.endpoint_url == aws_env.endpoint_url
    storage.write_json_atomic("env1", "probe.json", {"ok": True})
    assert storage.read_json("env1", "probe.json") == {"ok": True}


def test_env_dict_configures_a_subprocess(aws_env):
    root = aws_env.unique_prefix()
    LakeStorage.from_root(root).write_json_atomic("env2", "hims/visits/schema.json", {"version": 3})
    code = (
        "import json, sys; from kx_lake.lib.storage import LakeStorage; "
        "print(json.dumps(LakeStorage.from_root(sys.argv[1]).read_json('env2', 'hims/visits/schema.json')))"
    )
    env = {"PATH": "/usr/bin:/bin", **aws_env.env()}
    out = subprocess.run([sys.executable, "-c", code, root], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"version": 3}


def test_server_enforces_the_configured_identity(seaweed_s3):
    options = {**seaweed_s3.storage_options, "secret": "wrong-secret"}
    fs = s3fs.S3FileSystem(skip_instance_cache=True, **options)
    with pytest.raises(PermissionError):
        fs.pipe_file(seaweed_s3.url("denied.txt"), b"x")
