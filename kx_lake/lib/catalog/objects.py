"""What every catalog backend reports and raises, in a module of its own so no backend imports
another's (aws_catalog used to take these from duckdb_catalog)."""

from __future__ import annotations

from dataclasses import dataclass, field


class CatalogError(RuntimeError):
    """A catalog operation that failed; the message names the environment, collection or file."""


@dataclass(frozen=True)
class CatalogObject:
    """One table or view the refresh handled: created, or skipped with the reason."""

    kind: str  # "table" | "latest" | "sql" (sql/views) | "dataset" (sql/datasets) | "view" | "crawl"
    name: str  # db.name
    status: str  # "created" | "skipped"
    reason: str = ""


def partitions_note(count: int) -> str:
    """How a table's partition count reads in a CatalogObject's reason (the kx_rejects table's)."""
    return f"{count} partition{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of a query, whatever engine ran it."""

    columns: list[str]
    rows: list[tuple] = field(default_factory=list)
