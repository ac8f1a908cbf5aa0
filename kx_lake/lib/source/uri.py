"""Which MongoDB an environment reads from (showing a URI safely is `kx_lake.lib.scrub.redact_uri`).

One rule for every source (Atlas, a self-hosted replica set, the local FerretDB): the variable named by
the environment's `mongodb_uri_secret` wins; otherwise the environment's running local FerretDB is used;
otherwise it is an error naming both, so nothing silently reads the wrong database. The environment is
looked up through `ProjectConfig.environment`, which refuses unknown and inactive ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.source import local_server


class MongoUriUnavailable(RuntimeError):
    """Neither the environment's URI variable nor its local source is available."""


def resolve_mongo_uri(project: ProjectConfig, env_name: str, environ: Mapping[str, str] | None = None,
                      secret_store: Callable[[str], str | None] | None = None, store_name: str = "") -> str:
    """The MongoDB URI for an environment: from `secret_store` (opt-in, e.g. AWS Secrets Manager,
    asked for the environment's secret name) when given, else its secret variable, else its running
    local FerretDB."""
    spec = project.environment(env_name)
    if secret_store is not None:
        stored = (secret_store(spec.mongodb_uri_secret) or "").strip()
        if stored:
            return stored
    env = os.environ if environ is None else environ
    value = (env.get(spec.mongodb_uri_secret) or "").strip()
    if value:
        return value
    info = local_server.running(project, spec.name)
    if info is not None:
        return info.uri
    raise MongoUriUnavailable(
        f"no MongoDB for environment {spec.name!r}: "
        + (f"{store_name} has no secret {spec.mongodb_uri_secret}, " if secret_store is not None else "")
        + f"{spec.mongodb_uri_secret} is not set and its local source "
        f"is not running under KX_LAKE_HOME {project.settings.home}; set {spec.mongodb_uri_secret} to the "
        f"MongoDB URI, or run `kx-lake source up --env {spec.name}` (with the same KX_LAKE_HOME)"
    )
