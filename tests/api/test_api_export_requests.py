"""Export request bodies are checked at the HTTP edge (api/export_requests.py,
docs/decisions/0051): a bad body is a 400 naming the field before any operation exists, and a
restarted server parses the stored bodies of unfinished exports the same way, resuming those
that still parse and failing the others."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openee.api.app import create_app
from openee.auth import anonymous_principal
from openee.services.destinations import staging_dir
from openee.services.exports import EXPORT_FEATURES, REQUEST_FILE
from openee.services.operations import FAILED, SUCCEEDED, OperationStore
from openee.settings import DEFAULT_PROJECT, Settings

URL = f"/v1/projects/{DEFAULT_PROJECT}"


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}


# A FeatureCollection of one point feature with property a = 7.
TABLE = {
    "result": "0",
    "values": {
        "0": _call(
            "Collection",
            features={
                "arrayValue": {
                    "values": [
                        _call(
                            "Feature",
                            geometry=_call(
                                "GeometryConstructors.Point", coordinates={"constantValue": [1, 2]}
                            ),
                            metadata={"constantValue": {"a": 7}},
                        )
                    ]
                }
            },
        )
    },
}
GCS = {"cloudStorageDestination": {"bucket": "results", "filenamePrefix": "out/t"}}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("export-data"), auth_enabled=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("method", "body", "message"),
    [
        ("table:export", {"fileExportOptions": GCS}, "The request has no 'expression'."),
        (
            "table:export",
            {"expression": TABLE, "fileExportOptions": GCS, "description": "d" * 101},
            "description must be a string of at most 100 characters.",
        ),
        (
            "table:export",
            {"expression": TABLE, "fileExportOptions": GCS, "priority": {"value": 10000}},
            "priority must be an integer from 0 to 9999.",
        ),
        (
            "table:export",
            {"expression": TABLE, "fileExportOptions": {"cloudStorageDestination": {"bucket": 5}}},
            "Invalid bucket name: '5'.",
        ),
        (
            "table:export",
            {"expression": TABLE, "fileExportOptions": {"driveDestination": {"folder": ["x"]}}},
            "driveDestination.folder must be a string.",
        ),
        (
            "table:export",
            {"expression": TABLE, "fileExportOptions": GCS, "selectors": [1]},
            "selectors must be a list of property names.",
        ),
        (
            "image:export",
            {
                "expression": TABLE,
                "fileExportOptions": {**GCS, "fileFormat": "PNG"},
            },
            "Invalid fileFormat for an image export: 'PNG' (use GEO_TIFF, NPY or TF_RECORD_IMAGE).",
        ),
        (
            "image:estimateExport",
            {"expression": TABLE, "fileExportOptions": GCS, "maxPixels": {"value": "x"}},
            "Invalid maxPixels: 'x'.",
        ),
        (
            "map:export",
            {"expression": TABLE, "tileOptions": {"maxZoom": 3}},
            "tileExportOptions.cloudStorageDestination is required.",
        ),
        (
            "video:export",
            {"expression": TABLE, "fileExportOptions": {**GCS, "fileFormat": "GIF"}},
            "Invalid fileFormat for a video export: 'GIF'.",
        ),
        (
            "classifier:export",
            {"expression": TABLE, "assetExportOptions": {}},
            "assetExportOptions.earthEngineDestination.name is required.",
        ),
    ],
)
def test_a_bad_export_body_is_refused_before_any_operation(
    client: TestClient, method: str, body: dict[str, Any], message: str
) -> None:
    before = client.get(f"{URL}/operations").json().get("operations", [])
    r = client.post(f"{URL}/{method}", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert r.json()["error"]["message"] == message
    assert client.get(f"{URL}/operations").json().get("operations", []) == before


def test_a_restart_resumes_the_stored_bodies_that_parse(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", auth_enabled=False)
    store = OperationStore(settings.operations_path)  # as a server that then stopped
    principal = dataclasses.asdict(anonymous_principal(DEFAULT_PROJECT))
    bodies = {
        "good": {"expression": TABLE, "fileExportOptions": {**GCS, "fileFormat": "CSV"}},
        # Accepted by an earlier version, refused now: not resumed, failed with the rest.
        "bad": {"expression": TABLE, "fileExportOptions": {**GCS, "fileFormat": "XLS"}},
    }
    ids = {}
    for key, body in bodies.items():
        op, _ = store.create(DEFAULT_PROJECT, EXPORT_FEATURES, key, principal["email"], None)
        store.start(op.id)
        staging = staging_dir(settings.data_dir, op.id)
        staging.mkdir(parents=True)
        record = {"project": DEFAULT_PROJECT, "body": body, "principal": principal}
        (staging / REQUEST_FILE).write_text(json.dumps(record))
        ids[key] = op.id
    store.close()

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        done = {
            key: client.post(f"{URL}/operations/{op_id}:wait", json={"timeout": "60s"}).json()
            for key, op_id in ids.items()
        }
    assert done["good"]["metadata"]["state"] == SUCCEEDED, done["good"]
    assert done["bad"]["metadata"]["state"] == FAILED
    table = settings.data_dir / "buckets" / "results" / "out" / "t.csv"
    with table.open() as f:
        assert [row["a"] for row in csv.DictReader(f)] == ["7"]
