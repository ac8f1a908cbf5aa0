"""resolve_mongo_uri precedence and refusal, and redact_uri, without starting any server."""

from __future__ import annotations

import pytest

from kx_lake.lib.config import ProjectConfig, UnknownEnvironmentError
from kx_lake.lib.scrub import redact_uri
from kx_lake.lib.source.uri import MongoUriUnavailable, resolve_mongo_uri


@pytest.fixture
def project(repo_project_in: ProjectConfig) -> ProjectConfig:
    return repo_project_in


def test_env_var_wins(project: ProjectConfig) -> None:
    uri = "mongodb+srv://etl:s3cret@cluster0.example.net/"
    assert resolve_mongo_uri(project, "env1", environ={"KX_LAKE_ENV1_MONGODB_URI": uri}) == uri


def test_other_envs_variable_is_ignored(project: ProjectConfig) -> None:
    with pytest.raises(MongoUriUnavailable) as exc:
        resolve_mongo_uri(project, "env2", environ={"KX_LAKE_ENV1_MONGODB_URI": "mongodb://env1-host/"})
    message = str(exc.value)
    assert "'env2'" in message and "KX_LAKE_ENV2_MONGODB_URI" in message
    assert "kx-lake source up --env env2" in message
    assert f"under KX_LAKE_HOME {project.settings.home};" in message  # where it looked for the local source


def test_blank_variable_counts_as_unset(project: ProjectConfig) -> None:
    with pytest.raises(MongoUriUnavailable):
        resolve_mongo_uri(project, "env1", environ={"KX_LAKE_ENV1_MONGODB_URI": "  "})


@pytest.mark.parametrize("env", ["nope", "env3"])
def test_unknown_and_inactive_envs_refused(project: ProjectConfig, env: str) -> None:
    with pytest.raises(UnknownEnvironmentError, match="env1, env2"):
        resolve_mongo_uri(project, env, environ={"KX_LAKE_ENV3_MONGODB_URI": "mongodb://h/"})


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017/"),
        ("mongodb://etl:p%40ss@h1:27017,h2:27017/db?replicaSet=rs0&appName=my+app",
         "mongodb://etl:***@h1:27017,h2:27017/db?replicaSet=rs0&appName=my+app"),
        ("mongodb+srv://etl:s3cret@cluster0.example.net/?retryWrites=true",
         "mongodb+srv://etl:***@cluster0.example.net/?retryWrites=true"),
        ("mongodb://user@h/?authMechanism=MONGODB-X509", "mongodb://user@h/?authMechanism=MONGODB-X509"),
        ("mongodb://AKIAEXAMPLE:wJalrXUt@h/?authMechanism=MONGODB-AWS"
         "&authMechanismProperties=AWS_SESSION_TOKEN:FwoGZXIvYXdz,SERVICE_NAME:x",
         "mongodb://AKIAEXAMPLE:***@h/?authMechanism=MONGODB-AWS"
         "&authMechanismProperties=AWS_SESSION_TOKEN:***,SERVICE_NAME:x"),
        ("mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN%3AFwoG%2Fz",
         "mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN:***"),
        ("mongodb://h/?tls=true&tlsCertificateKeyFilePassword=hunter2",
         "mongodb://h/?tls=true&tlsCertificateKeyFilePassword=***"),
        ("mongodb://u:raw@pass@h/", "mongodb://u:***@h/"),
        ("not a uri", "not a uri"),
    ],
)
def test_redact_uri(uri: str, expected: str) -> None:
    assert redact_uri(uri) == expected


def test_redacted_output_never_contains_the_secrets() -> None:
    uri = "mongodb://etl:topsecret@h/?authMechanismProperties=AWS_SESSION_TOKEN:tok123&appName=a"
    shown = redact_uri(uri)
    assert "topsecret" not in shown and "tok123" not in shown
