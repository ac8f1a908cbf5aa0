"""QuickSight settings per environment, from `assets_config/quicksight.yaml` (its own file).

Why a separate file and model instead of more fields in environments.yaml: QuickSight is one
consumer of the lake among several, deployed by a different team on a different cadence, and its
settings (account, principals, SPICE or direct query, RLS groups) mean nothing to the sync. Keeping
them here leaves the environments model untouched; what QuickSight shares with the lake — region,
namespace, Athena workgroup, Glue database prefix — is still read from `EnvironmentSpec`, once,
in `QuickSightTarget`, so the two files cannot disagree.

Loading is explicit and validated with pydantic; every problem is a ConfigError naming the file and
field, all at once. No credentials are configured here (the AWS chain supplies them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kx_lake.lib.catalog.names import analytics_database
from kx_lake.lib.config import ConfigError, ConfigErrors, EnvironmentSpec, ProjectConfig

QUICKSIGHT_FILE = "quicksight.yaml"
DEFAULT_TENANTS_FILE = "tenants.yaml"
ANALYTICS_DATABASE = "analytics"  # the dataset views' database: <glue_database_prefix>analytics
_ARN = r"^arn:aws[a-z-]*:quicksight:[a-z0-9-]*:\d{12}:(user|group|namespace)/.+$"


class ImportMode(StrEnum):
    SPICE = "SPICE"
    DIRECT_QUERY = "DIRECT_QUERY"


class QuickSightEnvSettings(BaseModel):
    """One environment's block of quicksight.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    aws_account_id: str = Field(pattern=r"^\d{12}$")
    import_mode: ImportMode = ImportMode.SPICE
    owners: list[str] = Field(min_length=1)
    viewers: list[str] = []
    admin_group: str = Field(min_length=1, max_length=128, pattern=r"^[\w+=,.@-]+$")
    tenant_group_prefix: str = Field(default="kx-", pattern=r"^[\w+=,.@-]*$")
    manage_groups: bool = True
    analytics_database: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,255}$")
    tenants_file: str | None = None

    @field_validator("owners", "viewers")
    @classmethod
    def _principal_arns(cls, arns: list[str]) -> list[str]:
        for i, arn in enumerate(arns):
            if not re.match(_ARN, arn):
                raise ValueError(f"[{i}] {arn!r} is not a QuickSight user/group ARN")
        return arns


class QuickSightFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    environments: dict[str, QuickSightEnvSettings]


@dataclass(frozen=True)
class QuickSightTarget:
    """Everything one deploy/refresh of one environment needs: quicksight.yaml ∪ environments.yaml."""

    env: str
    account_id: str
    region: str
    namespace: str
    athena_workgroup: str
    analytics_database: str
    import_mode: ImportMode
    owners: tuple[str, ...]
    viewers: tuple[str, ...]
    admin_group: str
    tenant_group_prefix: str
    manage_groups: bool
    tenants_file: Path

    def tenant_group(self, tenant: str) -> str:
        return f"{self.tenant_group_prefix}{tenant}"


def load_quicksight_file(path: Path) -> QuickSightFile:
    """Parse and validate quicksight.yaml; ConfigErrors naming the file and each bad field."""
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigErrors([ConfigError(path, "file not found")]) from exc
    except yaml.YAMLError as exc:
        raise ConfigErrors([ConfigError(path, f"not valid YAML: {exc}")]) from exc
    try:
        return QuickSightFile.model_validate(raw)
    except ValidationError as exc:
        errors = [
            ConfigError(path, e["msg"].removeprefix("Value error, "), field=".".join(str(p) for p in e["loc"]) or None)
            for e in exc.errors()
        ]
        raise ConfigErrors(errors) from None


def resolve_target(project: ProjectConfig, env_name: str, qs_file: QuickSightFile | None = None) -> QuickSightTarget:
    """The QuickSight target of one (active) environment; an error names both files when it is missing."""
    env: EnvironmentSpec = project.environment(env_name)
    path = project.settings.config_dir / QUICKSIGHT_FILE
    qs_file = qs_file or load_quicksight_file(path)
    settings = qs_file.environments.get(env.name)
    if settings is None:
        raise ConfigErrors([ConfigError(path, f"no QuickSight settings for environment {env.name!r} "
                                              f"(configured: {', '.join(sorted(qs_file.environments)) or 'none'})",
                                        field="environments")])
    tenants = Path(settings.tenants_file or DEFAULT_TENANTS_FILE)
    return QuickSightTarget(
        env=env.name,
        account_id=settings.aws_account_id,
        region=env.aws_region,
        namespace=env.quicksight_namespace,
        athena_workgroup=env.athena_workgroup,
        analytics_database=settings.analytics_database or analytics_database(env),
        import_mode=settings.import_mode,
        owners=tuple(settings.owners),
        viewers=tuple(settings.viewers),
        admin_group=settings.admin_group,
        tenant_group_prefix=settings.tenant_group_prefix,
        manage_groups=settings.manage_groups,
        tenants_file=tenants if tenants.is_absolute() else project.settings.config_dir / tenants,
    )
