"""Every method of the discovery document has a handler: a method not built yet answers
501 UNIMPLEMENTED naming it, never a bare 404 (the stock client builds every documented method)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from openee.api.discovery import SUPPORTED_VERSIONS, discovery_document
from openee.settings import DEFAULT_PROJECT

# The 404s of a path no handler serves (the router's, and the asset routes' catch-all).
ROUTE_MISSING = ("Requested entity was not found: /", "Unknown method:")

# Values for path parameters, by the resource family a method belongs to.
_NAMES = {
    "operations": f"projects/{DEFAULT_PROJECT}/operations/OP1",
    "thumbnails": f"projects/{DEFAULT_PROJECT}/thumbnails/T1",
    "videoThumbnails": f"projects/{DEFAULT_PROJECT}/videoThumbnails/T1",
    "filmstripThumbnails": f"projects/{DEFAULT_PROJECT}/filmstripThumbnails/T1",
    "tables": f"projects/{DEFAULT_PROJECT}/tables/T1",
    "maps.tiles": f"projects/{DEFAULT_PROJECT}/maps/M1",
}
_ASSET = f"projects/{DEFAULT_PROJECT}/assets/missing"


def _methods(node: dict, resource: str = "") -> list[tuple[str, dict]]:
    found = [(resource, m) for m in node.get("methods", {}).values()]
    for name, child in node.get("resources", {}).items():
        found += _methods(child, f"{resource}.{name}".strip("."))
    return found


def _path(resource: str, method: dict) -> str:
    family = resource.removeprefix("projects").strip(".")

    def value(match: re.Match[str]) -> str:
        param = match.group(1)
        if param in ("zoom", "x", "y"):
            return "1"
        if (param in ("project", "parent") and family != "maps.tiles") or method["id"].endswith(
            "operations.list"
        ):
            return f"projects/{DEFAULT_PROJECT}"
        return _NAMES.get(family, _ASSET)

    return "/" + re.sub(r"\{\+?(\w+)\}", value, method["path"])


CASES = [
    (version, resource, method)
    for version in SUPPORTED_VERSIONS
    for resource, method in _methods(discovery_document(version)["resources"]["projects"])
]


@pytest.mark.parametrize(
    ("version", "resource", "method"), CASES, ids=[f"{v}:{m['id']}" for v, _, m in CASES]
)
def test_every_documented_method_has_a_handler(
    client: TestClient, version: str, resource: str, method: dict
) -> None:
    kwargs = {"json": {}} if method["httpMethod"] in ("POST", "PATCH") else {}
    response = client.request(method["httpMethod"], _path(resource, method), **kwargs)
    error = response.json().get("error", {}) if response.status_code >= 400 else {}
    assert response.status_code != 405, (method["id"], error)
    assert not error.get("message", "").startswith(ROUTE_MISSING), (method["id"], error)
    if response.status_code == 501:
        assert error["status"] == "UNIMPLEMENTED"
        assert method["id"] in error["message"]


def test_a_path_no_method_documents_is_still_a_404(client: TestClient) -> None:
    response = client.post(f"/v1/projects/{DEFAULT_PROJECT}/image:teleport", json={})
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


def test_json_nested_too_deeply_is_a_400(client: TestClient) -> None:
    body = '{"expression": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post(
        f"/v1/projects/{DEFAULT_PROJECT}/value:compute",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]["message"]


def test_an_expression_nested_too_deeply_is_a_400(client: TestClient) -> None:
    # Flat JSON, deep graph: value i adds 1 to value i + 1, twenty thousand deep.
    depth = 20_000
    values = {
        str(i): {
            "functionInvocationValue": {
                "functionName": "Number.add",
                "arguments": {
                    "left": {"valueReference": str(i + 1)},
                    "right": {"constantValue": 1},
                },
            }
        }
        for i in range(depth)
    }
    values[str(depth)] = {"constantValue": 0}
    response = client.post(
        f"/v1/projects/{DEFAULT_PROJECT}/value:compute",
        json={"expression": {"result": "0", "values": values}},
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]["message"]
