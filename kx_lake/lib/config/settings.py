"""Where things are: the config directory, the state home and the lake root, resolved on demand.

Nothing here runs at import. The CLI and the Dagster definitions call `Settings.resolve()` when they
start, so tests and other deployments point kx-lake elsewhere with flags or environment variables:
  --config-dir / KX_LAKE_CONFIG_DIR   collections.csv + environments.yaml (default: ./assets_config
                                      of this checkout)
  KX_LAKE_HOME                        local state: source servers, default lake, catalogs
                                      (default: <config dir>/../.kx-lake)
  KX_LAKE_ROOT                        lake root for every environment (local path or s3:// URI)
  KX_LAKE_DUCKDB_MEMORY_LIMIT         memory limit of a DuckDB catalog connection (default 1GB;
                                      beyond it sorts, joins and windows spill to disk)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_DIR = PACKAGE_DIR.parent / "assets_config"
DEFAULT_DUCKDB_MEMORY_LIMIT = "1GB"
_MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    config_dir: Path
    home: Path
    lake_root_override: str | None = None
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT

    @classmethod
    def resolve(cls, config_dir: Path | str | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        chosen = config_dir or env.get("KX_LAKE_CONFIG_DIR") or DEFAULT_CONFIG_DIR
        cfg = Path(chosen).expanduser().resolve()
        home = Path(env["KX_LAKE_HOME"]).expanduser().resolve() if env.get("KX_LAKE_HOME") else cfg.parent / ".kx-lake"
        limit = (env.get("KX_LAKE_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT).strip()
        if not _MEMORY_SIZE.fullmatch(limit):
            raise ValueError(f"KX_LAKE_DUCKDB_MEMORY_LIMIT: {limit!r} is not a memory size such as 1GB, 512MB or 2GiB")
        return cls(config_dir=cfg, home=home, lake_root_override=env.get("KX_LAKE_ROOT") or None,
                   duckdb_memory_limit=limit)

    @property
    def collections_file(self) -> Path:
        return self.config_dir / "collections.csv"

    @property
    def environments_file(self) -> Path:
        return self.config_dir / "environments.yaml"

    def state_dir(self, *parts: str) -> Path:
        return self.home.joinpath(*parts)
