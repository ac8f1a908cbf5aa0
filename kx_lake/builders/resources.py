"""Dagster resources: thin, lazily-configured handles on kx_lake.lib.

Each resource resolves Settings when a run starts (not at import, not at definitions load), so the
same definitions serve `dg dev`, the CLI and tests pointed elsewhere by KX_LAKE_CONFIG_DIR /
KX_LAKE_HOME / KX_LAKE_ROOT. Where the configuration lives is one resource, `ProjectResource`
(key `kx_project`); every other resource nests that same instance (`kx_project` field), so one
setting points them all elsewhere. MongoDB clients are opened per environment on first use and closed
when the run ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr
from botocore.exceptions import ClientError
from dagster_aws.secretsmanager import SecretsManagerResource
from pymongo import MongoClient

from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.source.uri import resolve_mongo_uri
from kx_lake.lib.staging import claim_run_dir


@lru_cache(maxsize=8)
def _load(settings: Settings) -> ProjectConfig:
    return ProjectConfig.load(settings)


# The configuration directory definitions are being built for (kx_lake.definitions.build_definitions):
# the CLI passes its --config-dir this way instead of setting KX_LAKE_CONFIG_DIR in os.environ.
_DEFINITIONS_CONFIG_DIR: ContextVar[str | None] = ContextVar("kx_lake_definitions_config_dir", default=None)


@contextmanager
def definitions_for(config_dir: str | None) -> Iterator[None]:
    token = _DEFINITIONS_CONFIG_DIR.set(config_dir)
    try:
        yield
    finally:
        _DEFINITIONS_CONFIG_DIR.reset(token)


def load_project(config_dir: str | None = None) -> ProjectConfig:
    """The project configuration, loaded once per distinct Settings in this process: `config_dir`,
    else the one definitions are being built for, else KX_LAKE_CONFIG_DIR / ./assets_config."""
    return _load(Settings.resolve(config_dir or _DEFINITIONS_CONFIG_DIR.get()))


class ProjectResource(dg.ConfigurableResource):
    """Where kx-lake's configuration and state live (default: $KX_LAKE_CONFIG_DIR or ./assets_config)."""

    config_dir: str | None = None

    @property
    def project(self) -> ProjectConfig:
        return load_project(self.config_dir)

    def staging_dir(self, run_id: str) -> Path:
        # 0700, locked for this process; crashed runs' spools are removed here (kx_lake.lib.staging)
        return claim_run_dir(self.project.settings.state_dir("staging"), run_id)


@lru_cache(maxsize=8)
def _shared_project_resource(config_dir: str | None) -> ProjectResource:
    return ProjectResource(config_dir=config_dir)


def project_resource() -> ProjectResource:
    """The one ProjectResource of the definitions being built (the same instance for every defs
    module, which nests it in their resources), pointing at their configuration directory."""
    return _shared_project_resource(_DEFINITIONS_CONFIG_DIR.get())


class MongoSourceResource(dg.ConfigurableResource):
    """MongoDB clients per environment; URIs come from each environment's secret or the local source.

    Opt-in: with `secrets_manager` (dagster-aws) set, the URI is first read from AWS Secrets Manager,
    secret `<secrets_prefix><the environment's mongodb_uri_secret>` (e.g. kx-lake/KX_LAKE_ENV1_MONGODB_URI)."""

    kx_project: ProjectResource
    secrets_manager: SecretsManagerResource | None = None
    secrets_prefix: str = ""
    server_selection_timeout_ms: int = 20_000
    _clients: dict[str, MongoClient] = PrivateAttr(default_factory=dict)

    def _from_secrets_manager(self, name: str) -> str | None:
        try:
            return self.secrets_manager.get_client().get_secret_value(SecretId=self.secrets_prefix + name)["SecretString"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise

    def uri(self, env: str) -> str:
        if self.secrets_manager is None:
            return resolve_mongo_uri(self.kx_project.project, env)
        return resolve_mongo_uri(self.kx_project.project, env, secret_store=self._from_secrets_manager,
                                 store_name=f"AWS Secrets Manager ({self.secrets_prefix or 'no prefix'})")

    def client(self, env: str) -> MongoClient:
        if env not in self._clients:
            uri = self.uri(env)
            self._clients[env] = MongoClient(
                uri, serverSelectionTimeoutMS=self.server_selection_timeout_ms, appname="kx-lake", tz_aware=True
            )
        return self._clients[env]

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
