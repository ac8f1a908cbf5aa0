"""The opt-in MongoDB URI source: AWS Secrets Manager through dagster-aws's SecretsManagerResource,
against moto's server (secret name: prefix + the environment's `mongodb_uri_secret`)."""

from __future__ import annotations

import warnings

import dagster as dg
import pytest

from kx_lake.builders.resources import MongoSourceResource, ProjectResource
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.source.uri import MongoUriUnavailable
from kx_lake_tests.fixtures.moto_server import ACCESS_KEY, SECRET_KEY, MotoServer, unique_name

pytestmark = pytest.mark.integration

SECRET_URI = "mongodb://kx_app:Sm-only-pa55@mongo.prod.internal:27017/?authSource=admin"


def _resource(moto_server: MotoServer, project: ProjectConfig, prefix: str) -> MongoSourceResource:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # SecretsManagerResource is marked beta
        from dagster_aws.secretsmanager import SecretsManagerResource

        store = SecretsManagerResource(region_name=moto_server.region, endpoint_url=moto_server.endpoint_url,
                                       aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    return MongoSourceResource(kx_project=ProjectResource(config_dir=str(project.settings.config_dir)),
                               secrets_manager=store, secrets_prefix=prefix)


def test_the_uri_comes_from_secrets_manager_before_the_variable(moto_server: MotoServer, repo_project_in,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KX_LAKE_HOME", str(repo_project_in.settings.home))
    monkeypatch.setenv("KX_LAKE_ENV1_MONGODB_URI", "mongodb://from-the-variable:27017/")
    prefix = unique_name("kx") + "/"
    moto_server.client("secretsmanager").create_secret(Name=f"{prefix}KX_LAKE_ENV1_MONGODB_URI", SecretString=SECRET_URI)
    mongo = _resource(moto_server, repo_project_in, prefix)
    assert mongo.uri("env1") == SECRET_URI
    with pytest.raises(MongoUriUnavailable, match="has no secret KX_LAKE_ENV2_MONGODB_URI"):
        mongo.uri("env2")  # env2 has neither a secret nor a variable here


def test_no_secret_falls_back_to_the_variable_then_fails_naming_both(moto_server: MotoServer, repo_project_in,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KX_LAKE_HOME", str(repo_project_in.settings.home))
    prefix = unique_name("kx") + "/"
    mongo = _resource(moto_server, repo_project_in, prefix)
    monkeypatch.setenv("KX_LAKE_ENV1_MONGODB_URI", "mongodb://from-the-variable:27017/")
    assert mongo.uri("env1") == "mongodb://from-the-variable:27017/"
    monkeypatch.delenv("KX_LAKE_ENV1_MONGODB_URI")
    with pytest.raises(MongoUriUnavailable) as err:
        mongo.uri("env1")
    assert f"AWS Secrets Manager ({prefix}) has no secret KX_LAKE_ENV1_MONGODB_URI" in str(err.value)
    assert "KX_LAKE_ENV1_MONGODB_URI is not set" in str(err.value)
