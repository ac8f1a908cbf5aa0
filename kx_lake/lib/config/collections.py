"""The collection list (collections.csv): one row per MongoDB collection the lake extracts.

A CSV because operators edit it in a spreadsheet; validated row by row into frozen specs, every error
naming the file, the line ("row", counting the header as row 1) and the column. Cells reach the model
as text and pydantic coerces them (`enabled`: its boolean spellings, any case).
"""

from __future__ import annotations

import csv
import difflib
import re
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from kx_lake.lib.config.errors import ConfigError, ConfigErrors
from kx_lake.lib.config.files import read_config_text

REQUIRED_COLUMNS = ("collection", "database", "timestamp_column", "partition_columns", "enabled")
OPTIONAL_COLUMNS = ("timestamp_encoding", "subject_area", "pii_columns", "description", "on_source_delete",
                    "timestamp_fallback")
MAX_PARTITION_COLUMNS = 2
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# collection and database names become Dagster asset keys, lake path segments and Glue/Athena names:
# Glue lowercases names (so `Bills` and `bills` would be one table) and Hive hides names starting with '_'
_CATALOG_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# partition columns the layout owns: the date directory, and _id (one directory per document)
_RESERVED_PARTITION_COLUMNS = ("date", "_id")
_PII_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class TimestampEncoding(StrEnum):
    """How a collection stores its modified timestamp in MongoDB."""

    DATE = "date"  # BSON UTC datetime
    EPOCH_MS = "epoch_ms"  # int64 milliseconds since the Unix epoch
    ISO_STRING = "iso_string"  # ISO-8601 text with an offset or 'Z'


class CollectionSpec(BaseModel):
    """What the lake needs to know to extract one collection."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    collection: str = Field(max_length=120)
    database: str
    timestamp_column: str = Field(min_length=1)
    timestamp_encoding: TimestampEncoding = TimestampEncoding.DATE
    partition_columns: tuple[str, ...] = ()
    enabled: bool = True
    subject_area: str = ""
    pii_columns: tuple[str, ...] = ()
    description: str = ""
    # what the reconcile pass does with a document gone from the source: a tombstone hides it from
    # `_latest` (history keeps it); `keep` for collections the application purges by design
    on_source_delete: Literal["tombstone", "keep"] = "tombstone"
    # where a document without a usable timestamp (missing or null) is placed: nowhere (the rejects
    # table, default) or, opted in, on the generation time of its ObjectId `_id` (lake/placement.py)
    timestamp_fallback: Literal["", "objectid"] = ""

    @field_validator("collection", "database")
    @classmethod
    def _catalog_name(cls, value: str) -> str:
        if not _CATALOG_NAME.match(value):
            raise ValueError(
                f"{value!r} must be lowercase letters, digits and '_', starting with a letter: it names the "
                "Dagster asset, the lake folder and the Glue/Athena table (Glue lowercases names; Hive and "
                "Athena skip folders starting with '_')"
            )
        return value

    @field_validator("timestamp_column")
    @classmethod
    def _top_level_field(cls, value: str) -> str:
        if "." in value:
            raise ValueError(
                f"{value!r} is a dotted path; the timestamp column must be a top-level field of the document "
                "(each document is routed to its date by that field)"
            )
        if not _IDENT.match(value):
            raise ValueError(f"{value!r} is not a plain field name ([A-Za-z_][A-Za-z0-9_]*)")
        return value

    @field_validator("partition_columns")
    @classmethod
    def _partition_columns(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if len(value) > MAX_PARTITION_COLUMNS:
            raise ValueError(f"at most {MAX_PARTITION_COLUMNS} id columns besides the date, got {len(value)}")
        for col in value:
            if col.lower() in _RESERVED_PARTITION_COLUMNS:
                raise ValueError(
                    f"{col!r} cannot be a partition column: 'date' is the date partition every table has, "
                    "and '_id' would make one folder per document"
                )
            if not _FIELD.match(col):
                raise ValueError(
                    f"{col!r} is not a plain top-level field name starting with a letter "
                    "(no dots; Hive and Athena skip folders starting with '_')"
                )
        lowered = [c.lower() for c in value]
        if len(set(lowered)) != len(lowered):
            raise ValueError(
                f"{list(value)} lists the same column twice (the catalog lowercases names, so case does not count)"
            )
        ts = str(info.data.get("timestamp_column") or "")
        if ts.lower() in lowered:
            raise ValueError(
                f"the timestamp column {ts!r} cannot also be a partition column (it changes on every update, "
                "so each version of a document would land in another folder)"
            )
        return value


    @field_validator("timestamp_fallback", mode="before")
    @classmethod
    def _timestamp_fallback(cls, value: object) -> object:
        if value not in ("", "objectid"):
            raise ValueError(
                f"{value!r} is not a timestamp fallback: leave it empty (a document without a usable timestamp "
                "goes to kx_rejects) or write 'objectid' (it is placed on its ObjectId _id's generation time)"
            )
        return value

    @field_validator("pii_columns")
    @classmethod
    def _pii_columns(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        protected = {"_id", str(info.data.get("timestamp_column") or ""), *(info.data.get("partition_columns") or ())}
        for path in value:
            if not _PII_PATH.match(path):
                raise ValueError(f"{path!r} is not a dotted field path like 'phone' or 'contacts.phone'")
            if path in protected:
                raise ValueError(
                    f"{path!r} is the _id, the timestamp or a partition column: the lake needs it in clear to "
                    "route and deduplicate documents"
                )
        if len(set(value)) != len(value):
            raise ValueError(f"{list(value)} lists the same path twice")
        for path in value:
            for other in value:
                if path.startswith(other + "."):
                    raise ValueError(f"{path!r} is already covered by {other!r}")
        return value

    @property
    def key(self) -> tuple[str, str]:
        return (self.database, self.collection)


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(";") if part.strip())


def check_header(path: Path, header: list[str]) -> None:
    """Refuse duplicate, unknown (misspelled) and missing columns, all at once, each naming the column."""
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    errors: list[ConfigError] = []
    seen: dict[str, int] = {}
    for pos, name in enumerate(header, start=1):
        if name in seen:
            errors.append(ConfigError(path, f"column {name!r} appears twice in the header (columns {seen[name]} "
                                            f"and {pos}); only one would be read", row=1, field=name))
            continue
        seen[name] = pos
        if name not in known:
            close = difflib.get_close_matches(name.strip().lower(), known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            errors.append(ConfigError(path, f"unknown column {name!r}; {hint}known columns: {', '.join(known)}",
                                      row=1, field=name))
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        errors.append(ConfigError(path, f"header lacks required column(s) {', '.join(missing)}", row=1))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)


def load_collections(path: Path, known_databases: set[str] | None = None) -> list[CollectionSpec]:
    """Read and validate collections.csv; raise ConfigErrors listing every bad row and field."""
    try:
        text = read_config_text(path)
    except FileNotFoundError as exc:
        raise ConfigError(path, "file not found") from exc
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    check_header(path, header)

    errors: list[ConfigError] = []
    specs: list[CollectionSpec] = []
    first_row: dict[str, int] = {}
    for row_no, row in enumerate(reader, start=2):
        if None in row:
            errors.append(ConfigError(path, f"more cells than header columns ({len(header)})", row=row_no))
            continue
        if any(row.get(c) is None for c in header):
            errors.append(ConfigError(path, f"fewer cells than header columns ({len(header)})", row=row_no))
            continue
        if not any((v or "").strip() for v in row.values()):
            continue  # blank line
        cells = {k: (v or "").strip() for k, v in row.items()}
        values: dict[str, object] = {k: cells[k] for k in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if k in cells}
        values["partition_columns"] = _split(cells["partition_columns"])
        values["pii_columns"] = _split(cells.get("pii_columns", ""))
        if not values.get("timestamp_encoding"):
            values.pop("timestamp_encoding", None)
        if not values.get("on_source_delete"):
            values.pop("on_source_delete", None)
        if not values.get("timestamp_fallback"):
            values.pop("timestamp_fallback", None)
        if not cells["timestamp_column"]:
            errors.append(ConfigError(path, "must not be empty", row=row_no, field="timestamp_column"))
            continue
        try:
            spec = CollectionSpec(**values)
        except ValidationError as exc:
            for err in exc.errors():
                given = f" (true/false, yes/no, 1/0, on/off), got {err['input']!r}" if err["type"] == "bool_parsing" else ""
                errors.append(ConfigError(path, err["msg"] + given, row=row_no, field=str(err["loc"][0])))
            continue
        if known_databases is not None and spec.database not in known_databases:
            errors.append(
                ConfigError(
                    path,
                    f"unknown database {spec.database!r}; known: {', '.join(sorted(known_databases))}",
                    row=row_no,
                    field="database",
                )
            )
            continue
        if spec.collection in first_row:
            errors.append(
                ConfigError(
                    path,
                    f"duplicate collection {spec.collection!r} (first on row {first_row[spec.collection]})",
                    row=row_no,
                    field="collection",
                )
            )
            continue
        first_row[spec.collection] = row_no
        specs.append(spec)
    if errors:
        raise ConfigErrors(errors)
    if not specs:
        raise ConfigError(path, "no collections listed")
    return specs
