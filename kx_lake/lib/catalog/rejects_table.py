"""The environment's rejects table, `<prefix>lake.kx_rejects`, as a catalog table: definition and partitions.

The rejects files (lake/rejects.py) are laid out Hive-style,
`<root>/<env>/kx_rejects/database=<db>/collection=<collection>/part-00000.parquet`, so Glue/Athena and
Trino register them like any lake table, from ONE Glue TableInput (as the collection tables are):
the columns of REJECTS_SCHEMA — strings, and the two `*_seen` UTC instants as Hive `timestamp`,
which Athena and Trino read from Parquet's UTC-adjusted milliseconds as the instants DuckDB's
TIMESTAMPTZ view shows — partitioned by the `database` and `collection` strings. Without any
rejects the table still exists, with no partition: queried, it is empty, never missing.
"""

from __future__ import annotations

import posixpath
from typing import Any

from kx_lake.lib.catalog.glue import table_input
from kx_lake.lib.catalog.objects import CatalogError
from kx_lake.lib.lake.rejects import REJECTS_DIR, REJECTS_SCHEMA, REJECTS_TABLE
from kx_lake.lib.storage import LakeStorage, fsio

REJECTS_KEYS = ("database", "collection")  # the folder levels under kx_rejects/, in order
REJECTS_DESCRIPTION = "documents kx-lake could not place, with the reason (one partition per collection)"
_HIVE_TYPES = {"string": "string", "timestamp[ms, tz=UTC]": "timestamp"}


def rejects_columns() -> list[tuple[str, str]]:
    """(name, Hive type) of the rejects files' columns, in file order."""
    return [(f.name, _HIVE_TYPES[str(f.type)]) for f in REJECTS_SCHEMA]


def rejects_location(storage: LakeStorage, env: str) -> str:
    """The table's folder: a plain path on a local lake, s3://... on S3."""
    return fsio.to_uri(storage.fs, storage.env_file(env, REJECTS_DIR))


def rejects_table_input(database: str, location: str, *, local_ok: bool = False) -> dict[str, Any]:
    return table_input(database, REJECTS_TABLE, rejects_columns(), list(REJECTS_KEYS), location,
                       description=REJECTS_DESCRIPTION,
                       local_ok=local_ok, lead_key=REJECTS_KEYS[0])


def rejects_partitions(storage: LakeStorage, env: str) -> list[tuple[list[str], str]]:
    """(values [database, collection], folder URI) of every rejects file, sorted; a file elsewhere under
    kx_rejects/ is an error naming it (a partition the catalog could not place)."""
    directory = storage.env_file(env, REJECTS_DIR).rstrip("/")
    out: dict[tuple[str, ...], str] = {}
    for path in fsio.list_files(storage.fs, directory):
        name = posixpath.basename(path)
        if name.startswith(".") or not name.endswith(".parquet"):  # in-flight temp files of atomic_write
            continue
        folders = path[len(directory) + 1:].split("/")[:-1]
        if len(folders) != len(REJECTS_KEYS) or any(
                not f.startswith(f"{k}=") or f == f"{k}=" for f, k in zip(folders, REJECTS_KEYS, strict=False)):
            raise CatalogError(f"{env}: rejects file {fsio.to_uri(storage.fs, path)} is not under "
                               f"{REJECTS_DIR}/database=<db>/collection=<collection>/")
        values = tuple(f.split("=", 1)[1] for f in folders)
        out[values] = fsio.to_uri(storage.fs, posixpath.dirname(path)).rstrip("/") + "/"
    return [(list(v), loc) for v, loc in sorted(out.items())]
