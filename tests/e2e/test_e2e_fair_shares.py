"""A noisy project cannot stall a quiet one: compute requests past a project's fair share wait
without holding a worker thread (or get 429 with Retry-After), and the quiet project's request
starts as soon as a slot frees."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from auth_server import launch

pytestmark = pytest.mark.e2e

NOISY_REQUESTS = 48  # more than the server's worker threads (40), as in the finding


def _mapped_sequence(end: int) -> dict[str, Any]:
    """`ee.List.sequence(0, end).map(lambda x: ee.Number(x).add(1)).size()`."""

    def call(name: str, **arguments: Any) -> dict[str, Any]:
        return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}

    sequence = call("List.sequence", start={"constantValue": 0}, end={"constantValue": end})
    add_one = {"functionDefinitionValue": {"argumentNames": ["x"], "body": "2"}}
    return {
        "result": "0",
        "values": {
            "0": call("List.size", list={"valueReference": "1"}),
            "1": call("List.map", list=sequence, baseAlgorithm=add_one),
            "2": call("Number.add", left={"argumentReference": "x"}, right={"constantValue": 1}),
        },
    }


def test_a_quiet_project_is_served_while_a_noisy_one_floods(tmp_path: Path) -> None:
    env = {"OPENEE_COMPUTE_SLOTS": "2", "OPENEE_ADMISSION_WAIT": "5"}
    with launch(tmp_path, "--no-auth", env=env) as server:

        def compute(project: str, end: int) -> tuple[float, requests.Response]:
            url = f"{server.base_url}/v1/projects/{project}/value:compute"
            response = requests.post(url, json={"expression": _mapped_sequence(end)}, timeout=300)
            return time.monotonic(), response

        with ThreadPoolExecutor(NOISY_REQUESTS) as pool:
            # Seconds each (2.4 s here): two slots cannot answer half the flood before the
            # quiet request comes, even on an engine many times faster. (At 20,000, 0.2 s each,
            # six times faster would have done it.) The rest wait 5 s and get 429.
            noisy = [pool.submit(compute, "noisy", 200_000) for _ in range(NOISY_REQUESTS)]
            time.sleep(0.5)  # the flood is in
            quiet_done, quiet = compute("quiet", 3)
            answers = [f.result() for f in noisy]

    assert quiet.status_code == 200, quiet.text
    assert quiet.json() == {"result": 4}
    answered_after_quiet = sum(done > quiet_done for done, _ in answers)
    assert answered_after_quiet >= NOISY_REQUESTS // 2  # the quiet one did not queue behind
    statuses = {r.status_code for _, r in answers}
    assert statuses <= {200, 429}
    for _, response in answers:
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "2"
            assert response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
