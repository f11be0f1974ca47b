"""Every request has a time limit: past it the answer is 504 DEADLINE_EXCEEDED with Earth Engine's
wording, the work stops, and the server keeps serving."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from affine import Affine
from fastapi.testclient import TestClient

from openee.api.app import create_app
from openee.engine import deadline
from openee.engine.chunks import allocate_outputs, fill_rows
from openee.raster.grid import PixelGrid
from openee.settings import DEFAULT_PROJECT, Limits, Settings

URL = f"/v1/projects/{DEFAULT_PROJECT}/value:compute"


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}


def _mapped_sequence(end: int) -> dict[str, Any]:
    """`ee.List.sequence(0, end).map(lambda x: ee.Number(x).add(1))` as the client sends it."""
    sequence = _call("List.sequence", start={"constantValue": 0}, end={"constantValue": end})
    add_one = {"functionDefinitionValue": {"argumentNames": ["x"], "body": "1"}}
    return {
        "result": "0",
        "values": {
            "0": _call("List.map", list=sequence, baseAlgorithm=add_one),
            "1": _call("Number.add", left={"argumentReference": "x"}, right={"constantValue": 1}),
        },
    }


@pytest.fixture(scope="module")
def short_deadline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("deadline"),
        auth_enabled=False,
        limits=Limits(deadline_s=1.0),
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_a_request_past_its_deadline_is_504_and_stops(short_deadline: TestClient) -> None:
    started = time.monotonic()
    # Millions of closure calls: minutes of work without the deadline.
    response = short_deadline.post(URL, json={"expression": _mapped_sequence(5_000_000)})
    elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert response.json()["error"] == {
        "code": 504,
        "message": "Computation timed out.",
        "status": "DEADLINE_EXCEEDED",
    }
    assert elapsed < 30  # it stopped at the deadline rather than running to the end


def test_the_server_keeps_serving_after_a_timeout(short_deadline: TestClient) -> None:
    short_deadline.post(URL, json={"expression": _mapped_sequence(5_000_000)})
    response = short_deadline.post(URL, json={"expression": _mapped_sequence(3)})
    assert response.status_code == 200
    assert response.json() == {"result": [1, 2, 3, 4]}


def test_chunks_wait_no_longer_than_the_deadline_and_are_cancelled() -> None:
    never_done: list[Future[Any]] = []

    class StuckExecutor:  # a chunk that never completes (a hung worker)
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            never_done.append(Future())
            return never_done[-1]

    grid = PixelGrid("EPSG:4326", Affine(0.1, 0, 0, 0, -0.1, 0), 4, 4)
    outputs = allocate_outputs([], grid)
    with deadline.within(0.2), pytest.raises(deadline.ComputationTimedOut):
        list(fill_rows([], grid, StuckExecutor(), 2, outputs))  # type: ignore[arg-type]
    assert never_done and all(f.cancelled() for f in never_done)
