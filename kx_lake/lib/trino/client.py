"""Talk to the running Trino with the PyPI `trino` client (DB-API): statements, parameters, results.

Values a caller passes are bound as `?` parameters (the client turns them into a prepared
statement), never spliced into SQL text. Errors keep Trino's own message, prefixed with what ran.
"""

from __future__ import annotations

from collections.abc import Sequence

import trino
from trino.exceptions import TrinoQueryError

from kx_lake.lib.catalog.objects import QueryResult
from kx_lake.lib.trino.config import CATALOG
from kx_lake.lib.trino.server import TrinoServerInfo

USER = "kx-lake"


class TrinoSqlError(RuntimeError):
    """A statement Trino refused; the message names what ran (a view, a table) and Trino's reason."""


def connect(info: TrinoServerInfo, catalog: str = CATALOG) -> trino.dbapi.Connection:
    return trino.dbapi.connect(host="127.0.0.1", port=info.port, user=USER, catalog=catalog,
                               http_scheme="http", request_timeout=600)


def run(con: trino.dbapi.Connection, sql: str, params: Sequence[object] | None = None, *,
        name: str = "query") -> QueryResult:
    """Run one statement to the end; its columns and rows (DDL returns no rows)."""
    cur = con.cursor()
    try:
        cur.execute(sql, list(params) if params else None)
        rows = cur.fetchall()
    except TrinoQueryError as exc:
        raise TrinoSqlError(f"trino {name}: {exc.error_name}: {exc.message}") from exc
    finally:
        cur.close()
    columns = [d[0] for d in cur.description or []]
    return QueryResult(columns, [tuple(r) for r in rows])
