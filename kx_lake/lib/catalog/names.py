"""The catalog's names, shared by every catalog backend (Glue/Athena in production, DuckDB embedded).

One place decides them so that a query, a view or a dashboard dataset written once runs unchanged
on both engines:

* database (Glue database, DuckDB schema) per environment × MongoDB database:
  `<env.glue_database_prefix><database>`, e.g. `kx_env1_hims_billing`; the dashboard datasets
  (sql/datasets/) live in one more database per environment, `<prefix>analytics` (`kx_env1_analytics`);
* table: the collection name; dedup view: `<collection>_latest` in the same database;
* columns: the stored lake schema's top-level columns (already Glue-safe, see harmonize.names), then
  the partition keys `date` and the collection's id columns, in path order, all `string` in Glue /
  `VARCHAR` in DuckDB because they hold the Hive path text (`date=2026-01-02`, `facility_id=007`;
  `__HIVE_DEFAULT_PARTITION__` reads back as NULL). Glue lowercases names, so an id column
  configured as `facilityId` is the partition key `facilityid` (its path directory keeps the
  configured spelling; `path_name` maps back).

Pure functions of configuration; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kx_lake.lib.config import CollectionSpec, EnvironmentSpec
from kx_lake.lib.harmonize import column_name
from kx_lake.lib.harmonize.names import mapped_path, reserved_names
from kx_lake.lib.storage import DATE_COLUMN

LATEST_SUFFIX = "_latest"
ANALYTICS = "analytics"  # the datasets' database, beside the MongoDB databases (never one of them)
PARTITION_GLUE_TYPE = "string"
PARTITION_DUCKDB_TYPE = "VARCHAR"
_GLUE_NAME = re.compile(r"^[a-z0-9_]{1,255}$")


class CatalogNameError(ValueError):
    """A configured name that cannot be a Glue/DuckDB database, table or column name."""


@dataclass(frozen=True)
class PartitionKey:
    name: str  # the catalog column (lowercase, Glue's spelling)
    path_name: str  # the directory name in the lake path (as configured)


def glue_database(env: EnvironmentSpec, database: str) -> str:
    """`kx_env1_hims_billing`: the Glue database / DuckDB schema of one MongoDB database in one env."""
    name = f"{env.glue_database_prefix}{database}"
    if not _GLUE_NAME.match(name):
        raise CatalogNameError(
            f"{env.name}/{database}: catalog database {name!r} (glue_database_prefix + database) must match "
            "[a-z0-9_]{1,255} (Glue database names are lowercase)"
        )
    return name


LAKE = "lake"  # the env's own tables beside the collections' databases: kx_rejects


def lake_database(env: EnvironmentSpec) -> str:
    """`kx_env1_lake`: the Glue database / DuckDB schema of the env's lake-level tables (kx_rejects)."""
    return glue_database(env, LAKE)


def analytics_database(env: EnvironmentSpec) -> str:
    """`kx_env1_analytics`: the Glue database / DuckDB schema of the env's dashboard datasets."""
    return glue_database(env, ANALYTICS)


def table_name(spec: CollectionSpec) -> str:
    name = spec.collection
    if not _GLUE_NAME.match(name):
        raise CatalogNameError(
            f"{spec.database}.{spec.collection}: collection name is not a Glue table name ([a-z0-9_], lowercase)"
        )
    return name


def latest_view_name(spec: CollectionSpec) -> str:
    return f"{table_name(spec)}{LATEST_SUFFIX}"


def qualified(database: str, name: str) -> str:
    """`db.name`, each part double-quoted only when needed (valid in Athena and DuckDB)."""
    return f"{quote(database)}.{quote(name)}"


_BARE = re.compile(r"^[a-z_][a-z0-9_]*$")
# Words that must be quoted as identifiers in Trino or DuckDB (a conservative superset).
_KEYWORDS = frozenset(
    """all alter and any array as asc at between both by case cast check collate column constraint create
    cross cube current current_date current_time current_timestamp current_user deallocate default delete
    desc describe distinct do drop else end escape except execute exists extract false fetch filter for
    foreign from full function grant group grouping having in inner insert intersect interval into is join
    lateral leading left like limit localtime localtimestamp natural normalize not null of offset on only
    or order outer over partition pivot placing prepare primary qualify range recursive references returning
    right rollup row rows select set some symmetric table then to trailing true uescape union unique
    unnest unpivot user using values when where window with within""".split()
)


def quote(identifier: str) -> str:
    """An identifier as SQL text: bare when plainly safe, else double-quoted (`"order"`, `"_id"` stays bare)."""
    if _BARE.match(identifier) and identifier not in _KEYWORDS:
        return identifier
    return '"' + identifier.replace('"', '""') + '"'


def partition_keys(partition_columns: Sequence[str]) -> tuple[PartitionKey, ...]:
    """`date`, then the id columns (a collection's `partition_columns`) in path order."""
    return (PartitionKey(DATE_COLUMN, DATE_COLUMN), *(PartitionKey(column_name(c), c) for c in partition_columns))


def glue_partition_keys(spec: CollectionSpec) -> list[tuple[str, str]]:
    """(name, 'string') per partition key, for Glue's PartitionKeys."""
    return [(k.name, PARTITION_GLUE_TYPE) for k in partition_keys(spec.partition_columns)]


def timestamp_column_path(spec: CollectionSpec) -> tuple[str, ...]:
    """The lake column (path, for a dotted configured column) of the collection's modified timestamp.

    Harmonization stores a top-level key named like a partition column in `<name>_` (a timestamp
    column `date` is the column `date_`); nested steps are plain column names.
    """
    return mapped_path(spec.timestamp_column, reserved_names((DATE_COLUMN, *spec.partition_columns)))


def timestamp_column_sql(spec: CollectionSpec) -> str:
    """The timestamp column as a SQL expression: `"updated_at"`, or `"meta"."modifiedat"` for a nested one."""
    return ".".join(f'"{p}"' for p in timestamp_column_path(spec))


def date_range_relation(env: EnvironmentSpec, spec: CollectionSpec, first: date, last: date) -> str:
    """`(SELECT * FROM <db>.<table> WHERE "date" BETWEEN 'first' AND 'last')` (Athena SQL): a collection's
    table limited to a range of date partitions, which Athena and Trino prune through the metastore."""
    table = qualified(glue_database(env, spec.database), table_name(spec))
    return f"(SELECT * FROM {table} WHERE \"{DATE_COLUMN}\" BETWEEN '{first.isoformat()}' AND '{last.isoformat()}')"
