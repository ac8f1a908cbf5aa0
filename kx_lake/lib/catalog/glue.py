"""Register the lake in the AWS Glue Data Catalog, so Athena (and the dashboards) can query it.

Why it is shaped this way:

* The lake already knows its own schema (the persisted `CollectionState.schema`, only ever widened)
  and its own partitions (`LakeStorage.list_partitions`), so the catalog is *written from that
  knowledge* with explicit API calls: one table per collection, one Glue partition per leaf
  directory. No crawler has to guess types from a sample of files, and a sync that wrote a date can
  register it in the same run. Crawler mode (point an existing crawler at the collections that
  succeeded, then start it) is kept for parity with the original Glue job.
* Every call is idempotent: `ensure_database` and `upsert_table` create or update only when
  something differs; `add_partitions` looks partitions up first and never creates one twice, so a
  retried or repeated sync is harmless.
* Athena validates each partition's column types against the table's. When a column widens, the
  table is updated and every partition whose columns differ is updated too (`refresh_partitions`,
  and `add_partitions` for the ones it is handed), or Athena would fail with
  HIVE_PARTITION_SCHEMA_MISMATCH on the older dates.
* Pure helpers (TableInput/PartitionInput building, chunking, lake partitions → Glue values) are
  separate from the client calls so they are unit-tested without AWS. The client is injected
  (any boto3 Glue client: real, moto, stubbed); nothing here reads the environment or the network
  at import, and nothing here knows Dagster.

Naming (which Glue database and table a collection lives in, partition keys `date` then the id
columns, all `string`) is decided in kx_lake.lib.catalog.names; this module takes the names it gives.
"""

from __future__ import annotations

import copy
import logging
import posixpath
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from kx_lake.lib.storage import DATE_COLUMN, DEFAULT_PARTITION, PartitionInfo

_LOG = logging.getLogger(__name__)

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
TABLE_TYPE = "EXTERNAL_TABLE"
PARTITION_KEY_TYPE = "string"
CREATE_PARTITION_BATCH = 100  # BatchCreatePartition / BatchUpdatePartition limit
GET_PARTITION_BATCH = 1000  # BatchGetPartition limit
DELETE_PARTITION_BATCH = 25  # BatchDeletePartition limit
MAX_TYPE_LENGTH = 131072  # Glue's limit on a column's type string
_GET_RETRIES = 5  # rounds of BatchGetPartition UnprocessedKeys before giving up

T = TypeVar("T")
PartitionSpec = tuple[Sequence[str | None], str]  # (values in partition-key order, s3:// location)


class GlueCatalogError(RuntimeError):
    """A Glue request that failed or was refused; the message names the database.table (and partition)."""


class TableChange(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class PartitionsResult:
    created: int = 0
    existing: int = 0  # already registered with the right location and columns
    updated: int = 0  # already registered, but location or columns were stale


# ---------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------


def partition_keys_for(id_columns: Sequence[str]) -> list[str]:
    """`date` then the collection's id columns, the order of the lake's directories."""
    return [DATE_COLUMN, *id_columns]


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    if size < 1:
        raise ValueError(f"chunk size must be positive, got {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def normalize_location(location: str) -> str:
    """A folder URI with exactly one trailing slash (Athena reads every object under it)."""
    return location.rstrip("/") + "/"


def column_specs(where: str, columns: Sequence[tuple[str, str]], partition_keys: Sequence[str]) -> list[dict[str, str]]:
    """Glue `Columns` from (name, type) pairs, refusing what Glue or Athena would reject later."""
    if not columns:
        raise GlueCatalogError(f"glue {where}: a table needs at least one data column")
    seen: set[str] = set()
    keys = {k.lower() for k in partition_keys}
    out = []
    for name, type_ in columns:
        low = name.lower()
        if not name or name != low:
            raise GlueCatalogError(f"glue {where}: column name {name!r} must be non-empty lowercase (Glue lowercases it)")
        if low in seen:
            raise GlueCatalogError(f"glue {where}: column {name!r} is listed twice")
        if low in keys:
            raise GlueCatalogError(f"glue {where}: column {name!r} is also a partition key")
        if not type_:
            raise GlueCatalogError(f"glue {where}: column {name!r} has no type")
        if len(type_) > MAX_TYPE_LENGTH:
            raise GlueCatalogError(
                f"glue {where}: column {name!r} type is {len(type_)} characters, over Glue's {MAX_TYPE_LENGTH}"
            )
        seen.add(low)
        out.append({"Name": name, "Type": type_})
    return out


def partition_key_specs(where: str, partition_keys: Sequence[str], lead_key: str = DATE_COLUMN) -> list[dict[str, str]]:
    """`lead_key`: the key a collection table's folders start with; the rejects table leads with `database`."""
    if not partition_keys or partition_keys[0] != lead_key:
        raise GlueCatalogError(f"glue {where}: partition keys must start with {lead_key!r}, got {list(partition_keys)}")
    if len(set(partition_keys)) != len(partition_keys):
        raise GlueCatalogError(f"glue {where}: partition keys repeat a name: {list(partition_keys)}")
    return [{"Name": k, "Type": PARTITION_KEY_TYPE} for k in partition_keys]


def storage_descriptor(columns: list[dict[str, str]], location: str) -> dict[str, Any]:
    return {
        "Columns": columns,
        "Location": normalize_location(location),
        "InputFormat": PARQUET_INPUT_FORMAT,
        "OutputFormat": PARQUET_OUTPUT_FORMAT,
        "Compressed": False,  # Parquet compresses inside the file (zstd); this flag is for text formats
        "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE, "Parameters": {"serialization.format": "1"}},
        "StoredAsSubDirectories": False,
    }


def table_input(
    database: str,
    table: str,
    columns: Sequence[tuple[str, str]],
    partition_keys: Sequence[str],
    location: str,
    *,
    description: str = "",
    parameters: Mapping[str, str] | None = None,
    local_ok: bool = False,
    lead_key: str = DATE_COLUMN,
) -> dict[str, Any]:
    """The Glue TableInput of one lake table: external, Parquet, partitioned by strings.

    `local_ok` admits a local directory as the location: the Trino backend builds its tables from
    this same definition over a local lake (trino_ddl); Glue itself needs s3://."""
    where = f"{database}.{table}"
    if not location.startswith("s3://") and not (local_ok and "://" not in location):
        raise GlueCatalogError(f"glue {where}: location must be s3://..., got {location!r}")
    out: dict[str, Any] = {
        "Name": table,
        "TableType": TABLE_TYPE,
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE", **(parameters or {})},
        "PartitionKeys": partition_key_specs(where, partition_keys, lead_key),
        "StorageDescriptor": storage_descriptor(column_specs(where, columns, partition_keys), location),
    }
    if description:
        out["Description"] = description
    return out


def partition_label(keys: Sequence[str], values: Sequence[str]) -> str:
    """`date=2026-01-01/facility_id=F1`, for messages."""
    return "/".join(f"{k}={v}" for k, v in zip(keys, values, strict=False))


def glue_partition_values(values: Sequence[str | None]) -> list[str]:
    """Glue stores a null partition value as Hive's default-partition marker, as the lake's paths do."""
    return [DEFAULT_PARTITION if v is None or v == "" else str(v) for v in values]


def lake_partitions(infos: Iterable[PartitionInfo], id_columns: Sequence[str]) -> list[tuple[list[str], str]]:
    """Glue partitions (values, leaf folder) from `LakeStorage.list_partitions`, one per leaf folder.

    `id_columns` as configured (the lake's directory names, e.g. `facilityId`); the values come out
    in path order, which is the table's partition-key order whatever Glue's spelling of the keys.
    """
    out: dict[tuple[str, ...], str] = {}
    for info in infos:
        names = [name for name, _ in info.ids]
        if names != list(id_columns):
            raise GlueCatalogError(f"lake file {info.path}: id partition columns {names}, expected {list(id_columns)}")
        values = tuple(glue_partition_values([info.date.isoformat(), *(v for _, v in info.ids)]))
        folder = normalize_location(posixpath.dirname(info.path))
        if out.setdefault(values, folder) != folder:
            label = partition_label([DATE_COLUMN, *id_columns], values)
            raise GlueCatalogError(f"lake partition {label}: two folders {out[values]} and {folder}")
    return [(list(v), loc) for v, loc in sorted(out.items())]


def partition_input(table_sd: Mapping[str, Any], values: Sequence[str], location: str) -> dict[str, Any]:
    """A PartitionInput inheriting the table's storage descriptor (as Athena's ADD PARTITION does)."""
    sd = copy.deepcopy(dict(table_sd))
    sd["Location"] = normalize_location(location)
    return {"Values": list(values), "StorageDescriptor": sd}


def crawler_targets(existing: Mapping[str, Any] | None, s3_paths: Sequence[str]) -> dict[str, Any]:
    """The crawler's Targets with S3Targets replaced by `s3_paths`; other kinds of target are kept."""
    targets = {k: v for k, v in (existing or {}).items() if k != "S3Targets" and v}
    targets["S3Targets"] = [{"Path": normalize_location(p)} for p in dict.fromkeys(s3_paths)]
    return targets


def _table_shape(table: Mapping[str, Any]) -> tuple[Any, ...]:
    """What upsert_table compares: columns, partition keys, location, formats, serde, table type."""
    sd = table.get("StorageDescriptor", {})
    return (
        [(c["Name"], c["Type"]) for c in sd.get("Columns", [])],
        [(c["Name"], c["Type"]) for c in table.get("PartitionKeys", [])],
        normalize_location(sd.get("Location", "")),
        sd.get("InputFormat"),
        sd.get("OutputFormat"),
        sd.get("SerdeInfo", {}).get("SerializationLibrary"),
        table.get("TableType"),
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


# ---------------------------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------------------------


class GlueCatalog:
    """Idempotent Glue operations for lake tables; `client` is a boto3 Glue client."""

    def __init__(self, client: Any, *, catalog_id: str | None = None) -> None:
        self.client = client
        self._catalog = {"CatalogId": catalog_id} if catalog_id else {}

    # databases ---------------------------------------------------------------------------------

    def ensure_database(self, name: str, description: str = "") -> bool:
        """Create the database unless it exists; True when created."""
        try:
            self.client.get_database(Name=name, **self._catalog)
            return False
        except ClientError as exc:
            if _error_code(exc) != "EntityNotFoundException":
                raise GlueCatalogError(f"glue database {name}: get_database failed: {exc}") from exc
        db_input: dict[str, Any] = {"Name": name}
        if description:
            db_input["Description"] = description
        try:
            self.client.create_database(DatabaseInput=db_input, **self._catalog)
        except ClientError as exc:
            if _error_code(exc) == "AlreadyExistsException":  # created concurrently
                return False
            raise GlueCatalogError(f"glue database {name}: create_database failed: {exc}") from exc
        _LOG.info("glue: created database %s", name)
        return True

    # tables ------------------------------------------------------------------------------------

    def get_table(self, database: str, table: str) -> dict[str, Any] | None:
        try:
            return self.client.get_table(DatabaseName=database, Name=table, **self._catalog)["Table"]
        except ClientError as exc:
            if _error_code(exc) == "EntityNotFoundException":
                return None
            raise GlueCatalogError(f"glue {database}.{table}: get_table failed: {exc}") from exc

    def upsert_table(
        self,
        database: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        partition_keys: Sequence[str],
        location: str,
        *,
        description: str = "",
        parameters: Mapping[str, str] | None = None,
        lead_key: str = DATE_COLUMN,
    ) -> TableChange:
        """Create the table, or update it when its columns (or location/format) differ.

        Changing the partition keys of an existing table is refused: its partitions would no longer
        match; drop the table (and re-add partitions) deliberately instead.
        """
        wanted = table_input(
            database, table, columns, partition_keys, location, description=description, parameters=parameters,
            lead_key=lead_key,
        )
        current = self.get_table(database, table)
        where = f"{database}.{table}"
        if current is None:
            try:
                self.client.create_table(DatabaseName=database, TableInput=wanted, **self._catalog)
            except ClientError as exc:
                raise GlueCatalogError(f"glue {where}: create_table failed: {exc}") from exc
            _LOG.info("glue: created table %s (%d columns)", where, len(columns))
            return TableChange.CREATED
        old_keys = [c["Name"] for c in current.get("PartitionKeys", [])]
        if old_keys != list(partition_keys):
            raise GlueCatalogError(
                f"glue {where}: partition keys would change from {old_keys} to {list(partition_keys)}; "
                "drop the table to re-partition it"
            )
        merged_params = {**current.get("Parameters", {}), **wanted["Parameters"]}
        if _table_shape(current) == _table_shape(wanted) and merged_params == current.get("Parameters", {}):
            return TableChange.UNCHANGED
        wanted["Parameters"] = merged_params
        try:
            self.client.update_table(DatabaseName=database, TableInput=wanted, **self._catalog)
        except ClientError as exc:
            raise GlueCatalogError(f"glue {where}: update_table failed: {exc}") from exc
        _LOG.info("glue: updated table %s (%d columns)", where, len(columns))
        return TableChange.UPDATED

    # partitions --------------------------------------------------------------------------------

    def _require_table(self, database: str, table: str) -> dict[str, Any]:
        found = self.get_table(database, table)
        if found is None:
            raise GlueCatalogError(f"glue {database}.{table}: table not found (upsert_table first)")
        return found

    def get_partitions(self, database: str, table: str) -> list[dict[str, Any]]:
        """Every partition of the table (paginated)."""
        out: list[dict[str, Any]] = []
        try:
            for page in self.client.get_paginator("get_partitions").paginate(
                DatabaseName=database, TableName=table, **self._catalog
            ):
                out.extend(page.get("Partitions", []))
        except ClientError as exc:
            raise GlueCatalogError(f"glue {database}.{table}: get_partitions failed: {exc}") from exc
        return out

    def _existing(self, database: str, table: str, values: Sequence[list[str]]) -> dict[tuple[str, ...], dict[str, Any]]:
        """The registered partitions among `values` (BatchGetPartition, retrying unprocessed keys)."""
        found: dict[tuple[str, ...], dict[str, Any]] = {}
        for chunk in chunks(values, GET_PARTITION_BATCH):
            pending = [{"Values": list(v)} for v in chunk]
            for _round in range(_GET_RETRIES):
                try:
                    resp = self.client.batch_get_partition(
                        DatabaseName=database, TableName=table, PartitionsToGet=pending, **self._catalog
                    )
                except ClientError as exc:
                    raise GlueCatalogError(f"glue {database}.{table}: batch_get_partition failed: {exc}") from exc
                for part in resp.get("Partitions", []):
                    found[tuple(part["Values"])] = part
                pending = resp.get("UnprocessedKeys") or []
                if not pending:
                    break
            if pending:
                raise GlueCatalogError(
                    f"glue {database}.{table}: batch_get_partition left {len(pending)} partition(s) unprocessed, "
                    f"e.g. {pending[0]['Values']}"
                )
        return found

    def add_partitions(
        self, database: str, table: str, partitions: Iterable[PartitionSpec]
    ) -> PartitionsResult:
        """Register partitions that are missing; fix registered ones whose location or columns are stale.

        `partitions`: (values in partition-key order, s3:// folder). Never creates a duplicate:
        partitions are looked up first, and an AlreadyExists answer (a concurrent writer) counts as
        existing. Any other per-partition error fails the call, naming the table and the partition.
        """
        where = f"{database}.{table}"
        current = self._require_table(database, table)
        keys = [c["Name"] for c in current.get("PartitionKeys", [])]
        table_sd = current["StorageDescriptor"]
        wanted: dict[tuple[str, ...], str] = {}
        for values, location in partitions:
            vals = tuple(glue_partition_values(values))
            label = partition_label(keys, vals)
            if len(vals) != len(keys):
                raise GlueCatalogError(f"glue {where} partition {list(vals)}: {len(vals)} values for keys {keys}")
            if not location.startswith("s3://"):
                raise GlueCatalogError(f"glue {where} partition {label}: location must be s3://..., got {location!r}")
            loc = normalize_location(location)
            if wanted.setdefault(vals, loc) != loc:
                raise GlueCatalogError(f"glue {where} partition {label}: given twice with locations {wanted[vals]} and {loc}")
        if not wanted:
            return PartitionsResult()
        existing = self._existing(database, table, [list(v) for v in wanted])
        to_create = [partition_input(table_sd, v, loc) for v, loc in wanted.items() if v not in existing]
        stale = [
            partition_input(table_sd, v, loc)
            for v, loc in wanted.items()
            if v in existing and _partition_stale(existing[v], table_sd, loc)
        ]
        created, raced = self._create(database, table, keys, to_create)
        self._update(database, table, keys, stale)
        result = PartitionsResult(created=created, existing=len(existing) - len(stale) + raced, updated=len(stale))
        _LOG.info("glue: %s partitions %s", where, result)
        return result

    def refresh_partitions(self, database: str, table: str) -> int:
        """After a schema change: give every partition whose columns differ the table's; the count updated."""
        current = self._require_table(database, table)
        keys = [c["Name"] for c in current.get("PartitionKeys", [])]
        table_sd = current["StorageDescriptor"]
        stale = [
            partition_input(table_sd, p["Values"], p["StorageDescriptor"]["Location"])
            for p in self.get_partitions(database, table)
            if _partition_stale(p, table_sd, p["StorageDescriptor"]["Location"])
        ]
        self._update(database, table, keys, stale)
        return len(stale)

    def _create(self, database: str, table: str, keys: list[str], inputs: list[dict[str, Any]]) -> tuple[int, int]:
        created = raced = 0
        failures: list[str] = []
        for chunk in chunks(inputs, CREATE_PARTITION_BATCH):
            try:
                resp = self.client.batch_create_partition(
                    DatabaseName=database, TableName=table, PartitionInputList=list(chunk), **self._catalog
                )
            except ClientError as exc:
                first = partition_label(keys, chunk[0]["Values"])
                raise GlueCatalogError(
                    f"glue {database}.{table}: batch_create_partition of {len(chunk)} partition(s) from {first} failed: {exc}"
                ) from exc
            errors = resp.get("Errors", [])
            for err in errors:
                code = err.get("ErrorDetail", {}).get("ErrorCode", "")
                if code == "AlreadyExistsException":
                    raced += 1
                else:
                    msg = err.get("ErrorDetail", {}).get("ErrorMessage", "")
                    failures.append(f"{partition_label(keys, err.get('PartitionValues', []))}: {code} {msg}".strip())
            created += len(chunk) - len(errors)
        if failures:
            raise GlueCatalogError(
                f"glue {database}.{table}: {len(failures)} partition(s) not created: " + "; ".join(failures[:10])
                + (" ..." if len(failures) > 10 else "")
            )
        return created, raced

    def _update(self, database: str, table: str, keys: list[str], inputs: list[dict[str, Any]]) -> None:
        failures: list[str] = []
        for chunk in chunks(inputs, CREATE_PARTITION_BATCH):
            entries = [{"PartitionValueList": p["Values"], "PartitionInput": p} for p in chunk]
            try:
                resp = self.client.batch_update_partition(
                    DatabaseName=database, TableName=table, Entries=entries, **self._catalog
                )
            except ClientError as exc:
                first = partition_label(keys, chunk[0]["Values"])
                raise GlueCatalogError(
                    f"glue {database}.{table}: batch_update_partition of {len(chunk)} partition(s) from {first} failed: {exc}"
                ) from exc
            for err in resp.get("Errors", []):
                detail = err.get("ErrorDetail", {})
                failures.append(
                    f"{partition_label(keys, err.get('PartitionValueList', []))}: "
                    f"{detail.get('ErrorCode', '')} {detail.get('ErrorMessage', '')}".strip()
                )
        if failures:
            raise GlueCatalogError(
                f"glue {database}.{table}: {len(failures)} partition(s) not updated: " + "; ".join(failures[:10])
            )

    def prune_partitions(self, database: str, table: str, keep: Iterable[Sequence[str | None]]) -> int:
        """Deregister partitions whose values are not in `keep` (their folders left the lake, e.g. a
        date whose documents all moved on); the count deleted. Data is never touched, only the catalog."""
        wanted = {tuple(glue_partition_values(v)) for v in keep}
        current = self._require_table(database, table)
        keys = [c["Name"] for c in current.get("PartitionKeys", [])]
        gone = [p["Values"] for p in self.get_partitions(database, table) if tuple(p["Values"]) not in wanted]
        failures: list[str] = []
        for chunk in chunks(gone, DELETE_PARTITION_BATCH):
            try:
                resp = self.client.batch_delete_partition(
                    DatabaseName=database, TableName=table, PartitionsToDelete=[{"Values": v} for v in chunk],
                    **self._catalog,
                )
            except ClientError as exc:
                raise GlueCatalogError(
                    f"glue {database}.{table}: batch_delete_partition of {len(chunk)} partition(s) from "
                    f"{partition_label(keys, chunk[0])} failed: {exc}"
                ) from exc
            for err in resp.get("Errors", []):
                detail = err.get("ErrorDetail", {})
                if detail.get("ErrorCode") != "EntityNotFoundException":  # already gone: fine
                    failures.append(f"{partition_label(keys, err.get('PartitionValues', []))}: "
                                    f"{detail.get('ErrorCode', '')} {detail.get('ErrorMessage', '')}".strip())
        if failures:
            raise GlueCatalogError(f"glue {database}.{table}: {len(failures)} partition(s) not deleted: "
                                   + "; ".join(failures[:10]))
        if gone:
            _LOG.info("glue: %s.%s deregistered %d partition(s) no longer in the lake", database, table, len(gone))
        return len(gone)

    # crawler mode ------------------------------------------------------------------------------

    def update_crawler_targets(self, crawler_name: str, s3_paths: Sequence[str]) -> dict[str, Any]:
        """Point the crawler at `s3_paths` (the collections that succeeded); returns the request sent."""
        try:
            crawler = self.client.get_crawler(Name=crawler_name)["Crawler"]
        except ClientError as exc:
            raise GlueCatalogError(f"glue crawler {crawler_name}: get_crawler failed: {exc}") from exc
        request = {"Name": crawler_name, "Targets": crawler_targets(crawler.get("Targets"), s3_paths)}
        try:
            self.client.update_crawler(**request)
        except ClientError as exc:
            raise GlueCatalogError(f"glue crawler {crawler_name}: update_crawler failed: {exc}") from exc
        _LOG.info("glue: crawler %s now targets %d S3 path(s)", crawler_name, len(request["Targets"]["S3Targets"]))
        return request

    def start_crawler(self, crawler_name: str) -> None:
        try:
            self.client.start_crawler(Name=crawler_name)
        except ClientError as exc:
            if _error_code(exc) == "CrawlerRunningException":
                raise GlueCatalogError(f"glue crawler {crawler_name}: already running; not started again") from exc
            raise GlueCatalogError(f"glue crawler {crawler_name}: start_crawler failed: {exc}") from exc
        _LOG.info("glue: started crawler %s", crawler_name)

    def crawl(self, crawler_name: str, s3_paths: Sequence[str]) -> dict[str, Any] | None:
        """Crawler mode as in the original job: retarget, then start. Nothing to crawl → nothing done."""
        if not s3_paths:
            _LOG.info("glue: crawler %s not started: no collection succeeded", crawler_name)
            return None
        request = self.update_crawler_targets(crawler_name, s3_paths)
        self.start_crawler(crawler_name)
        return request


def _partition_stale(existing: Mapping[str, Any], table_sd: Mapping[str, Any], location: str) -> bool:
    sd = existing.get("StorageDescriptor", {})
    return normalize_location(sd.get("Location", "")) != normalize_location(location) or [
        (c["Name"], c["Type"]) for c in sd.get("Columns", [])
    ] != [(c["Name"], c["Type"]) for c in table_sd.get("Columns", [])]
