"""The app's shutdown (its lifespan's end: uvicorn on SIGTERM, a TestClient's `with` block)
ends the threads create_app started, on either state database. Left running, the lease keeper
went on renewing leases in a database dropped after the test ("relation operations does not
exist") and the runners waited for work forever."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openee.api.app import create_app
from openee.settings import DEFAULT_PROJECT, Settings


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_shutdown_ends_the_threads_the_app_started(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    dsn = request.getfixturevalue("pg_schema_dsn") if kind == "postgres" else None
    settings = Settings(data_dir=tmp_path, auth_enabled=False, catalog=dsn)
    before = set(threading.enumerate())
    with TestClient(create_app(settings)) as client:
        started = [t for t in threading.enumerate() if t not in before]
        r = client.get(f"/v1/projects/{DEFAULT_PROJECT}/operations")
        assert r.status_code == 200, r.text
    names = sorted(t.name for t in started)
    assert "openee-leases" in names and "openee-operations-0" in names, names
    assert [t.name for t in started if t.is_alive()] == []
