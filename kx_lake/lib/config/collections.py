"""The collection list (collections.csv): one row per MongoDB collection the lake extracts.

A CSV because operators edit it in a spreadsheet; validated row by row into frozen specs, every error
naming the file, the line ("row", counting the header as row 1) and the column.
"""

from __future__ import annotations

import csv
import re
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kx_lake.lib.config.errors import ConfigError, ConfigErrors

REQUIRED_COLUMNS = ("collection", "database", "timestamp_column", "partition_columns", "enabled")
OPTIONAL_COLUMNS = ("timestamp_encoding", "subject_area", "pii_columns", "description", "on_source_delete")
MAX_PARTITION_COLUMNS = 2
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n"}


class TimestampEncoding(StrEnum):
    """How a collection stores its modified timestamp in MongoDB."""

    DATE = "date"  # BSON UTC datetime
    EPOCH_MS = "epoch_ms"  # int64 milliseconds since the Unix epoch
    ISO_STRING = "iso_string"  # ISO-8601 text with an offset or 'Z'


class CollectionSpec(BaseModel):
    """What the lake needs to know to extract one collection."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    collection: str = Field(pattern=_IDENT.pattern, max_length=120)
    database: str = Field(pattern=_IDENT.pattern)
    timestamp_column: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$")
    timestamp_encoding: TimestampEncoding = TimestampEncoding.DATE
    partition_columns: tuple[str, ...] = ()
    enabled: bool = True
    subject_area: str = ""
    pii_columns: tuple[str, ...] = ()
    description: str = ""
    # what the reconcile pass does with a document gone from the source: a tombstone hides it from
    # `_latest` (history keeps it); `keep` for collections the application purges by design
    on_source_delete: Literal["tombstone", "keep"] = "tombstone"

    @field_validator("partition_columns")
    @classmethod
    def _partition_columns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > MAX_PARTITION_COLUMNS:
            raise ValueError(f"at most {MAX_PARTITION_COLUMNS} id columns besides the date, got {len(value)}")
        for col in value:
            if not _IDENT.match(col):
                raise ValueError(f"{col!r} is not a plain column name")
        if len(set(value)) != len(value):
            raise ValueError("the same column is listed twice")
        return value

    @property
    def key(self) -> tuple[str, str]:
        return (self.database, self.collection)


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(";") if part.strip())


def _parse_bool(cell: str) -> bool:
    low = cell.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {cell!r}")


def load_collections(path: Path, known_databases: set[str] | None = None) -> list[CollectionSpec]:
    """Read and validate collections.csv; raise ConfigErrors listing every bad row and field."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigError(path, "file not found") from exc
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ConfigError(path, f"header lacks required column(s) {', '.join(missing)}", row=1)

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
        try:
            values["enabled"] = _parse_bool(cells["enabled"])
        except ValueError as exc:
            errors.append(ConfigError(path, str(exc), row=row_no, field="enabled"))
            continue
        values["partition_columns"] = _split(cells["partition_columns"])
        values["pii_columns"] = _split(cells.get("pii_columns", ""))
        if not values.get("timestamp_encoding"):
            values.pop("timestamp_encoding", None)
        if not values.get("on_source_delete"):
            values.pop("on_source_delete", None)
        if not cells["timestamp_column"]:
            errors.append(ConfigError(path, "must not be empty", row=row_no, field="timestamp_column"))
            continue
        try:
            spec = CollectionSpec(**values)
        except ValidationError as exc:
            for err in exc.errors():
                errors.append(ConfigError(path, err["msg"], row=row_no, field=str(err["loc"][0])))
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
