"""The loaded, cross-validated project configuration: environments, databases and collections.

Loading is explicit (`ProjectConfig.load(settings)`) so an invalid file fails where it is read, with
its location, and never at import. Environment selection lives here so every entry point (CLI,
Dagster, tests) refuses unknown or inactive environments with the same message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from kx_lake.lib.config.collections import CollectionSpec, load_collections
from kx_lake.lib.config.environments import EnvironmentSpec, load_environments
from kx_lake.lib.config.settings import Settings


class UnknownEnvironmentError(ValueError):
    """An environment name that is not configured, or not active."""


@dataclass(frozen=True)
class ProjectConfig:
    settings: Settings
    partitions_start: date
    databases: dict[str, str]
    environments: dict[str, EnvironmentSpec]
    collections: tuple[CollectionSpec, ...]

    @classmethod
    def load(cls, settings: Settings | None = None) -> ProjectConfig:
        settings = settings or Settings.resolve()
        envs = load_environments(settings.environments_file)
        collections = load_collections(settings.collections_file, known_databases=set(envs.databases))
        return cls(settings, envs.partitions_start, envs.databases, envs.environments, tuple(collections))

    @cached_property
    def active_environments(self) -> tuple[EnvironmentSpec, ...]:
        return tuple(e for e in self.environments.values() if e.active)

    @cached_property
    def enabled_collections(self) -> tuple[CollectionSpec, ...]:
        return tuple(c for c in self.collections if c.enabled)

    def environment(self, name: str, *, allow_inactive: bool = False) -> EnvironmentSpec:
        """The named environment, or an error listing the valid (active) ones."""
        spec = self.environments.get(name)
        valid = ", ".join(e.name for e in self.active_environments) or "(none active)"
        if spec is None:
            raise UnknownEnvironmentError(
                f"unknown environment {name!r} in {self.settings.environments_file}; valid environments: {valid}"
            )
        if not spec.active and not allow_inactive:
            raise UnknownEnvironmentError(
                f"environment {name!r} is inactive in {self.settings.environments_file}; active environments: {valid}"
            )
        return spec

    def collection(self, name: str) -> CollectionSpec:
        for spec in self.collections:
            if spec.collection == name:
                return spec
        raise KeyError(f"unknown collection {name!r} in {self.settings.collections_file}")

    def lake_root(self, env: EnvironmentSpec) -> str:
        """The lake root for an environment: KX_LAKE_ROOT, else its lake_root (relative to the state home)."""
        root = self.settings.lake_root_override or env.lake_root
        if "://" in root:
            return root.rstrip("/")
        path = self.settings.home / root if not root.startswith("/") else root
        return str(path)
