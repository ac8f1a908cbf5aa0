"""Which MongoDB an environment reads from (showing a URI safely is `kx_lake.lib.scrub.redact_uri`).

One rule for every source (Atlas, a self-hosted replica set, the local FerretDB): the variable named by
the environment's `mongodb_uri_secret` wins; otherwise the environment's running local FerretDB is used;
otherwise it is an error naming both, so nothing silently reads the wrong database. The environment is
looked up through `ProjectConfig.environment`, which refuses unknown and inactive ones.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.source import local_server


class MongoUriUnavailable(RuntimeError):
    """Neither the environment's URI variable nor its local source is available."""


def resolve_mongo_uri(project: ProjectConfig, env_name: str, environ: Mapping[str, str] | None = None) -> str:
    """The MongoDB URI for an environment: its secret variable, else its running local FerretDB."""
    spec = project.environment(env_name)
    env = os.environ if environ is None else environ
    value = (env.get(spec.mongodb_uri_secret) or "").strip()
    if value:
        return value
    info = local_server.running(project, spec.name)
    if info is not None:
        return info.uri
    raise MongoUriUnavailable(
        f"no MongoDB for environment {spec.name!r}: {spec.mongodb_uri_secret} is not set and its local source "
        f"is not running; set {spec.mongodb_uri_secret} to the MongoDB URI, or run "
        f"`kx-lake source up --env {spec.name}`"
    )
