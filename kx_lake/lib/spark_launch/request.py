"""The sync request Dagster sends to the job script through Pipes extras, and the metadata sent back.

Why the orchestrator's config files travel in the request: the cluster runs the same code on the
same configuration without a second copy to keep in step (collections.csv and environments.yaml are
~15 kB). The lake root is resolved by the orchestrator (KX_LAKE_ROOT or the environment's), so both
sides write the same lake. No secret is ever in it: the MongoDB URI is resolved on the cluster side.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from kx_lake.lib.config import CollectionSpec, ProjectConfig, Settings

KEY = "kx_lake_sync"
CONFIG_FILES = ("environments.yaml", "collections.csv")


@dataclass(frozen=True)
class PublishedRemotely:
    """A collection the job script already published (files, rejects, state) for `env`, and the
    metadata it reported: what the orchestrator records instead of publishing again."""

    env: str
    database: str
    collection: str
    launcher: str
    metadata: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.env}/{self.database}.{self.collection}"


class BadSyncRequest(ValueError):
    """The Pipes extras are not a kx-lake sync request; the message names the field."""


@dataclass(frozen=True)
class SyncRequest:
    env: str
    collections: list[str]  # "database.collection"
    first: date
    last: date
    config: dict[str, str]  # file name → text
    lake_root: str
    home: str | None = None  # the orchestrator's state home: only for a local source (local masters)
    secrets_prefix: str | None = None  # read the URI from AWS Secrets Manager under this prefix
    now_ms: int | None = None  # an injected clock (tests)

    @property
    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @classmethod
    def build(cls, project: ProjectConfig, env: str, specs: list[CollectionSpec], dates: list[date], *,
              secrets_prefix: str | None = None, local_home: bool = False, now_ms: int | None = None) -> SyncRequest:
        if not dates or not specs:
            raise BadSyncRequest(f"{env}: a Spark sync needs at least one collection and one date")
        spec = project.environment(env)
        files = {name: (project.settings.config_dir / name).read_text() for name in CONFIG_FILES}
        return cls(env, [f"{s.database}.{s.collection}" for s in specs], min(dates), max(dates), files,
                   project.lake_root(spec), str(project.settings.home) if local_home else None, secrets_prefix, now_ms)

    def to_extras(self) -> dict[str, Any]:
        body = asdict(self)
        body.update(first=self.first.isoformat(), last=self.last.isoformat())
        return {KEY: body}

    @classmethod
    def from_extras(cls, extras: dict[str, Any]) -> SyncRequest:
        body = extras.get(KEY)
        if not isinstance(body, dict):
            raise BadSyncRequest(f"Pipes extras have no {KEY!r} mapping (got keys {sorted(extras)})")
        missing = [k for k in ("env", "collections", "first", "last", "config", "lake_root") if k not in body]
        if missing:
            raise BadSyncRequest(f"{KEY} lacks {missing}")
        if set(body["config"]) != set(CONFIG_FILES):
            raise BadSyncRequest(f"{KEY}.config must hold exactly {list(CONFIG_FILES)}")
        try:
            first, last = date.fromisoformat(body["first"]), date.fromisoformat(body["last"])
        except (TypeError, ValueError) as exc:
            raise BadSyncRequest(f"{KEY}.first/last: {exc}") from exc
        if last < first:
            raise BadSyncRequest(f"{KEY}: last {last} is before first {first}")
        return cls(body["env"], list(body["collections"]), first, last, dict(body["config"]), body["lake_root"],
                   body.get("home"), body.get("secrets_prefix"), body.get("now_ms"))

    def project(self, workdir: Path) -> ProjectConfig:
        """The orchestrator's configuration, written under `workdir` and loaded as any config dir."""
        config_dir = workdir / "config"
        config_dir.mkdir(parents=True, exist_ok=True)
        for name, text in self.config.items():
            (config_dir / name).write_text(text)
        home = Path(self.home) if self.home else workdir / "home"
        return ProjectConfig.load(Settings(config_dir=config_dir, home=home, lake_root_override=self.lake_root))

    def specs(self, project: ProjectConfig) -> list[CollectionSpec]:
        by_name = {f"{s.database}.{s.collection}": s for s in project.collections}
        unknown = [c for c in self.collections if c not in by_name]
        if unknown:
            raise BadSyncRequest(f"{self.env}: unknown collection(s) {unknown} in the request's collections.csv")
        return [by_name[c] for c in self.collections]

    def mongo_uri(self, project: ProjectConfig) -> str:
        from kx_lake.lib.source.uri import resolve_mongo_uri

        if not self.secrets_prefix:
            return resolve_mongo_uri(project, self.env)
        import boto3

        client = boto3.client("secretsmanager", region_name=project.environment(self.env).aws_region)

        def stored(name: str) -> str | None:
            try:
                return client.get_secret_value(SecretId=self.secrets_prefix + name)["SecretString"]
            except client.exceptions.ResourceNotFoundException:
                return None

        return resolve_mongo_uri(project, self.env, secret_store=stored,
                                 store_name=f"AWS Secrets Manager ({self.secrets_prefix})")

    @staticmethod
    def metadata(done: Any) -> dict[str, Any]:
        """Materialization metadata of a PublishedCollection (plain values: Pipes serialises them)."""
        staged = done.staged
        return {
            "env": staged.env, "rows": staged.rows, "files": len(done.files), "bytes": done.bytes,
            "dates": len(staged.dates), "first_date": min(staged.dates).isoformat() if staged.dates else None,
            "last_date": max(staged.dates).isoformat() if staged.dates else None,
            "schema_version": done.schema_version, "rejected": done.rejects.rejected,
            "watermark_ms": staged.watermark_ms, "engine": "spark",
        }
