"""Operation leases (ADR 0046), on SQLite and PostgreSQL: two stores on one database stand for
two replicas; time passes for the leases by moving them back (`age`), since they are times of
the database's clock. A live lease is never taken; an expired one is taken
by one process only; the process that lost its lease can neither write nor end the operation;
taken operations end FAILED (CANCELLED when a cancel was asked), never RUNNING forever."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from openee.services.operations import (
    CANCELLED,
    FAILED,
    PENDING,
    RUNNING,
    STOPPED_MESSAGE,
    SUCCEEDED,
    Job,
    LeaseKeeper,
    LeaseLost,
    Operation,
    OperationRunner,
    OperationStore,
    wait,
)
from openee.statedb import StateDB

P = "proj"
LEASE_S = 3600.0  # long: a live lease must not run out in real time during a test


Age = Callable[[float], None]


@pytest.fixture
def replicas(state_target: Path | StateDB) -> tuple[OperationStore, OperationStore]:
    """Two stores on one database, as two replicas (A, B) would open it."""
    a = OperationStore(state_target, lease_s=LEASE_S, owner="a")
    b = OperationStore(state_target, lease_s=LEASE_S, owner="b")
    return a, b


@pytest.fixture
def age(replicas: tuple[OperationStore, OperationStore]) -> Age:
    """Lets `seconds` pass for every lease: they end that much earlier on the database's clock."""

    def move(seconds: float) -> None:
        with replicas[0].db.tx() as db:
            db.execute("UPDATE operations SET lease_until = lease_until - ?", (seconds,))

    return move


def test_a_live_lease_is_not_taken_and_a_heartbeat_keeps_it(replicas, age) -> None:
    a, b = replicas
    op, _ = a.create(P, "INGEST_IMAGE", "x", "me", None)
    assert a.start(op.id)
    age(LEASE_S * 0.6)
    assert b.take_over() == ()
    assert a.heartbeat() == 1
    age(LEASE_S * 0.6)  # past the first lease, within the renewed one
    assert b.take_over() == ()
    assert b.get(P, op.id).state == RUNNING  # B sees A's operation


@pytest.mark.parametrize("skew_s", [2 * LEASE_S, -2 * LEASE_S])
def test_a_replica_with_a_skewed_clock_keeps_to_the_database_clock(
    replicas, age, state_target, monkeypatch: pytest.MonkeyPatch, skew_s: float
) -> None:
    """B's clock runs two leases ahead (or behind): it takes neither A's live lease, nor lets
    a lease it took run out early for A; an expired lease it does take."""
    a, b = replicas
    op, _ = a.create(P, "INGEST_IMAGE", "x", "me", None)
    assert a.start(op.id)
    real = time.time
    with monkeypatch.context() as skewed:  # B's process: every wall-clock read is off
        skewed.setattr(time, "time", lambda: real() + skew_s)
        assert b.take_over() == ()
        assert b.require(P, op.id).state == RUNNING
    age(LEASE_S + 1)
    with monkeypatch.context() as skewed:
        skewed.setattr(time, "time", lambda: real() + skew_s)
        assert [t.id for t in b.take_over()] == [op.id]
        assert b.requeue(op.id) and b.start(op.id)
    with b.db.tx(write=False) as db:  # B's lease ends one lease from now on the database's clock
        (left,) = db.execute(
            f"SELECT lease_until - {db.now} FROM operations WHERE id = ?", (op.id,)
        ).fetchone()
    assert LEASE_S - 60 < left <= LEASE_S
    assert a.take_over() == ()  # B's fresh lease is live on the database's clock
    with pytest.raises(LeaseLost):
        Job(a, op.id).check()
    Job(b, op.id).check()


def test_an_expired_lease_is_taken_by_one_process_only(replicas, age, state_target) -> None:
    a, b = replicas
    c = OperationStore(state_target, lease_s=LEASE_S, owner="c")
    running, _ = a.create(P, "INGEST_IMAGE", "running", "me", None)
    queued, _ = a.create(P, "INGEST_TABLE", "queued", "me", None)
    assert a.start(running.id)
    age(LEASE_S + 1)
    taken = b.take_over()
    assert sorted(op.id for op in taken) == sorted([running.id, queued.id])
    assert c.take_over() == ()  # B holds fresh leases now
    assert b.abandon(taken) == 2
    for op_id in (running.id, queued.id):
        ended = c.require(P, op_id)
        assert ended.state == FAILED and ended.error == {"code": 10, "message": STOPPED_MESSAGE}


def test_the_process_that_lost_its_lease_neither_writes_nor_ends_it(replicas, age) -> None:
    a, b = replicas
    op, _ = a.create(P, "INGEST_IMAGE", "x", "me", None)
    assert a.start(op.id)
    Job(a, op.id).check()  # A holds it: no error
    age(LEASE_S + 1)
    (taken,) = b.take_over()
    with pytest.raises(LeaseLost):
        Job(a, op.id).check()
    assert not a.finish(op.id, SUCCEEDED)
    assert b.abandon([taken]) == 1
    assert a.require(P, op.id).state == FAILED


def test_a_cancel_asked_of_a_dead_process_ends_cancelled(replicas, age) -> None:
    a, b = replicas
    op, _ = a.create(P, "EXPORT_IMAGE", "x", "me", None)
    assert a.start(op.id)
    b.cancel(P, op.id)  # through B: A would see CANCELLING at its next check, but it died
    age(LEASE_S + 1)
    assert b.abandon(b.take_over()) == 1
    assert a.require(P, op.id).state == CANCELLED


def test_a_taken_export_is_requeued_by_its_new_holder_only(replicas, age) -> None:
    a, b = replicas
    op, _ = a.create(P, "EXPORT_IMAGE", "x", "me", None)
    assert a.start(op.id)
    age(LEASE_S + 1)
    assert [t.id for t in b.take_over()] == [op.id]
    assert not a.requeue(op.id)
    assert b.requeue(op.id)
    again = b.require(P, op.id)
    assert again.state == PENDING and again.extra and again.extra["attempt"] == 2
    assert b.start(op.id) and not a.start(op.id)


def test_the_keeper_takes_over_what_a_dead_process_held(state_target: Path | StateDB) -> None:
    """Real time, a lease of 0.3 s: A (no keeper: it died) held a running operation; B's keeper
    takes it over once the lease ran out and hands it on."""
    a = OperationStore(state_target, lease_s=0.3, owner="a")
    b = OperationStore(state_target, lease_s=0.3, owner="b")
    op, _ = a.create(P, "INGEST_IMAGE", "x", "me", None)
    assert a.start(op.id)
    handed: list[str] = []
    got = threading.Event()

    def on_taken(ops: tuple[Operation, ...]) -> None:
        handed.extend(o.id for o in ops)
        b.abandon(ops)
        got.set()

    keeper = LeaseKeeper(b, on_taken)
    try:
        assert got.wait(30)
    finally:
        keeper.stop()
    assert handed == [op.id]
    assert a.require(P, op.id).state == FAILED
    assert b.heartbeat() == 0  # nothing unfinished left to hold


def test_work_of_a_lost_lease_is_not_reported(replicas, age) -> None:
    """A's runner notices the lost lease at the work's next check, and leaves the operation to
    its new holder."""
    a, b = replicas
    started, taken_over = threading.Event(), threading.Event()

    def work(job: Job) -> None:
        started.set()
        taken_over.wait(10)
        job.check()

    runner = OperationRunner(a, workers=1)
    try:
        op, _ = a.create(P, "INGEST_IMAGE", "x", "me", None)
        runner.submit(op, work)
        assert started.wait(10)
        age(LEASE_S + 1)
        (taken,) = b.take_over()
        taken_over.set()
        # The runner has one worker: once the next operation ran, A is done with the first.
        after, _ = a.create(P, "INGEST_IMAGE", "after", "me", None)
        runner.submit(after, lambda job: None)
        assert wait(a, P, after.id, 10).state == SUCCEEDED
    finally:
        runner.stop()
    assert a.require(P, op.id).state == RUNNING  # A ended nothing
    b.abandon([taken])
    assert a.require(P, op.id).state == FAILED
