"""Validated configuration: settings (where), environments and collections (what)."""

from kx_lake.lib.config.collections import CollectionSpec, TimestampEncoding, load_collections
from kx_lake.lib.config.environments import EnvironmentSpec, load_environments
from kx_lake.lib.config.errors import ConfigError, ConfigErrors
from kx_lake.lib.config.project import ProjectConfig, UnknownEnvironmentError
from kx_lake.lib.config.settings import Settings

__all__ = [
    "CollectionSpec",
    "ConfigError",
    "ConfigErrors",
    "EnvironmentSpec",
    "ProjectConfig",
    "Settings",
    "TimestampEncoding",
    "UnknownEnvironmentError",
    "load_collections",
    "load_environments",
]
