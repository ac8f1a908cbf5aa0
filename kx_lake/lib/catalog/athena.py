"""Run named SQL statements on Athena and wait for them: DDL for views, checks, dashboard datasets.

Why it is shaped this way:

* Athena is asynchronous (start, then poll), and its failures arrive as a state plus a free-text
  StateChangeReason. Every statement here therefore carries a *name* (e.g. `kx_env1_hims_billing.
  bills_latest view`), and a failure raises `AthenaQueryError` with that name, the execution id,
  the state and Athena's reason — the message an operator needs, not a bare ClientError.
* `start` and `wait` are separate so callers can launch independent statements (one view per
  collection) before waiting on them; `run` is both.
* Polling backs off geometrically up to a cap and gives up after a timeout (lib/backoff, tenacity),
  stopping the query so a stuck statement does not keep scanning (and billing) after we have
  stopped caring.
* The client, the clock and `sleep` are injected: the runner is tested against moto's server and,
  where moto cannot produce a state (a FAILED query), against botocore's Stubber. No environment or
  network access at import; no Dagster. `CREATE OR REPLACE VIEW ...` is just another SQL string.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from botocore.exceptions import ClientError

from kx_lake.lib.backoff import Backoff

_LOG = logging.getLogger(__name__)

SUCCEEDED = "SUCCEEDED"
FAILED_STATES = frozenset({"FAILED", "CANCELLED"})
DATA_CATALOG = "AwsDataCatalog"


class AthenaQueryError(RuntimeError):
    """An Athena statement that failed, was cancelled, timed out or could not be started."""

    def __init__(self, message: str, *, name: str, execution_id: str | None = None, state: str | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.execution_id = execution_id
        self.state = state
        self.reason = reason


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[str | None, ...]] = field(default_factory=list)


def failure_reason(execution: dict[str, Any]) -> str:
    """Athena's explanation: StateChangeReason, else AthenaError.ErrorMessage, else 'no reason given'."""
    status = execution.get("Status", {})
    reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage")
    return str(reason) if reason else "no reason given"


class AthenaRunner:
    """Start named statements in one workgroup, results to `output_location`, and wait for them."""

    def __init__(
        self,
        client: Any,
        workgroup: str,
        output_location: str,
        *,
        poll_initial_s: float = 0.25,
        poll_max_s: float = 5.0,
        poll_factor: float = 1.6,
        timeout_s: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not output_location.startswith("s3://"):
            raise ValueError(f"athena workgroup {workgroup}: output location must be s3://..., got {output_location!r}")
        self.client = client
        self.workgroup = workgroup
        self.output_location = output_location
        self.poll_initial_s = poll_initial_s
        self.poll_max_s = poll_max_s
        self.poll_factor = poll_factor
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._clock = clock

    def start(self, name: str, sql: str, database: str | None = None) -> str:
        """Submit the statement; its execution id."""
        params: dict[str, Any] = {
            "QueryString": sql,
            "WorkGroup": self.workgroup,
            "ResultConfiguration": {"OutputLocation": self.output_location},
        }
        if database:
            params["QueryExecutionContext"] = {"Database": database, "Catalog": DATA_CATALOG}
        try:
            execution_id = self.client.start_query_execution(**params)["QueryExecutionId"]
        except ClientError as exc:
            raise AthenaQueryError(
                f"athena {name} (workgroup {self.workgroup}): could not start: {exc}", name=name
            ) from exc
        _LOG.info("athena: %s started as %s", name, execution_id)
        return execution_id

    def wait(self, name: str, execution_id: str) -> dict[str, Any]:
        """Poll until the statement ends; its QueryExecution on success, AthenaQueryError otherwise."""
        last_state: list[str | None] = [None]

        def check() -> dict[str, Any] | None:
            try:
                execution = self.client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            except ClientError as exc:
                raise AthenaQueryError(
                    f"athena {name} ({execution_id}): get_query_execution failed: {exc}",
                    name=name, execution_id=execution_id,
                ) from exc
            state = last_state[0] = execution.get("Status", {}).get("State")
            if state == SUCCEEDED:
                _LOG.info("athena: %s (%s) succeeded", name, execution_id)
                return execution
            if state in FAILED_STATES:
                reason = failure_reason(execution)
                raise AthenaQueryError(
                    f"athena {name} ({execution_id}) {state}: {reason}",
                    name=name, execution_id=execution_id, state=state, reason=reason,
                )
            return None

        def timed_out() -> NoReturn:
            self._stop(name, execution_id)
            raise AthenaQueryError(
                f"athena {name} ({execution_id}): still {last_state[0]} after {self.timeout_s:g} s; stopped",
                name=name, execution_id=execution_id, state=last_state[0],
            )

        backoff = Backoff(self.poll_initial_s, self.poll_max_s, self.poll_factor, self.timeout_s,
                          sleep=self._sleep, clock=self._clock)
        return backoff.poll(check, timed_out)

    def run(self, name: str, sql: str, database: str | None = None) -> str:
        """Start and wait; the execution id of the succeeded statement."""
        execution_id = self.start(name, sql, database)
        self.wait(name, execution_id)
        return execution_id

    def results(self, execution_id: str, *, name: str | None = None, header_row: bool | None = None) -> QueryResult:
        """All result rows (every page). Athena repeats the column names as the first row of a DML
        (SELECT) result; it is dropped. `header_row=None` asks Athena the statement type."""
        name = name or execution_id
        if header_row is None:
            try:
                execution = self.client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            except ClientError as exc:
                raise AthenaQueryError(f"athena {name} ({execution_id}): get_query_execution failed: {exc}",
                                       name=name, execution_id=execution_id) from exc
            header_row = execution.get("StatementType") == "DML"
        columns: list[str] | None = None
        rows: list[tuple[str | None, ...]] = []
        try:
            for page in self.client.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id):
                result_set = page.get("ResultSet", {})
                page_rows = [tuple(d.get("VarCharValue") for d in r.get("Data", [])) for r in result_set.get("Rows", [])]
                if columns is None:
                    columns = [c["Name"] for c in result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])]
                    if header_row and page_rows:
                        page_rows = page_rows[1:]
                rows.extend(page_rows)
        except ClientError as exc:
            raise AthenaQueryError(f"athena {name} ({execution_id}): get_query_results failed: {exc}",
                                   name=name, execution_id=execution_id) from exc
        return QueryResult(columns or [], rows)

    def _stop(self, name: str, execution_id: str) -> None:
        try:
            self.client.stop_query_execution(QueryExecutionId=execution_id)
        except ClientError as exc:  # best effort: the timeout is the error worth raising
            _LOG.warning("athena: %s (%s): stopping after the timeout failed: %s", name, execution_id, exc)
