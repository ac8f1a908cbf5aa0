"""The catalog backend as a Dagster resource: the embedded DuckDB file, Glue + Athena, or Trino.

Which backend an environment uses is configuration (`catalog:` in environments.yaml: duckdb, glue,
crawler or trino), so one set of assets serves a laptop and production; a run may name another
engine (`engine`, e.g. `kx-lake catalog refresh --engine trino` beside the default DuckDB file).
`backend(env, engine)` opens it as a lib.catalog.backend.CatalogBackend, so callers never branch on
the mode. The Trino backend starts the home's Trino when it is not running (`kx-lake trino up`). AWS clients are built lazily per
environment from the standard credential chain and the environment's region; endpoints follow
botocore's own variables (AWS_ENDPOINT_URL_GLUE / _ATHENA / _S3), which is how tests point Glue and
Athena at moto while the lake is on SeaweedFS. Nothing connects until a run asks.

DuckDB allows one writer per file. Catalog steps of one run execute in one process one after the
other, but two runs (say, eager automation after two syncs) can overlap: a writer waits for the lock
for up to `duckdb_lock_timeout_s` (lib/backoff), then fails naming the file.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import boto3
import dagster as dg
import duckdb
from pydantic import PrivateAttr

from kx_lake.builders.resources import ProjectResource
from kx_lake.lib.backoff import Backoff
from kx_lake.lib.catalog import duckdb_catalog
from kx_lake.lib.catalog.athena import AthenaRunner
from kx_lake.lib.catalog.backend import AwsBackend, CatalogBackend, DuckDbBackend
from kx_lake.lib.catalog.glue import GlueCatalog
from kx_lake.lib.config import ProjectConfig


T = TypeVar("T")


def wait_for_writer(connect: Callable[[], T], timeout_s: float, *, sleep: Callable[[float], None] = time.sleep,
                    clock: Callable[[], float] = time.monotonic) -> T:
    """`connect()`, retried with back-off while DuckDB reports the file locked by another process."""
    def locked(exc: BaseException) -> bool:
        return isinstance(exc, duckdb_catalog.CatalogError) and "lock" in str(exc).lower()

    return Backoff(0.2, 5.0, 1.5, timeout_s, sleep=sleep, clock=clock).retry(connect, locked)


class CatalogResource(dg.ConfigurableResource):
    """Per-environment access to the catalog backend named by the environment's `catalog` setting."""

    kx_project: ProjectResource
    duckdb_lock_timeout_s: float = 120.0
    athena_timeout_s: float = 900.0
    _clients: dict[tuple[str, str], Any] = PrivateAttr(default_factory=dict)

    @property
    def project(self) -> ProjectConfig:
        return self.kx_project.project

    def mode(self, env: str) -> str:
        return self.project.environment(env).catalog

    @contextmanager
    def backend(self, env: str, engine: str | None = None, read_only: bool = False) -> Iterator[CatalogBackend]:
        """The env's catalog backend (`engine` overrides its configured mode), open for one use.
        `read_only`: DuckDB opens its file read-only (no waiting for the writer lock; an error when
        there is no catalog yet); the other engines are the same either way."""
        mode = engine or self.mode(env)
        if mode == "duckdb" and read_only:
            con = duckdb_catalog.connect(self.project, env, read_only=True)
            try:
                yield DuckDbBackend(self.project, env, con)
            finally:
                con.close()
        elif mode == "duckdb":
            with self.duckdb_writer(env) as con:
                yield DuckDbBackend(self.project, env, con)
        elif mode == "trino":
            from kx_lake.lib.catalog.trino_catalog import TrinoCatalog
            from kx_lake.lib.trino import client, server

            info = server.up(self.project.settings.home)
            con = client.connect(info)
            try:
                yield TrinoCatalog(self.project, env, con)
            finally:
                con.close()
        elif mode in ("glue", "crawler") and engine is None:
            yield AwsBackend(self.project, env, self.glue(env), self.athena(env))
        else:
            raise ValueError(f"{env}: unknown catalog engine {mode!r} (duckdb, trino, or the env's glue/crawler)")

    def _client(self, service: str, env: str) -> Any:
        if (service, env) not in self._clients:
            region = self.project.environment(env).aws_region
            self._clients[(service, env)] = boto3.session.Session().client(service, region_name=region)
        return self._clients[(service, env)]

    def glue(self, env: str) -> GlueCatalog:
        return GlueCatalog(self._client("glue", env))

    def athena(self, env: str) -> AthenaRunner:
        spec = self.project.environment(env)
        return AthenaRunner(self._client("athena", env), spec.athena_workgroup, spec.athena_output_location,
                            timeout_s=self.athena_timeout_s)

    @contextmanager
    def duckdb_writer(self, env: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to the env's DuckDB catalog, waiting while another run holds it."""
        con = wait_for_writer(lambda: duckdb_catalog.connect(self.project, env, read_only=False),
                              self.duckdb_lock_timeout_s)
        try:
            yield con
            con.execute("CHECKPOINT")
        finally:
            con.close()
