"""How a document's partition value becomes a directory name: safe, unique and reversible.

Partition values come from documents, so they can be anything: `a/b`, `..`, NUL, 300 characters,
emoji, `F1` beside `f1`, `é` in NFC beside NFD, `5` beside `"5"`, an array. The rule:

* **Plain values keep their text in the path.** A string is plain when it is non-empty printable
  ASCII with no lowercase letter and no `~`, is not the literal `__HIVE_DEFAULT_PARTITION__`, and its
  escaped form fits in MAX_PLAIN_BYTES. Its segment is Hive's escaping (`FileUtils.escapePathName`:
  control characters, `"#%'*/:=?\\{[]^` and DEL become `%XX`), which DuckDB, Athena/Trino and Spark
  unescape back to exactly the text. Plain segments are pairwise distinct even on case-insensitive,
  normalising filesystems: their letters are all uppercase, escapes use uppercase hex, a `%` is always
  an escape, and ASCII has no normalisation variants. (Uppercase is the plain case because ids such as
  facility ids are conventionally uppercase; their folders stay readable and unchanged.)
* **Every other value is disambiguated:** segment `<hint>~<hash>`, where hint is up to HINT_CHARS of
  the value's `[A-Za-z0-9_-]` characters (for people listing folders) and hash the first HASH_HEX hex
  digits of SHA-256 over the value's type and exact text. That covers lowercase or mixed case,
  non-ASCII, control characters, long values, `""` (distinct from null), the literal default-partition
  name, and any non-string value (`5` is not `"5"`; ObjectIds, booleans, numbers, dates, arrays and
  objects in canonical JSON). Hash digits are lowercase and `~` never occurs in a plain segment, so
  the two kinds never meet. Such a leaf's files carry the original text in a string column
  `_kx_orig_<column>`; the catalog reads the partition column as `coalesce(_kx_orig_<column>, <column>)`.
* null or missing is `__HIVE_DEFAULT_PARTITION__`, which the engines read as NULL.

A `name=segment` directory name stays far below the 255-byte limit of common filesystems.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
from bson import ObjectId
from bson.int64 import Int64

from kx_lake.lib.storage.parquet import Batches, iter_batches

DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
HASH_SEPARATOR = "~"
HASH_HEX = 20  # 80 bits: distinct values of one column never meet by chance
HINT_CHARS = 48
MAX_PLAIN_BYTES = 120
ORIGINAL_COLUMN_PREFIX = "_kx_orig_"

_HIVE_ESCAPED = frozenset(
    [*map(chr, range(0x20)), '"', "#", "%", "'", "*", "/", ":", "=", "?", "\\", "\x7f", "{", "[", "]", "^"]
)
_HINT_DROP = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class LeafValue:
    """One partition value of one document: what the catalog shows (`text`) and its directory (`segment`)."""

    text: str | None
    segment: str

    @property
    def disambiguated(self) -> bool:
        return HASH_SEPARATOR in self.segment


def hive_escape(text: str) -> str:
    return "".join(f"%{ord(c):02X}" if c in _HIVE_ESCAPED else c for c in text)


def is_plain(text: str) -> bool:
    """Whether a string value keeps its own text in the path (see the module docstring)."""
    return (
        text != ""
        and text != DEFAULT_PARTITION
        and all(" " <= c <= "~" and not ("a" <= c <= "z") for c in text)
        and HASH_SEPARATOR not in text
        and len(hive_escape(text)) <= MAX_PLAIN_BYTES
    )


def as_text(value: object) -> tuple[str, str]:
    """(type tag, canonical text) of a decoded BSON value; the text is what the catalog shows."""
    if isinstance(value, str):
        return "str", value
    if isinstance(value, bool):
        return "bool", "true" if value else "false"
    if isinstance(value, (int, Int64)):
        return "int", str(int(value))
    if isinstance(value, ObjectId):
        return "objectid", str(value)
    if isinstance(value, float):
        return "float", repr(value)
    if isinstance(value, dt.datetime):
        return "datetime", value.isoformat()
    return type(value).__name__, json.dumps(value, sort_keys=True, default=str, separators=(",", ":"),
                                            ensure_ascii=False)


def leaf_value(value: object) -> LeafValue:
    """The partition value of a document field's decoded value (None: null or missing)."""
    if value is None:
        return LeafValue(None, DEFAULT_PARTITION)
    tag, text = as_text(value)
    if tag == "str" and is_plain(text):
        return LeafValue(text, hive_escape(text))
    digest = hashlib.sha256(f"{tag}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()[:HASH_HEX]
    hint = _HINT_DROP.sub("", text)[:HINT_CHARS]
    return LeafValue(text, f"{hint}{HASH_SEPARATOR}{digest}")


def original_column(partition_column: str) -> str:
    """The file column holding a disambiguated leaf's original value (lowercase, as Glue names it)."""
    return f"{ORIGINAL_COLUMN_PREFIX}{partition_column.lower()}"


def with_original_values(
    schema: pa.Schema, data: Batches, id_columns: Sequence[str], key: Sequence[object]
) -> tuple[pa.Schema, Batches]:
    """A leaf's file schema and batches with one constant `_kx_orig_<column>` string column per
    disambiguated value in `key`; unchanged when the path holds every value itself."""
    extra = [(original_column(name), v.text) for name, v in zip(id_columns, key, strict=True)
             if isinstance(v, LeafValue) and v.disambiguated]
    if not extra:
        return schema, data
    for name, _ in extra:
        if name in schema.names:
            raise ValueError(f"the data already has a column {name!r}, reserved for partition values")
    out_schema = schema
    for name, _ in extra:
        out_schema = out_schema.append(pa.field(name, pa.string()))

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in iter_batches(data):
            for name, text in extra:
                batch = batch.append_column(name, pa.repeat(pa.scalar(text, pa.string()), batch.num_rows))
            yield batch

    return out_schema, batches()
