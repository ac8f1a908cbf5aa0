"""The Glue table definition, executed as DDL on Trino's Hive connector.

The Glue path (glue.table_input) decides a lake table's shape from the lake's own schema: columns
with Hive type strings, `date` + id partition keys as `string`, Parquet, an external location. The
Trino backend creates its tables from THAT SAME TableInput, rendered here as

    CREATE TABLE lake."<db>"."<table>" ("col" <trino type>, ..., "date" varchar, ...)
    COMMENT 'kx-lake <fingerprint>'
    WITH (format = 'PARQUET', partitioned_by = ARRAY['date', ...], external_location = 'local:///...')

so a definition Athena would reject (a bad type string, a duplicate or partition-named column)
fails on Trino in the tests first. Hive type strings are translated by a small parser of their
grammar (`struct<a:bigint,b:array<string>>` → `ROW("a" BIGINT, "b" ARRAY(VARCHAR))`): struct field
names are often SQL keywords (`order`, `from`) that general SQL parsers mangle, and every
identifier is quoted on the Trino side. The COMMENT carries a fingerprint of the definition, so a
refresh recreates a table only when its definition changed (a widened column).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

_SCALARS = {
    "string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "double": "DOUBLE", "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP(3)", "date": "DATE", "float": "REAL", "smallint": "SMALLINT", "tinyint": "TINYINT",
    "binary": "VARBINARY",
}
_TOKEN = re.compile(r"\s*([A-Za-z0-9_]+|[<>(),:])")
COMMENT_PREFIX = "kx-lake "


class TrinoDdlError(ValueError):
    """A Glue table definition that has no Trino rendering; the message names the table and column."""


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def trino_type(hive: str) -> str:
    """The Trino type of a Hive/Glue type string."""
    tokens = _TOKEN.findall(hive)
    if "".join(tokens) != re.sub(r"\s+", "", hive):
        raise TrinoDdlError(f"unreadable Hive type {hive!r}")
    pos = 0

    def take(expected: str | None = None) -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise TrinoDdlError(f"Hive type {hive!r} ends early")
        tok = tokens[pos]
        if expected is not None and tok != expected:
            raise TrinoDdlError(f"Hive type {hive!r}: expected {expected!r} at token {pos}, got {tok!r}")
        pos += 1
        return tok

    def parse() -> str:
        name = take().lower()
        if name == "array":
            take("<")
            inner = parse()
            take(">")
            return f"ARRAY({inner})"
        if name == "map":
            take("<")
            key = parse()
            take(",")
            value = parse()
            take(">")
            return f"MAP({key}, {value})"
        if name == "struct":
            take("<")
            fields = []
            while True:
                field = take()
                take(":")
                fields.append(f"{_q(field)} {parse()}")
                if take() == ">":
                    break
            return f"ROW({', '.join(fields)})"
        if name in ("decimal", "varchar", "char"):
            take("(")
            args = [take()]
            if name == "decimal":
                take(",")
                args.append(take())
            take(")")
            return f"{name.upper()}({', '.join(args)})"
        if name not in _SCALARS:
            raise TrinoDdlError(f"Hive type {hive!r}: unknown type {name!r}")
        return _SCALARS[name]

    out = parse()
    if pos != len(tokens):
        raise TrinoDdlError(f"Hive type {hive!r}: trailing {''.join(tokens[pos:])!r}")
    return out


def local_location(path: str) -> str:
    """`local:///abs/dir/` for Trino's native local file system (`local.location=/`)."""
    if "://" in path:
        raise TrinoDdlError(f"the Trino catalog reads a local lake only, got {path!r}")
    return "local://" + "/" + path.strip("/") + "/"


def fingerprint(table_input: Mapping[str, Any]) -> str:
    shape = {"columns": table_input["StorageDescriptor"]["Columns"], "keys": table_input["PartitionKeys"],
             "location": table_input["StorageDescriptor"]["Location"]}
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]


def create_table_sql(catalog: str, database: str, table_input: Mapping[str, Any], location: str) -> str:
    """CREATE TABLE on Trino's Hive connector from a Glue TableInput; `location` is a `local:///` URI."""
    name = table_input["Name"]
    where = f"{database}.{name}"
    columns = []
    for col in [*table_input["StorageDescriptor"]["Columns"], *table_input["PartitionKeys"]]:
        try:
            columns.append(f"{_q(col['Name'])} {trino_type(col['Type'])}")
        except TrinoDdlError as exc:
            raise TrinoDdlError(f"{where}.{col['Name']}: {exc}") from exc
    keys = ", ".join(_lit(k["Name"]) for k in table_input["PartitionKeys"])
    serde = table_input["StorageDescriptor"].get("SerdeInfo", {}).get("SerializationLibrary", "")
    if "parquet" not in serde.lower():
        raise TrinoDdlError(f"{where}: only Parquet tables are rendered, got SerDe {serde!r}")
    return (
        f"CREATE TABLE {_q(catalog)}.{_q(database)}.{_q(name)} (\n  " + ",\n  ".join(columns) + "\n)\n"
        f"COMMENT {_lit(COMMENT_PREFIX + fingerprint(table_input))}\n"
        f"WITH (format = 'PARQUET', partitioned_by = ARRAY[{keys}], external_location = {_lit(location)})"
    )
