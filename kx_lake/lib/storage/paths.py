"""The lake's path layout and Hive-style partition escaping, as pure string functions.

Layout: `<lake_root>/<env>/<database>/<collection>/date=YYYY-MM-DD[/<id1>=<v>[/<id2>=<w>]]/part-00000.parquet`.
Athena (via Glue/Hive), DuckDB (`hive_partitioning`) and Spark all read partition values from
`name=value` directory names, so values are escaped exactly like Hive's `FileUtils.escapePathName`
(the Unix set: control characters, `"#%'*/:=?\\{[]^` and DEL become `%XX`, everything else, non-ASCII
included, is kept) and a null or empty value becomes `__HIVE_DEFAULT_PARTITION__`, which those engines
read back as NULL. Nothing here touches a filesystem, so the layout is testable on its own.

Values taken from documents arrive as `LeafValue`s, whose segment follows the stricter rule of
`segments` (unique on case-insensitive filesystems, never too long, originals kept in the file);
plain strings and integers given directly (tools, tests, a leaf's folder text) are escaped as above.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from kx_lake.lib.storage.segments import DEFAULT_PARTITION, LeafValue, hive_escape

DATE_COLUMN = "date"
DATA_FILE_NAME = "part-00000.parquet"
STATE_DIR = "_kx_state"
LEASE_FILE = "_lease.json"  # the environment's writer lease, under STATE_DIR (lib/lake/lease.py)

PartitionValue = LeafValue | str | int | None
MAX_SEGMENT_BYTES = 255  # a directory name on ext4, APFS, NTFS and S3 tools alike
IdPairs = Sequence[tuple[str, PartitionValue]]

_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class LakeLayoutError(ValueError):
    """A name, value or path that does not fit the lake layout; the message names the offender."""


def escape_partition_value(value: PartitionValue) -> str:
    """Hive-escape one partition value for a directory name; None or '' -> __HIVE_DEFAULT_PARTITION__;
    a LeafValue (a document's value) -> its segment."""
    if isinstance(value, LeafValue):
        return value.segment
    if value is None:
        return DEFAULT_PARTITION
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise LakeLayoutError(f"partition value {value!r} must be a string, an integer or None")
    text = str(value)
    if text == "":
        return DEFAULT_PARTITION
    escaped = hive_escape(text)
    if len(escaped.encode()) > MAX_SEGMENT_BYTES // 2:
        raise LakeLayoutError(
            f"partition value {text[:40]!r}... is {len(escaped.encode())} bytes escaped; pass a LeafValue, "
            "whose segment is hashed"
        )
    return escaped


def unescape_partition_value(text: str) -> str | None:
    """Invert escape_partition_value (Hive's unescapePathName); __HIVE_DEFAULT_PARTITION__ -> None."""
    if text == DEFAULT_PARTITION:
        return None
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%" and _is_hex(text[i + 1 : i + 3]):
            out.append(chr(int(text[i + 1 : i + 3], 16)))
            i += 3
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _is_hex(pair: str) -> bool:
    return len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair)


def check_segment(kind: str, name: str) -> str:
    """A plain path segment (env, database, collection, column name) that needs no escaping.

    Names starting with '_' or '.' are refused: Hive and Athena skip such directories as hidden.
    """
    if not isinstance(name, str) or not _SEGMENT.match(name) or is_hidden(name):
        raise LakeLayoutError(
            f"{kind} name {name!r} is not a plain lake path segment ([A-Za-z0-9_.-], not starting with _ or .)"
        )
    return name


def format_date(date: dt.date | str) -> str:
    """The `YYYY-MM-DD` text of a partition date (a date, or already such text)."""
    if isinstance(date, dt.datetime):
        raise LakeLayoutError(f"partition date {date!r} must be a date, not a datetime")
    if isinstance(date, dt.date):
        return date.isoformat()
    if isinstance(date, str) and _DATE.match(date):
        try:
            return dt.date.fromisoformat(date).isoformat()
        except ValueError:
            pass
    raise LakeLayoutError(f"partition date {date!r} is not a date or YYYY-MM-DD text")


def date_segment(date: dt.date | str) -> str:
    return f"{DATE_COLUMN}={format_date(date)}"


def id_segments(ids: IdPairs) -> list[str]:
    """`name=escaped-value` directory names for the id partition columns, in order."""
    out = [f"{check_segment('column', name)}={escape_partition_value(value)}" for name, value in ids]
    for segment in out:
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            raise LakeLayoutError(f"directory name {segment[:60]!r}... exceeds {MAX_SEGMENT_BYTES} bytes")
    return out


def table_relpath(env: str, database: str, collection: str) -> str:
    return "/".join(
        [
            check_segment("environment", env),
            check_segment("database", database),
            check_segment("collection", collection),
        ]
    )


def leaf_relpath(env: str, database: str, collection: str, date: dt.date | str, ids: IdPairs = ()) -> str:
    return "/".join([table_relpath(env, database, collection), date_segment(date), *id_segments(ids)])


def parse_leaf(relpath: str) -> tuple[dt.date, tuple[tuple[str, str | None], ...]]:
    """(date, ((name, value), ...)) from a leaf directory path relative to its table directory."""
    parts = [p for p in relpath.split("/") if p]
    if not parts or not parts[0].startswith(f"{DATE_COLUMN}="):
        raise LakeLayoutError(f"{relpath!r} does not start with a {DATE_COLUMN}=YYYY-MM-DD directory")
    date = dt.date.fromisoformat(format_date(parts[0].split("=", 1)[1]))
    ids: list[tuple[str, str | None]] = []
    for part in parts[1:]:
        name, sep, value = part.partition("=")
        if not sep or not name:
            raise LakeLayoutError(f"{relpath!r}: directory {part!r} is not name=value")
        ids.append((name, unescape_partition_value(value)))
    return date, tuple(ids)


def state_relpath(env: str, relpath: str) -> str:
    """`<env>/_kx_state/<relpath>`, refusing absolute paths, '..' and empty segments."""
    parts = relpath.split("/")
    if relpath.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise LakeLayoutError(f"state path {relpath!r} must be relative, without '.', '..' or empty segments")
    return "/".join([check_segment("environment", env), STATE_DIR, *parts])


def is_hidden(name: str) -> bool:
    """Hive, Athena and Spark skip files whose name starts with '_' or '.'."""
    return name.startswith(("_", "."))
