"""One writer per environment: a lease in the lake's state area, held for a whole sync run.

The sensor, the schedule, the UI and the CLI can all start a sync of one environment; two at once
would sweep each other's temp files and race on the state (last writer wins). The lease lives where
the data does (`<root>/<env>/_kx_state/_lease.json`, local disk or S3), so it binds every writer
whatever started it, on whichever host. Its record names the holder: run id, host, pid, since when,
last renewal and expiry.

* Acquire = an exclusive create (lease_store: `link(2)` locally, `If-None-Match: *` on S3).
* Re-entrant per holder id: the steps of one Dagster run (the run id is the holder id) join the
  record as participants, each with its own expiry; the lease goes when the last one leaves.
* A thread renews it every ttl/3; a holder that stops renewing (killed, hung) is taken over once the
  record expired, by a conditional replace against the version read, so of two takers one wins.
* A second sync polls up to `wait`, then raises LeaseHeldError naming the holder.
The clock and the sleep are injected: tests drive time, nothing here reads it directly.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType

from tenacity import RetryCallState, Retrying, retry_if_exception_type

from kx_lake.lib.lake.lease_store import LeaseStore, Record, lease_store
from kx_lake.lib.storage import LakeStorage
from kx_lake.lib.storage.fsio import to_uri
from kx_lake.lib.storage.paths import LEASE_FILE, state_relpath

Clock = Callable[[], datetime]
_LOG = logging.getLogger(__name__)
_CONFLICT_TRIES = 20


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class LeaseHolder:
    run_id: str
    host: str
    pid: int
    started_at: datetime
    renewed_at: datetime
    expires_at: datetime

    @classmethod
    def from_record(cls, r: Record) -> LeaseHolder:
        return cls(r["run_id"], r["host"], int(r["pid"]), _at(r["started_at"]), _at(r["renewed_at"]),
                   _at(r["expires_at"]))

    def describe(self) -> str:
        return f"run {self.run_id} (host {self.host}, pid {self.pid}) since {iso(self.started_at)}"


class LeaseHeldError(RuntimeError):
    """Another sync holds the environment's lease and did not let go within the wait."""

    def __init__(self, env: str, holder: LeaseHolder, waited: timedelta, where: str):
        self.env, self.holder = env, holder
        super().__init__(
            f"{env}: the lake is being synced by {holder.describe()}, lease valid until "
            f"{iso(holder.expires_at)} ({where}); gave up after waiting {waited.total_seconds():.0f}s"
        )


class LeaseLostError(RuntimeError):
    """The lease expired under its holder and another run took it (the holder stopped renewing)."""


class _Busy(Exception):
    def __init__(self, holder: LeaseHolder):
        self.holder = holder


class _Conflict(Exception):
    """A conditional write lost a race: read again and retry at once."""


class EnvironmentLease:
    def __init__(
        self, storage: LakeStorage, env: str, holder_id: str, *,
        ttl: timedelta = timedelta(minutes=2), wait: timedelta = timedelta(minutes=10),
        poll: timedelta = timedelta(seconds=2), clock: Clock = utc_now, sleep: Callable[[float], None] = time.sleep,
        host: str | None = None, pid: int | None = None, log: logging.Logger | None = None,
        store: LeaseStore | None = None,
    ):
        self.env, self.holder_id, self.ttl, self.wait, self.poll = env, holder_id, ttl, wait, poll
        self.clock, self.sleep, self.log = clock, sleep, log or _LOG
        self.host, self.pid = host or socket.gethostname(), pid if pid is not None else os.getpid()
        path = f"{storage.root_path}/{state_relpath(env, LEASE_FILE)}"
        self.where = to_uri(storage.fs, path)
        self.store = store or lease_store(storage.fs, path)
        self.token = uuid.uuid4().hex  # this participant
        self.held = False
        self.lost: LeaseLostError | None = None
        self.taken_over: LeaseHolder | None = None  # the expired holder this acquire replaced, if any
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    # -- acquire ---------------------------------------------------------------------------------
    def acquire(self) -> None:
        """Hold the lease (or join it, for the same holder id); wait up to `wait`, then LeaseHeldError."""
        started = self.clock()
        told: list[str] = []

        def waited_enough(state: RetryCallState) -> bool:  # a lost race is retried even with no wait left
            if self.clock() - started < self.wait:
                return False
            return isinstance(state.outcome.exception(), _Busy) or state.attempt_number >= _CONFLICT_TRIES

        def pause(state: RetryCallState) -> float:
            if isinstance(state.outcome.exception(), _Conflict):
                return random.uniform(0, 0.05)
            return self.poll.total_seconds()

        def tell(state: RetryCallState) -> None:
            exc = state.outcome.exception()
            if isinstance(exc, _Busy) and exc.holder.run_id not in told:
                told.append(exc.holder.run_id)
                self.log.info(f"{self.env}: waiting up to {self.wait.total_seconds():.0f}s for the lake's lease, "
                              f"held by {exc.holder.describe()}")

        retrying = Retrying(retry=retry_if_exception_type((_Busy, _Conflict)), stop=waited_enough, wait=pause,
                            sleep=self.sleep, before_sleep=tell, reraise=True)
        try:
            retrying(self._attempt)
        except _Busy as busy:
            raise LeaseHeldError(self.env, busy.holder, self.clock() - started, self.where) from None
        except _Conflict:
            raise LeaseHeldError(self.env, self._holder_or_unknown(), self.clock() - started, self.where) from None
        self.held, self.lost = True, None

    def _attempt(self) -> None:
        now = self.clock()
        current = self.store.read()
        if current is None:
            if self.store.create(self._fresh(now)) is None:
                raise _Conflict
            return
        record, version = current
        live = _at(record["expires_at"]) > now
        if live and record["run_id"] != self.holder_id:
            raise _Busy(LeaseHolder.from_record(record))
        if not live:
            self.log.warning(f"{self.env}: taking over the expired lease of "
                             f"{LeaseHolder.from_record(record).describe()} (expired {record['expires_at']})")
        if self.store.replace(self._joined(record, now) if live else self._fresh(now), version) is None:
            raise _Conflict
        if not live and record["run_id"] != self.holder_id:
            self.taken_over = LeaseHolder.from_record(record)

    def _holder_or_unknown(self) -> LeaseHolder:
        current = self.store.read()
        if current is not None:
            return LeaseHolder.from_record(current[0])
        now = self.clock()
        return LeaseHolder("(unknown: the lease kept changing)", "?", -1, now, now, now)

    # -- records ---------------------------------------------------------------------------------
    def _me(self, now: datetime) -> Record:
        return {"host": self.host, "pid": self.pid, "expires_at": iso(now + self.ttl)}

    def _fresh(self, now: datetime) -> Record:
        return {"run_id": self.holder_id, "host": self.host, "pid": self.pid, "started_at": iso(now),
                "renewed_at": iso(now), "expires_at": iso(now + self.ttl), "participants": {self.token: self._me(now)}}

    def _joined(self, record: Record, now: datetime) -> Record:
        parts = _live_participants(record, now)
        parts[self.token] = self._me(now)
        return _with_participants(record, parts, renewed_at=now)

    # -- renew and release -----------------------------------------------------------------------
    def renew(self) -> bool:
        """Extend the lease; False (and `lost` set) once another holder has it."""
        for _ in range(_CONFLICT_TRIES):
            now = self.clock()
            current = self.store.read()
            if current is None or current[0]["run_id"] != self.holder_id:
                taker = "nobody" if current is None else LeaseHolder.from_record(current[0]).describe()
                self.lost = LeaseLostError(
                    f"{self.env}: run {self.holder_id} lost the lake's lease ({self.where}) to {taker}: "
                    f"it was not renewed within {self.ttl.total_seconds():.0f}s"
                )
                _LOG.error(str(self.lost))  # the renewal thread's logger: a step's log is not thread-safe
                return False
            record, version = current
            if self.store.replace(self._joined(record, now), version) is not None:
                return True
        return True  # only our own run's participants kept winning: the record is alive

    def release(self) -> None:
        self._stop_renewing()
        if not self.held:
            return
        self.held = False
        for _ in range(_CONFLICT_TRIES):
            now = self.clock()
            current = self.store.read()
            if current is None or current[0]["run_id"] != self.holder_id:
                return
            record, version = current
            others = {k: v for k, v in _live_participants(record, now).items() if k != self.token}
            if others:
                done = self.store.replace(_with_participants(record, others), version) is not None
            else:
                done = self.store.delete(version)
            if done:
                return

    def check(self) -> None:
        if self.lost is not None:
            raise self.lost

    # -- context manager with a renewal thread ---------------------------------------------------
    def __enter__(self) -> EnvironmentLease:
        self.acquire()
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_loop, name=f"kx-lease-{self.env}", daemon=True)
        self._renewer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self.release()
        except Exception as error:
            if kind is None:
                raise
            _LOG.warning(f"{self.env}: releasing the lake's lease failed ({error}); it expires by itself")
        if kind is None:
            self.check()

    def _renew_loop(self) -> None:
        while not self._stop.wait((self.ttl / 3).total_seconds()):
            try:
                if not self.renew():
                    return
            except Exception as exc:  # noqa: BLE001 - a transient storage error: the next tick retries
                _LOG.warning(f"{self.env}: renewing the lake's lease failed, retrying: {type(exc).__name__}: {exc}")

    def _stop_renewing(self) -> None:
        self._stop.set()
        if self._renewer is not None and self._renewer is not threading.current_thread():
            self._renewer.join()
        self._renewer = None


def _live_participants(record: Record, now: datetime) -> dict[str, Record]:
    return {k: v for k, v in record.get("participants", {}).items() if _at(v["expires_at"]) > now}


def _with_participants(record: Record, parts: dict[str, Record], renewed_at: datetime | None = None) -> Record:
    out = {k: v for k, v in record.items() if k != "nonce"}
    out["participants"] = parts
    if renewed_at is not None:
        out["renewed_at"] = iso(renewed_at)
    out["expires_at"] = max((p["expires_at"] for p in parts.values()), key=_at)
    return out
