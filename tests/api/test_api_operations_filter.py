"""`operations.list` with a `filter` (Google's list filter syntax, AIP-160, the subset of
docs/decisions/0044): the matches are computed here from the unfiltered list with plain Python,
and anything outside the subset is a 400 INVALID_ARGUMENT, never ignored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openee.api.app import create_app
from openee.services.operations import FAILED, RUNNING, SUCCEEDED
from openee.settings import DEFAULT_PROJECT, Settings

URL = f"/v1/projects/{DEFAULT_PROJECT}/operations"
# (type, description, final state or None for PENDING / RUNNING)
MADE = [
    ("EXPORT_IMAGE", "median_a", SUCCEEDED),
    ("EXPORT_IMAGE", "median_b", FAILED),
    ("EXPORT_FEATURES", "table", SUCCEEDED),
    ("EXPORT_IMAGE", "median_c", RUNNING),
    ("INGEST_IMAGE", 'Ingest image: "x"', None),
    ("EXPORT_TILES", "tiles_median", RUNNING),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("filter-data"), auth_enabled=False)
    app = create_app(settings)
    store = app.state.openee.operations
    for kind, description, state in MADE:
        op, _ = store.create(DEFAULT_PROJECT, kind, description, "me", None)
        if state is not None:
            store.start(op.id)
        if state in (SUCCEEDED, FAILED):
            store.finish(op.id, state)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _listed(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    r = client.get(URL, params=params)
    assert r.status_code == 200, r.text
    return list(r.json().get("operations", []))


def _names(ops: list[dict[str, Any]]) -> list[str]:
    return [op["name"] for op in ops]


Meta = dict[str, Any]
CASES: list[tuple[str, Callable[[Meta, bool], bool]]] = [
    ('metadata.state = "RUNNING"', lambda m, d: m["state"] == "RUNNING"),
    ("state=SUCCEEDED OR state=FAILED", lambda m, d: m["state"] in ("SUCCEEDED", "FAILED")),
    ("type = EXPORT_IMAGE AND state != SUCCEEDED", lambda m, d: (
        m["type"] == "EXPORT_IMAGE" and m["state"] != "SUCCEEDED")),
    # AIP-160: OR binds tighter than AND.
    ("type = EXPORT_IMAGE AND state = RUNNING OR state = FAILED", lambda m, d: (
        m["type"] == "EXPORT_IMAGE" and m["state"] in ("RUNNING", "FAILED"))),
    ("(type = EXPORT_IMAGE AND state = RUNNING) OR state = FAILED", lambda m, d: (
        (m["type"] == "EXPORT_IMAGE" and m["state"] == "RUNNING") or m["state"] == "FAILED")),
    ("type=EXPORT_IMAGE state=SUCCEEDED", lambda m, d: (  # juxtaposition is AND
        m["type"] == "EXPORT_IMAGE" and m["state"] == "SUCCEEDED")),
    ('description = "median*"', lambda m, d: m["description"].startswith("median")),
    ('description = "*median"', lambda m, d: m["description"].endswith("median")),
    ('description = "*median*"', lambda m, d: "median" in m["description"]),
    ('metadata.description = "Ingest image: \\"x\\""', lambda m, d: m["description"] == (
        'Ingest image: "x"')),
    ("NOT done = true", lambda m, d: not d),
    ("-type = EXPORT_IMAGE", lambda m, d: m["type"] != "EXPORT_IMAGE"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "oracle"), CASES, ids=[c[0] for c in CASES])
def test_filter_keeps_what_matches(client: TestClient, text: str, oracle: Any) -> None:
    everything = _listed(client)
    assert len(everything) == len(MADE)
    expected = [op for op in everything if oracle(op["metadata"], op["done"])]
    assert expected, "a case that matches nothing tests little"
    assert _names(_listed(client, filter=text)) == _names(expected)


def test_time_comparisons(client: TestClient) -> None:
    everything = _listed(client)  # newest first
    middle = everything[2]["metadata"]["createTime"]
    later = [op for op in everything if op["metadata"]["createTime"] > middle]
    assert len(later) == 2
    assert _names(_listed(client, filter=f'createTime > "{middle}"')) == _names(later)
    at_most = _listed(client, filter=f"metadata.createTime <= {middle}")
    assert _names(at_most) == _names(everything[2:])
    ended = [op for op in everything if "endTime" in op["metadata"]]
    assert _names(_listed(client, filter='endTime >= "2000-01-01T00:00:00Z"')) == _names(ended)


def test_filtered_pages_follow_the_matches(client: TestClient) -> None:
    expected = _names(_listed(client, filter="type = EXPORT_IMAGE"))
    assert len(expected) == 3
    pages, token = [], None
    while True:
        params: dict[str, Any] = {"filter": "type = EXPORT_IMAGE", "pageSize": 1}
        if token:
            params["pageToken"] = token
        r = client.get(URL, params=params)
        assert r.status_code == 200, r.text
        pages += _names(r.json()["operations"])
        token = r.json().get("nextPageToken")
        if not token:
            break
    assert pages == expected


REFUSED = [
    ("state = DONE", "unknown state"),
    ("state = running", "unknown state"),
    ("type = EXPORT_EVERYTHING", "unknown type"),
    ("owner = me", "unknown field"),
    ("state > RUNNING", "takes only = and !="),
    ("state:RUNNING", "':' (has) operator"),
    ('createTime > "yesterday"', "not an RFC 3339 time"),
    ('createTime > "2024-01-01T00:00:00"', "no time zone"),
    ("(state = RUNNING", "not closed"),
    ("state = RUNNING)", "unexpected ')'"),
    ("state =", "ends too early"),
    ("state RUNNING", "expected a comparison"),
    ("description ~ x", "expected a comparison"),
    ("done = maybe", "true or false"),
    ("state = RUNNING AND", "ends too early"),
    ("(" * 30 + "state = RUNNING" + ")" * 30, "nested parentheses"),
    ("state = RUNNING OR " * 200 + "state = FAILED", "longer than"),
]


@pytest.mark.parametrize(("text", "why"), REFUSED, ids=[r[0][:40] for r in REFUSED])
def test_filter_outside_the_subset_is_a_400(client: TestClient, text: str, why: str) -> None:
    r = client.get(URL, params={"filter": text})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert why in error["message"]
