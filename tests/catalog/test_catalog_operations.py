"""The operations behind imports (`services/operations.py`): states, cancel before and while
running, failures, request ids, and restarts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openee.errors import InvalidArgumentError, NotFoundError
from openee.services.operations import (
    CANCELLED,
    CANCELLING,
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    Job,
    OperationRunner,
    OperationStore,
    wait,
)

P = "proj"


@pytest.fixture
def store(tmp_path: Path) -> OperationStore:
    return OperationStore(tmp_path / "operations.sqlite")


@pytest.fixture
def runner(store: OperationStore) -> Iterator[OperationRunner]:
    """One worker, stopped after the test."""
    runner = OperationRunner(store, workers=1)
    yield runner
    runner.stop()


def test_run_to_success(store: OperationStore, runner: OperationRunner) -> None:
    op, created = store.create(P, "INGEST_TABLE", "t", "me", None)
    assert created and op.state == PENDING and not op.done
    runner.submit(op, lambda job: None)
    done = wait(store, P, op.id, 10)
    assert done.state == SUCCEEDED and done.start_time and done.end_time
    resource = done.resource()
    assert resource["done"] and resource["response"]["@type"].endswith("Empty")
    assert resource["metadata"]["type"] == "INGEST_TABLE"
    assert resource["name"] == f"projects/{P}/operations/{op.id}"


def test_cancel_pending_and_running(store: OperationStore, runner: OperationRunner) -> None:
    started, release = threading.Event(), threading.Event()
    wrote: list[str] = []

    def slow(job: Job) -> dict[str, Any] | None:
        started.set()
        release.wait(10)
        job.check()
        wrote.append("a")
        return None

    a, _ = store.create(P, "INGEST_IMAGE", "a", "me", None)
    b, _ = store.create(P, "INGEST_IMAGE", "b", "me", None)
    runner.submit(a, slow)
    runner.submit(b, lambda job: wrote.append("b"))
    assert started.wait(10)
    assert store.require(P, a.id).state == RUNNING
    assert store.cancel(P, b.id).state == CANCELLED  # pending: at once
    assert store.cancel(P, a.id).state == CANCELLING  # running: asked to stop
    release.set()
    assert wait(store, P, a.id, 10).state == CANCELLED
    assert wait(store, P, b.id, 10).state == CANCELLED
    assert wrote == []  # neither job wrote anything
    assert "error" in store.require(P, a.id).resource()
    assert store.cancel(P, a.id).state == CANCELLED  # a finished operation stays as it is


def test_failures(store: OperationStore, runner: OperationRunner) -> None:

    def bad(job: Job) -> None:
        raise InvalidArgumentError("x.tif: cannot read the raster")

    def broken(job: Job) -> None:
        raise RuntimeError("secret internals")

    a, _ = store.create(P, "INGEST_IMAGE", "a", "me", None)
    b, _ = store.create(P, "INGEST_IMAGE", "b", "me", None)
    runner.submit(a, bad)
    runner.submit(b, broken)
    failed = wait(store, P, a.id, 10).resource()
    assert failed["metadata"]["state"] == FAILED
    assert failed["error"] == {"code": 3, "message": "x.tif: cannot read the raster"}
    internal = wait(store, P, b.id, 10).resource()
    assert "secret" not in internal["error"]["message"]


def test_request_ids_list_and_projects(store: OperationStore) -> None:
    a, created = store.create(P, "INGEST_TABLE", "a", "me", "r1")
    again, created_again = store.create(P, "INGEST_TABLE", "a", "me", "r1")
    assert created and not created_again and again.id == a.id
    assert store.find_request(P, "r1") == a
    other, _ = store.create("other", "INGEST_TABLE", "o", "me", "r1")  # ids are per project
    assert other.id != a.id
    b, _ = store.create(P, "INGEST_TABLE", "b", "me", None)
    listed = [op.id for op in store.list(P, 0, 10)]
    assert listed == [b.id, a.id]  # newest first
    assert [op.id for op in store.list(P, 1, 10)] == [a.id]
    assert store.get(P, other.id) is None
    with pytest.raises(NotFoundError):
        store.require(P, "NOPE")
    store.delete(P, b.id)
    assert store.get(P, b.id) is None


def test_restart_marks_unfinished_failed(tmp_path: Path) -> None:
    first = OperationStore(tmp_path / "operations.sqlite")
    a, _ = first.create(P, "INGEST_IMAGE", "a", "me", None)
    b, _ = first.create(P, "INGEST_IMAGE", "b", "me", None)
    assert first.start(a.id)
    first.close()
    second = OperationStore(tmp_path / "operations.sqlite")
    assert second.abandon(second.take_over(everything=True)) == 2
    for op in (a, b):
        got = second.require(P, op.id)
        assert got.state == FAILED and got.error and "Run it again" in got.error["message"]


def test_a_stop_leaves_running_and_queued_work_to_the_next_holder(store: OperationStore) -> None:
    """The server's shutdown: the running work stops at its next check, unwritten, and its
    operation stays RUNNING (whoever takes it over resumes it); the queued one stays PENDING,
    never run; the worker thread ends."""
    before = set(threading.enumerate())
    runner = OperationRunner(store, workers=1)
    (worker,) = (t for t in threading.enumerate() if t not in before)
    started, release = threading.Event(), threading.Event()
    wrote: list[str] = []

    def slow(job: Job) -> None:
        started.set()
        release.wait(10)
        job.check()
        wrote.append("a")

    a, _ = store.create(P, "INGEST_IMAGE", "a", "me", None)
    b, _ = store.create(P, "INGEST_IMAGE", "b", "me", None)
    runner.submit(a, slow)
    runner.submit(b, lambda job: wrote.append("b"))
    assert started.wait(10)
    runner.stop(wait_s=0)  # asks; the work is still waiting for `release`
    release.set()
    runner.stop()  # again: waits for the worker
    assert not worker.is_alive()
    assert wrote == []
    assert store.require(P, a.id).state == RUNNING
    assert store.require(P, b.id).state == PENDING
