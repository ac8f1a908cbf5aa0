"""The dashboard datasets' column lists, read from their SQL (`sql/datasets/<name>.sql`) — no catalog.

Each dataset file is one `CREATE OR REPLACE VIEW {{ analytics }}.<name> AS SELECT ...` in Athena SQL.
Spec validation must work on a machine with no lake, so the output columns are the outermost
SELECT's names as sqlglot parses them (aliases, or the column name of a bare reference). A `*` in
that list cannot be resolved without a catalog and is reported as an error naming the file: the
column contract asks for an explicit list.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import sqlglot
from sqlglot import exp

from kx_lake.lib.config.errors import ConfigError, ConfigErrors
from kx_lake.lib.config.settings import PACKAGE_DIR

SQL_DIR = PACKAGE_DIR.parent / "sql"
DATASETS_SUBDIR = "datasets"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def datasets_dir(sql_dir: Path | None = None) -> Path:
    return (sql_dir or SQL_DIR) / DATASETS_SUBDIR


def output_columns(sql: str, source: str = "<sql>") -> list[str]:
    """The output column names of a CREATE VIEW ... AS SELECT (placeholders read as plain names)."""
    text = _PLACEHOLDER.sub(lambda m: m.group(1), sql)
    try:
        statements = [s for s in sqlglot.parse(text, read="athena") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise ConfigError(source, f"not valid Athena SQL: {exc}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Create):
        raise ConfigError(source, "expected exactly one CREATE OR REPLACE VIEW statement")
    query = statements[0].expression
    while isinstance(query, exp.SetOperation):  # UNION ALL: the first branch names the columns
        query = query.this
    if isinstance(query, exp.Subquery):
        query = query.unnest()
    if not isinstance(query, exp.Select):
        raise ConfigError(source, "the view's body is not a SELECT")
    if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star) for e in query.expressions):
        raise ConfigError(source, "SELECT * in a dataset: list its columns explicitly")
    return list(query.named_selects)


@lru_cache(maxsize=8)
def _dataset_columns_cached(directory: str, stamp: tuple) -> dict[str, tuple[str, ...]]:
    out, errors = {}, []
    for path in sorted(Path(directory).glob("*.sql")):
        try:
            out[path.stem] = tuple(output_columns(path.read_text(), str(path)))
        except ConfigError as exc:
            errors.append(exc)
    if errors:
        raise ConfigErrors(errors)
    return out


def dataset_columns(sql_dir: Path | None = None) -> dict[str, tuple[str, ...]]:
    """name → output columns for every `sql/datasets/*.sql` (cached until a file changes)."""
    directory = datasets_dir(sql_dir)
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(directory.glob("*.sql")))
    return dict(_dataset_columns_cached(str(directory), stamp))
