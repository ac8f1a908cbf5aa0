"""operations.yaml: how often to sync, when data counts as stale, who gets the run e-mail and how.

A separate file from environments.yaml because it changes for operational reasons (on-call lists,
cadence) and is owned by whoever runs the lake, not by whoever models the data. A missing file means
the defaults below (hourly, SMTP on localhost:1025, nothing sent beyond the laptop). Credentials are
never in the file: `username_env` / `password_env` name environment variables read when a mail is sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kx_lake.lib.config.errors import ConfigError, ConfigErrors

OPERATIONS_FILE = "operations.yaml"
_ENV_VAR = r"^[A-Za-z_][A-Za-z0-9_]*$"
_EMAIL = r"^[^@\s]+@[^@\s]+$"


def is_valid_cron(expression: str) -> bool:
    """What a Dagster schedule accepts: a cron croniter parses, with five fields (no seconds), and
    not a day that never comes (30 or 31 February)."""
    if not croniter.is_valid(expression):
        return False
    fields = croniter.expand(expression)[0]
    if len(fields) != 5:
        return False
    _, _, days, months, _ = fields
    return not (months == [2] and len(days) == 1 and days[0] in (30, 31))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScheduleConfig(_Model):
    cron: str = "0 * * * *"
    lookback_days: int = Field(default=1, ge=0, le=31)  # 1: today and yesterday

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        if not is_valid_cron(value):
            raise ValueError(f"not a valid five-field cron expression: {value!r}")
        return value


class SensorConfig(_Model):
    minimum_interval_seconds: int = Field(default=300, ge=30)


class SmtpConfig(_Model):
    host: str = "localhost"
    port: int = Field(default=1025, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "none"
    username_env: str | None = Field(default=None, pattern=_ENV_VAR)
    password_env: str | None = Field(default=None, pattern=_ENV_VAR)
    timeout_s: float = Field(default=10.0, gt=0)


class SesConfig(_Model):
    region: str = "ap-south-1"
    configuration_set: str | None = None


class EmailConfig(_Model):
    enabled: bool = True
    transport: Literal["smtp", "ses"] = "smtp"
    sender: str = Field(default="kx-lake@localhost", pattern=_EMAIL)
    recipients: tuple[str, ...] = ("data-team@localhost",)
    subject_prefix: str = "[kx-lake]"
    smtp: SmtpConfig = SmtpConfig()
    ses: SesConfig = SesConfig()

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        import re

        bad = [a for a in value if not re.match(_EMAIL, a)]
        if bad:
            raise ValueError(f"not e-mail addresses: {bad}")
        if not value:
            raise ValueError("at least one recipient")
        return value


class FacilityCheckConfig(_Model):
    """Where the facility-name check reads: the master collection it is attached to and dim_facility."""

    asset: str = "hims_masters.facilities"  # <database>.<collection> the check is attached to
    view: str = "dim_facility"  # in the catalog database of the asset's MongoDB database
    spellings_from: tuple[str, ...] = ("hims_patient.encounters", "hims_billing.bills")
    max_spellings: int = Field(default=2, ge=1)  # the master's name + one legacy spelling (M19) is tolerated


class ChecksConfig(_Model):
    enabled: bool = True
    freshness_max_lag_hours: float = Field(default=26.0, gt=0)
    facility_names: FacilityCheckConfig = FacilityCheckConfig()


class LeaseConfig(_Model):
    """One sync per environment (lib/lake/lease.py): how long a holder that stopped renewing keeps the
    lease, and how long another sync waits for it before failing with the holder's name."""

    ttl_seconds: float = Field(default=120.0, ge=3)
    wait_seconds: float = Field(default=900.0, ge=0)


class OperationsConfig(_Model):
    ui_base_url: str = Field(default="http://127.0.0.1:3000", pattern=r"^https?://")
    schedule: ScheduleConfig = ScheduleConfig()
    sensor: SensorConfig = SensorConfig()
    email: EmailConfig = EmailConfig()
    checks: ChecksConfig = ChecksConfig()
    lease: LeaseConfig = LeaseConfig()

    def run_url(self, run_id: str) -> str:
        return f"{self.ui_base_url.rstrip('/')}/runs/{run_id}"

    @classmethod
    def load(cls, config_dir: Path) -> OperationsConfig:
        """From `<config_dir>/operations.yaml`; every validation error names the file and field."""
        path = Path(config_dir) / OPERATIONS_FILE
        if not path.exists():
            return cls()
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(path, f"not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(path, "expected a mapping at the top level")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ConfigErrors([
                ConfigError(path, err["msg"], field=".".join(str(p) for p in err["loc"])) for err in exc.errors()
            ]) from None
