"""In-process API fixtures: the app from `create_app(Settings(...))`, driven by an HTTP test client
(no server process), for contract tests of the HTTP surface."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from openee.api.app import create_app
from openee.settings import Settings


@pytest.fixture(scope="session")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A client of an app without auth (loopback only) over a fresh data dir."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("api-data"), auth_enabled=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client
