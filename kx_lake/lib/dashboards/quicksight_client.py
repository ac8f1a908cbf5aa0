"""Idempotent QuickSight operations on one account: create-or-update, permissions, SPICE ingestions.

Why it is shaped this way:

* Create-or-update is *describe, then update; create on ResourceNotFoundException*, keyed by the
  deterministic ids of quicksight_resources. Re-deploying therefore updates in place and never
  creates a second data set or dashboard; a ConflictException/ResourceExistsException on create
  (another deploy won the race) falls back to update.
* Permissions are reconciled, not appended: DescribeXPermissions, then one UpdateXPermissions with
  the grants that are missing and the revocations of principals no longer configured.
* A dashboard update makes a new version that is not yet visible; it is awaited
  (DescribeDashboard of that version until CREATION_SUCCESSFUL/FAILED, failures with QuickSight's
  own error list) and then published with UpdateDashboardPublishedVersion.
* Ingestions: CreateIngestion for every SPICE data set first, then DescribeIngestion polls (with a
  geometric back-off and a timeout: lib/backoff, tenacity) until each is COMPLETED, FAILED or CANCELLED. Failures are
  collected, and one `IngestionFailedError` names every failed data set with QuickSight's error
  type and message — never a bare ClientError, never request parameters or credentials. QuickSight's
  own error text (a data source's connection error may echo a URI with its password) is scrubbed
  (lib/scrub) where it is read, so the log records, results and errors built from it are clean.
* The client, `sleep` and `clock` are injected: tested against moto's server (the operations it
  implements) and botocore's Stubber; no environment, network or Dagster at import.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

from botocore.exceptions import BotoCoreError, ClientError

from kx_lake.lib.backoff import Backoff
from kx_lake.lib.dashboards.quicksight_resources import update_request
from kx_lake.lib.scrub import scrub

_LOG = logging.getLogger(__name__)

NOT_FOUND = "ResourceNotFoundException"
ALREADY_EXISTS = frozenset({"ResourceExistsException", "ConflictException"})
INGESTION_DONE = "COMPLETED"
INGESTION_FAILED = frozenset({"FAILED", "CANCELLED"})
VERSION_OK = frozenset({"CREATION_SUCCESSFUL", "UPDATE_SUCCESSFUL"})
VERSION_FAILED = frozenset({"CREATION_FAILED", "UPDATE_FAILED", "FAILED"})
CREATED, UPDATED = "created", "updated"


class QuickSightError(RuntimeError):
    """A QuickSight request that failed; the message names the resource (kind and id)."""


@dataclass(frozen=True)
class IngestionResult:
    name: str  # the dataset name (e.g. fin_revenue_daily)
    data_set_id: str
    ingestion_id: str | None
    status: str
    rows_ingested: int | None = None
    rows_dropped: int | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == INGESTION_DONE


class IngestionFailedError(QuickSightError):
    """Some ingestions did not complete; the message lists each failed data set by name."""

    def __init__(self, results: list[IngestionResult]) -> None:
        self.results = results
        failed = [r for r in results if not r.ok]
        lines = [f"{r.name} ({r.data_set_id}): {r.status}: {r.error or 'no reason given'}" for r in failed]
        super().__init__(f"{len(failed)} of {len(results)} SPICE ingestion(s) failed:\n  " + "\n  ".join(lines))

    @property
    def failed(self) -> list[str]:
        return [r.name for r in self.results if not r.ok]


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _describe_error(exc: Exception) -> str:
    """ClientError → `Code: message`; other errors by type. Scrubbed: the service's message may quote a
    data source's connection string."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return scrub(f"{err.get('Code', 'Error')}: {err.get('Message', '')}".rstrip(": "))
    return scrub(f"{type(exc).__name__}: {exc}")


def version_number(version_arn: str) -> int:
    """`arn:...:dashboard/kx-env1-x/version/3` → 3."""
    try:
        return int(version_arn.rsplit("/", 1)[1])
    except (IndexError, ValueError):
        raise QuickSightError(f"unexpected dashboard VersionArn {version_arn!r}") from None


def permission_changes(current: Sequence[Mapping[str, Any]], desired: Sequence[Mapping[str, Any]]
                       ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(grants, revokes) turning `current` permissions into exactly `desired`."""
    have = {p["Principal"]: set(p["Actions"]) for p in current}
    want = {p["Principal"]: set(p["Actions"]) for p in desired}
    grants = [{"Principal": pr, "Actions": sorted(a - have.get(pr, set()))}
              for pr, a in want.items() if a - have.get(pr, set())]
    revokes = [{"Principal": pr, "Actions": sorted(a - want.get(pr, set()))}
               for pr, a in have.items() if a - want.get(pr, set())]
    return grants, revokes


class QuickSightClient:
    """Idempotent operations against one AWS account's QuickSight; `client` is a boto3 QuickSight client."""

    def __init__(
        self,
        client: Any,
        account_id: str,
        *,
        poll_initial_s: float = 2.0,
        poll_max_s: float = 30.0,
        poll_factor: float = 1.5,
        timeout_s: float = 3600.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.account_id = account_id
        self.poll_initial_s = poll_initial_s
        self.poll_max_s = poll_max_s
        self.poll_factor = poll_factor
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._clock = clock

    # plumbing ----------------------------------------------------------------------------------

    def _call(self, what: str, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**params)
        except (ClientError, BotoCoreError) as exc:
            raise QuickSightError(f"quicksight {what}: {operation} failed: {_describe_error(exc)}") from exc

    def _describe(self, what: str, operation: str, **params: Any) -> dict[str, Any] | None:
        try:
            return getattr(self.client, operation)(**params)
        except ClientError as exc:
            if error_code(exc) == NOT_FOUND:
                return None
            raise QuickSightError(f"quicksight {what}: {operation} failed: {_describe_error(exc)}") from exc
        except BotoCoreError as exc:
            raise QuickSightError(f"quicksight {what}: {operation} failed: {_describe_error(exc)}") from exc

    def _create_or_update(self, what: str, describe: str, create: str, update: str, key: dict[str, str],
                          request: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        existing = self._describe(what, describe, AwsAccountId=self.account_id, **key)
        if existing is None:
            try:
                response = getattr(self.client, create)(**request)
                _LOG.info("quicksight: created %s", what)
                return CREATED, response
            except ClientError as exc:
                if error_code(exc) not in ALREADY_EXISTS:
                    raise QuickSightError(f"quicksight {what}: {create} failed: {_describe_error(exc)}") from exc
            except BotoCoreError as exc:
                raise QuickSightError(f"quicksight {what}: {create} failed: {_describe_error(exc)}") from exc
        response = self._call(what, update, **update_request(request))
        _LOG.info("quicksight: updated %s", what)
        return UPDATED, response

    def _reconcile_permissions(self, what: str, kind: str, key: dict[str, str],
                               desired: Sequence[Mapping[str, Any]]) -> None:
        current = self._call(what, f"describe_{kind}_permissions", AwsAccountId=self.account_id, **key)
        grants, revokes = permission_changes(current.get("Permissions") or [], desired)
        if not grants and not revokes:
            return
        params: dict[str, Any] = {"AwsAccountId": self.account_id, **key}
        if grants:
            params["GrantPermissions"] = grants
        if revokes:
            params["RevokePermissions"] = revokes
        self._call(what, f"update_{kind}_permissions", **params)
        _LOG.info("quicksight: %s permissions: %d granted, %d revoked", what, len(grants), len(revokes))

    # groups ------------------------------------------------------------------------------------

    def ensure_group(self, namespace: str, group: str, description: str = "") -> bool:
        """Create the QuickSight group unless it exists; True when created."""
        what = f"group {namespace}/{group}"
        key = {"AwsAccountId": self.account_id, "Namespace": namespace, "GroupName": group}
        if self._describe(what, "describe_group", **key) is not None:
            return False
        params = dict(key, Description=description) if description else key
        try:
            self.client.create_group(**params)
        except ClientError as exc:
            if error_code(exc) in ALREADY_EXISTS:
                return False
            raise QuickSightError(f"quicksight {what}: create_group failed: {_describe_error(exc)}") from exc
        _LOG.info("quicksight: created %s", what)
        return True

    # data source, data sets, dashboards --------------------------------------------------------

    def upsert_data_source(self, request: Mapping[str, Any]) -> str:
        rid = request["DataSourceId"]
        return self._upsert_with_permissions(f"data source {rid}", "data_source", {"DataSourceId": rid}, request)

    def upsert_data_set(self, request: Mapping[str, Any]) -> str:
        rid = request["DataSetId"]
        return self._upsert_with_permissions(f"data set {request['Name']} ({rid})", "data_set", {"DataSetId": rid},
                                             request)

    def _upsert_with_permissions(self, what: str, kind: str, key: dict[str, str], request: Mapping[str, Any]) -> str:
        """Create or update a `kind` (data_source, data_set); an updated one gets the request's permissions."""
        action, _ = self._create_or_update(what, f"describe_{kind}", f"create_{kind}", f"update_{kind}", key, request)
        if action == UPDATED:
            self._reconcile_permissions(what, kind, key, request.get("Permissions", []))
        return action

    def upsert_dashboard(self, request: Mapping[str, Any]) -> str:
        rid = request["DashboardId"]
        what = f"dashboard {request['Name']!r} ({rid})"
        key = {"DashboardId": rid}
        action, response = self._create_or_update(what, "describe_dashboard", "create_dashboard", "update_dashboard",
                                                  key, request)
        number = version_number(str(response.get("VersionArn", "")))
        self._await_version(what, rid, number)
        if action == UPDATED:
            self._call(what, "update_dashboard_published_version", AwsAccountId=self.account_id, DashboardId=rid,
                       VersionNumber=number)
            self._reconcile_permissions(what, "dashboard", key, request.get("Permissions", []))
        return action

    def _backoff(self, initial_s: float) -> Backoff:
        return Backoff(initial_s, self.poll_max_s, self.poll_factor, self.timeout_s, sleep=self._sleep,
                       clock=self._clock)

    def _await_version(self, what: str, rid: str, number: int) -> None:
        last_status = [""]

        def check() -> bool | None:
            version = self._call(what, "describe_dashboard", AwsAccountId=self.account_id, DashboardId=rid,
                                 VersionNumber=number)["Dashboard"].get("Version", {})
            status = last_status[0] = version.get("Status", "")
            if status in VERSION_OK:
                return True
            if status in VERSION_FAILED:
                errors = scrub("; ".join(f"{e.get('Type')}: {e.get('Message')}" for e in version.get("Errors") or []))
                raise QuickSightError(f"quicksight {what}: version {number} {status}: {errors or 'no reason given'}")
            return None

        def timed_out() -> NoReturn:
            raise QuickSightError(f"quicksight {what}: version {number} still {last_status[0]} after {self.timeout_s:g} s")

        self._backoff(min(self.poll_initial_s, 1.0)).poll(check, timed_out)

    # SPICE ingestions --------------------------------------------------------------------------

    def refresh(self, data_sets: Mapping[str, str], *, raise_on_failure: bool = True) -> list[IngestionResult]:
        """Start a full-refresh ingestion per data set (name → DataSetId), then poll all to the end."""
        started: dict[str, tuple[str, str, float]] = {}
        results: dict[str, IngestionResult] = {}
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        for name, rid in data_sets.items():
            ingestion_id = f"kx-{stamp}-{secrets.token_hex(4)}"
            try:
                self.client.create_ingestion(AwsAccountId=self.account_id, DataSetId=rid, IngestionId=ingestion_id,
                                             IngestionType="FULL_REFRESH")
            except (ClientError, BotoCoreError) as exc:
                results[name] = IngestionResult(name, rid, None, "NOT_STARTED", error=_describe_error(exc))
                _LOG.error("quicksight: ingestion of %s (%s) not started: %s", name, rid, _describe_error(exc))
                continue
            started[name] = (rid, ingestion_id, self._clock())
            _LOG.info("quicksight: ingestion %s of %s (%s) started", ingestion_id, name, rid)

        def poll_all() -> bool | None:
            for name, (rid, ingestion_id, t0) in list(started.items()):
                try:
                    ingestion = self.client.describe_ingestion(AwsAccountId=self.account_id, DataSetId=rid,
                                                               IngestionId=ingestion_id)["Ingestion"]
                except (ClientError, BotoCoreError) as exc:
                    results[name] = IngestionResult(name, rid, ingestion_id, "UNKNOWN", error=_describe_error(exc),
                                                    seconds=self._clock() - t0)
                    del started[name]
                    continue
                status = ingestion.get("IngestionStatus", "")
                if status == INGESTION_DONE or status in INGESTION_FAILED:
                    err = ingestion.get("ErrorInfo") or {}
                    rows = ingestion.get("RowInfo") or {}
                    error = scrub(f"{err.get('Type', 'UNKNOWN')}: {err.get('Message', '')}".rstrip(": ")) if err else None
                    results[name] = IngestionResult(name, rid, ingestion_id, status, rows.get("RowsIngested"),
                                                    rows.get("RowsDropped"), error, self._clock() - t0)
                    log = _LOG.info if status == INGESTION_DONE else _LOG.error
                    log("quicksight: ingestion of %s (%s) %s%s", name, rid, status, f": {error}" if error else "")
                    del started[name]
            return None if started else True

        def cancel_the_rest() -> bool:
            for name, (rid, ingestion_id, t0) in started.items():
                self._cancel(name, rid, ingestion_id)
                results[name] = IngestionResult(name, rid, ingestion_id, "TIMED_OUT",
                                                error=f"not finished after {self.timeout_s:g} s; cancelled",
                                                seconds=self._clock() - t0)
            return True

        if started:
            self._backoff(self.poll_initial_s).poll(poll_all, cancel_the_rest)
        ordered = [results[n] for n in data_sets if n in results]
        if raise_on_failure and any(not r.ok for r in ordered):
            raise IngestionFailedError(ordered)
        return ordered

    def _cancel(self, name: str, rid: str, ingestion_id: str) -> None:
        try:
            self.client.cancel_ingestion(AwsAccountId=self.account_id, DataSetId=rid, IngestionId=ingestion_id)
        except (ClientError, BotoCoreError) as exc:  # best effort: the timeout is the error worth raising
            _LOG.warning("quicksight: cancelling ingestion of %s (%s) failed: %s", name, rid, _describe_error(exc))
