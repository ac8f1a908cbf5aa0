"""Which MongoDB an environment reads from, and how to show a URI without leaking its secrets.

One rule for every source (Atlas, a self-hosted replica set, the local FerretDB): the variable named by
the environment's `mongodb_uri_secret` wins; otherwise the environment's running local FerretDB is used;
otherwise it is an error naming both, so nothing silently reads the wrong database. The environment is
looked up through `ProjectConfig.environment`, which refuses unknown and inactive ones.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from urllib.parse import unquote

from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.source import local_server

REDACTED = "***"
_SECRET_NAME = re.compile(r"pass|secret|token|credential", re.IGNORECASE)
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<rest>.*)$", re.DOTALL)


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


def redact_uri(uri: str) -> str:
    """The URI with its password and secret query values (tokens, passwords) replaced by ***."""
    match = _SCHEME.match(uri)
    if not match:
        return uri
    scheme, rest = match["scheme"], match["rest"]
    head, sep, query = rest.partition("?")
    userinfo, at, hosts = head.rpartition("@")  # hosts and paths never contain '@'; userinfo ends at the last one
    if at:
        user, colon, _password = userinfo.partition(":")
        head = f"{user}:{REDACTED}@{hosts}" if colon else f"{userinfo}@{hosts}"
    if sep:
        query = _redact_query(query)
    return f"{scheme}{head}{sep}{query}"


def _redact_query(query: str) -> str:
    """Redact secret values; leave every other parameter byte for byte as written."""
    parts = []
    for part in query.split("&"):
        key, eq, value = part.partition("=")
        name = unquote(key)
        if eq and _SECRET_NAME.search(name):
            part = f"{key}={REDACTED}"
        elif eq and name.lower() == "authmechanismproperties":
            props = [_redact_property(p) for p in unquote(value).split(",")]
            if any(p.endswith(f":{REDACTED}") for p in props):
                part = f"{key}={','.join(props)}"
        parts.append(part)
    return "&".join(parts)


def _redact_property(prop: str) -> str:
    name, colon, _value = prop.partition(":")
    return f"{name}:{REDACTED}" if colon and _SECRET_NAME.search(name) else prop
