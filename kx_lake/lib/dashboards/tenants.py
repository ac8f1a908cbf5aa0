"""Tenant isolation: which facilities a signed-in user may see.

`assets_config/tenants.yaml` maps, per environment, each tenant (a hospital group) to its
facility_ids. It is the single source of the rules: the local site filters every query with it, and
QuickSight row-level security is generated from it. A `Principal` is what a request runs as: a
tenant (its facility ids) or the admin role (every facility, `facility_ids is None`).

Sign-in tokens are secrets, so they live outside the repository in the kx-lake home
(`<home>/secrets/dashboard_tokens.json`, mode 0600), generated on first use with `secrets` and
extended when new tenants appear; nothing here reads the environment — callers pass the paths.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kx_lake.lib.config.errors import ConfigError, ConfigErrors
from kx_lake.lib.config.files import load_yaml

TENANTS_FILE = "tenants.yaml"
TOKENS_RELPATH = ("secrets", "dashboard_tokens.json")
ADMIN = "admin"


class Tenant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    facility_ids: tuple[str, ...] = Field(min_length=1)


class _TenantBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    facility_ids: list[str] = Field(min_length=1)


class _TenantsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenants: dict[str, dict[str, _TenantBody]]


@dataclass(frozen=True)
class Tenants:
    """env → tenant id → Tenant."""

    by_env: dict[str, dict[str, Tenant]]
    source: str = ""

    @classmethod
    def load(cls, path: Path) -> Tenants:
        try:
            raw = load_yaml(path)
        except FileNotFoundError:
            raise ConfigErrors([ConfigError(path, "tenants file not found")]) from None
        except ConfigError as exc:
            raise ConfigErrors([exc]) from None
        try:
            parsed = _TenantsFile.model_validate(raw)
        except ValidationError as exc:
            raise ConfigErrors([ConfigError(path, e["msg"], field=".".join(map(str, e["loc"])))
                                for e in exc.errors()]) from None
        by_env, errors = {}, []
        for env, tenants in parsed.tenants.items():
            owner: dict[str, str] = {}
            by_env[env] = {}
            for tid, body in tenants.items():
                if tid == ADMIN:
                    errors.append(ConfigError(path, f"{ADMIN!r} is the reserved admin role", field=f"tenants.{env}"))
                for i, fid in enumerate(body.facility_ids):
                    if problem := facility_id_problem(fid):
                        errors.append(ConfigError(path, problem, field=f"tenants.{env}.{tid}.facility_ids.{i}"))
                    if fid in owner and owner[fid] != tid:
                        errors.append(ConfigError(path, f"facility {fid} belongs to both {owner[fid]} and {tid}",
                                                  field=f"tenants.{env}.{tid}.facility_ids"))
                    owner[fid] = tid
                by_env[env][tid] = Tenant(id=tid, name=body.name, facility_ids=tuple(body.facility_ids))
        if errors:
            raise ConfigErrors(errors)
        return cls(by_env, str(path))

    def of(self, env: str) -> dict[str, Tenant]:
        return self.by_env.get(env, {})


def facility_id_problem(fid: str) -> str | None:
    """Why `fid` cannot be a facility id as written (ids are matched exactly against the data), or None."""
    if fid != fid.strip():
        return f"facility id {fid!r} has leading or trailing spaces; it would never match the data's {fid.strip()!r}"
    if not fid or any(not c.isprintable() for c in fid):
        return f"facility id {fid!r} is empty or holds control characters"
    return None


@dataclass(frozen=True)
class Principal:
    """Who a request runs as. `facility_ids` None means every facility (admin)."""

    env: str
    role: str  # "tenant" | "admin"
    tenant_id: str | None
    name: str
    facility_ids: frozenset[str] | None

    @property
    def is_admin(self) -> bool:
        return self.facility_ids is None

    def may_see(self, facility_id: str) -> bool:
        return self.facility_ids is None or facility_id in self.facility_ids


def admin(env: str) -> Principal:
    return Principal(env, ADMIN, None, "Administrator (all facilities)", None)


def tenant_principal(env: str, tenant: Tenant) -> Principal:
    return Principal(env, "tenant", tenant.id, tenant.name, frozenset(tenant.facility_ids))


def tokens_path(home: Path) -> Path:
    return home.joinpath(*TOKENS_RELPATH)


@dataclass(frozen=True)
class TokenStore:
    """token → (env, tenant id or "admin"), persisted as JSON under the kx-lake home."""

    path: Path
    entries: dict[str, dict[str, str]]

    @classmethod
    def ensure(cls, path: Path, env: str, tenants: Tenants) -> tuple[TokenStore, bool]:
        """Load the token file, adding a token for `env`'s admin and each tenant lacking one.

        Returns the store and whether tokens were created (the CLI prints them only then).
        """
        entries: dict[str, dict[str, str]] = {}
        if path.exists():
            entries = json.loads(path.read_text()).get("tokens", {})
        have = {(e["env"], e["subject"]) for e in entries.values()}
        created = False
        for subject in (ADMIN, *tenants.of(env)):
            if (env, subject) not in have:
                entries[secrets.token_urlsafe(24)] = {"env": env, "subject": subject}
                created = True
        if created:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump({"tokens": entries}, fh, indent=1)
            os.replace(tmp, path)
        return cls(path, entries), created

    def tokens_for(self, env: str) -> dict[str, str]:
        """subject (tenant id or "admin") → token, for one environment."""
        return {e["subject"]: tok for tok, e in self.entries.items() if e["env"] == env}

    def principal(self, token: str | None, env: str, tenants: Tenants) -> Principal | None:
        """The principal a token signs in as on `env`'s site, or None (unknown, other env, dropped tenant)."""
        if not token:
            return None
        entry = None
        for candidate, e in self.entries.items():  # compare every token in constant time
            if secrets.compare_digest(candidate.encode(), token.encode()):
                entry = e
        if entry is None or entry["env"] != env:
            return None
        if entry["subject"] == ADMIN:
            return admin(env)
        tenant = tenants.of(env).get(entry["subject"])
        return tenant_principal(env, tenant) if tenant else None
