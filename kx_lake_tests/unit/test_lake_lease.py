"""The environment lease on local disk and on a real SeaweedFS S3 server, with a driven clock."""

from __future__ import annotations

import json
import multiprocessing
import threading
from datetime import UTC, datetime, timedelta

import pytest

from kx_lake.lib.lake.lease import EnvironmentLease, LeaseHeldError
from kx_lake.lib.storage import LakeStorage

ENV = "env1"
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
TTL = timedelta(seconds=60)


class Clock:
    """Time only moves when a test (or the fake sleep of a waiting lease) moves it."""

    def __init__(self, now: datetime = T0):
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def storage(request: pytest.FixtureRequest, tmp_path) -> LakeStorage:
    if request.param == "local":
        return LakeStorage.from_root(str(tmp_path / "lake"))
    seaweed = request.getfixturevalue("seaweed_s3")
    return LakeStorage.from_root(seaweed.unique_prefix(), seaweed.storage_options)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def lease(storage: LakeStorage, clock: Clock, run_id: str, **kw) -> EnvironmentLease:
    kw.setdefault("wait", timedelta(0))
    return EnvironmentLease(storage, ENV, run_id, ttl=TTL, clock=clock, sleep=clock.sleep,
                            host=f"host-{run_id}", pid=1000 + len(run_id), **kw)


def record(storage: LakeStorage) -> dict | None:
    return storage.read_json(ENV, "_lease.json")


def test_first_acquire_creates_the_record_and_a_second_run_is_refused_with_the_holder(storage, clock):
    a = lease(storage, clock, "run-a")
    a.acquire()
    rec = record(storage)
    assert {k: rec[k] for k in ("run_id", "host", "pid", "started_at", "renewed_at", "expires_at")} == {
        "run_id": "run-a", "host": "host-run-a", "pid": 1005, "started_at": "2026-01-05T08:00:00.000+00:00",
        "renewed_at": "2026-01-05T08:00:00.000+00:00", "expires_at": "2026-01-05T08:01:00.000+00:00",
    }
    assert storage.state_path(ENV, "_lease.json").endswith("/env1/_kx_state/_lease.json")
    with pytest.raises(LeaseHeldError) as info:
        lease(storage, clock, "run-b").acquire()
    assert str(info.value).startswith(
        "env1: the lake is being synced by run run-a (host host-run-a, pid 1005) since 2026-01-05T08:00:00.000+00:00"
    )
    assert info.value.holder.run_id == "run-a"
    assert record(storage)["run_id"] == "run-a"  # the refused run wrote nothing
    a.release()
    assert record(storage) is None


def test_steps_of_one_run_share_the_lease_until_the_last_one_leaves(storage, clock):
    step1, step2 = lease(storage, clock, "run-a"), lease(storage, clock, "run-a")
    step1.acquire()
    clock.now += timedelta(seconds=10)
    step2.acquire()  # re-entrant: same holder id
    assert set(record(storage)["participants"]) == {step1.token, step2.token}
    step1.release()
    assert list(record(storage)["participants"]) == [step2.token]
    with pytest.raises(LeaseHeldError):
        lease(storage, clock, "run-b").acquire()
    step2.release()
    assert record(storage) is None
    lease(storage, clock, "run-b").acquire()


def test_a_waiting_run_polls_then_fails_naming_the_holder(storage, clock):
    lease(storage, clock, "run-a").acquire()
    renewer = lease(storage, clock, "run-a")
    waiting = lease(storage, clock, "run-b", wait=timedelta(seconds=30), poll=timedelta(seconds=5))
    # the holder keeps renewing while the other waits, so the wait, not the expiry, decides
    waiting.sleep = lambda s: (clock.sleep(s), renewer.renew())
    renewer.acquire()
    with pytest.raises(LeaseHeldError, match=r"by run run-a \(host host-run-a, pid 1005\).*after waiting 30s"):
        waiting.acquire()
    assert clock.slept == [5.0] * 6
    assert record(storage)["run_id"] == "run-a"


def test_a_waiting_run_gets_the_lease_once_the_holder_releases(storage, clock):
    holder = lease(storage, clock, "run-a")
    holder.acquire()
    waiting = lease(storage, clock, "run-b", wait=timedelta(minutes=5), poll=timedelta(seconds=5))
    waiting.sleep = lambda s: (clock.sleep(s), len(clock.slept) == 2 and holder.release())
    waiting.acquire()
    assert len(clock.slept) == 2
    rec = record(storage)
    assert (rec["run_id"], rec["started_at"]) == ("run-b", "2026-01-05T08:00:10.000+00:00")


def test_renewal_keeps_the_lease_and_expiry_lets_another_run_take_it_over(storage, clock):
    a = lease(storage, clock, "run-a")
    a.acquire()
    clock.now += timedelta(seconds=50)
    assert a.renew()
    clock.now += timedelta(seconds=50)  # 100 s after the start, 50 s after the renewal
    with pytest.raises(LeaseHeldError):
        lease(storage, clock, "run-b").acquire()
    clock.now += timedelta(seconds=11)  # a stopped renewing: expired at 08:01:50
    b = lease(storage, clock, "run-b")
    b.acquire()
    assert record(storage)["run_id"] == "run-b"
    assert b.taken_over is not None and b.taken_over.run_id == "run-a"  # so its run can be closed as dead
    assert not a.renew() and "run run-a lost the lake's lease" in str(a.lost)
    assert "run run-b (host host-run-b" in str(a.lost)
    a.release()  # never releases another run's lease
    assert record(storage)["run_id"] == "run-b"


def test_of_two_concurrent_takers_of_an_expired_lease_exactly_one_wins(storage, clock):
    lease(storage, clock, "dead").acquire()
    clock.now += TTL + timedelta(seconds=1)
    takers = [lease(storage, clock, f"taker-{i}") for i in range(6)]
    start, outcome = threading.Barrier(len(takers)), {}

    def take(t: EnvironmentLease) -> None:
        start.wait()
        try:
            t.acquire()
            outcome[t.holder_id] = "won"
        except LeaseHeldError as exc:
            outcome[t.holder_id] = exc.holder.run_id

    threads = [threading.Thread(target=take, args=(t,)) for t in takers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [run for run, result in outcome.items() if result == "won"]
    assert len(winners) == 1, outcome
    assert record(storage)["run_id"] == winners[0]
    assert all(result == winners[0] for run, result in outcome.items() if run != winners[0])


def test_steps_of_one_run_joining_at_the_same_moment_all_hold_it_even_with_no_wait(storage, clock):
    lease(storage, clock, "run-a").acquire()
    steps = [lease(storage, clock, "run-a") for _ in range(5)]
    start, errors = threading.Barrier(len(steps)), []

    def join(step: EnvironmentLease) -> None:
        start.wait()
        try:
            step.acquire()  # their conditional writes collide; each loser re-reads and joins
        except LeaseHeldError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=join, args=(s,)) for s in steps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {s.token for s in steps} <= set(record(storage)["participants"])


def _create_in_process(root: str, run_id: str, start, results) -> None:  # noqa: ANN001 - multiprocessing
    clock = Clock()
    start.wait()
    try:
        EnvironmentLease(LakeStorage.from_root(root), ENV, run_id, ttl=TTL, wait=timedelta(0),
                         clock=clock, sleep=clock.sleep).acquire()
        results.put((run_id, "won"))
    except LeaseHeldError as exc:
        results.put((run_id, exc.holder.run_id))


def test_of_processes_racing_to_create_the_lease_exactly_one_wins(tmp_path):
    ctx = multiprocessing.get_context("fork")
    root, start, results = str(tmp_path / "lake"), ctx.Barrier(5), ctx.Queue()
    procs = [ctx.Process(target=_create_in_process, args=(root, f"proc-{i}", start, results)) for i in range(5)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    outcome = dict(results.get(timeout=5) for _ in procs)
    winners = [run for run, result in outcome.items() if result == "won"]
    assert len(winners) == 1, outcome
    assert all(result == winners[0] for run, result in outcome.items() if run != winners[0])
    with open(tmp_path / "lake" / ENV / "_kx_state" / "_lease.json") as f:
        assert json.load(f)["run_id"] == winners[0]


class _Observed(EnvironmentLease):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.renewed = threading.Event()

    def renew(self) -> bool:
        ok = super().renew()
        self.renewed.set()
        return ok


def test_the_context_manager_renews_in_the_background_and_releases_on_exit(storage, clock):
    held = _Observed(storage, ENV, "run-a", ttl=timedelta(seconds=0.3), wait=timedelta(0), clock=clock)
    with held:
        clock.now += timedelta(seconds=0.2)
        held.renewed.clear()  # a renewal from now on sees the moved clock
        assert held.renewed.wait(10)
        assert record(storage)["renewed_at"] == "2026-01-05T08:00:00.200+00:00"
    assert record(storage) is None and not held.held


def test_a_file_that_is_not_a_lease_record_is_refused_naming_it(storage, clock):
    storage.fs.makedirs(f"{storage.root_path}/env1/_kx_state", exist_ok=True)
    storage.fs.pipe_file(f"{storage.root_path}/env1/_kx_state/_lease.json", b'{"run_id": "x"}')
    with pytest.raises(ValueError, match=r"env1/_kx_state/_lease.json: lease record lacks \['host'"):
        lease(storage, clock, "run-a").acquire()
    storage.fs.pipe_file(f"{storage.root_path}/env1/_kx_state/_lease.json", b"{half")
    with pytest.raises(ValueError, match=r"_lease.json: not a lease record .*remove it if no sync is running"):
        lease(storage, clock, "run-a").acquire()


def test_a_filesystem_without_conditional_writes_is_refused_by_name() -> None:
    import fsspec

    from kx_lake.lib.lake.lease_store import LeaseStorageUnsupported, lease_store

    with pytest.raises(LeaseStorageUnsupported, match="'memory'.*local disk or S3"):
        lease_store(fsspec.filesystem("memory"), "/lake/env1/_kx_state/_lease.json")
