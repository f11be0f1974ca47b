"""Listing a gs:// prefix (catalog/buckets.py over raster/stores.py): bounded like GDAL's reads,
and its failures a clear error. The listing itself against a store: tests/e2e/test_e2e_gcs.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from openee.catalog.buckets import list_rasters
from openee.errors import InvalidArgumentError
from openee.raster.stores import ATTEMPTS


class _Failing(BaseHTTPRequestHandler):
    """A store that answers every request 503, counting them."""

    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    _Failing.paths = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("CPL_GS_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}/")
    monkeypatch.setenv("GS_NO_SIGN_REQUEST", "YES")
    yield _Failing.paths
    server.shutdown()
    server.server_close()


def test_a_failing_store_is_asked_as_often_as_gdal_would(failing_store: list[str]) -> None:
    with pytest.raises(InvalidArgumentError, match=r"Cannot list 'gs://imagery/s2/'"):
        list_rasters("gs://imagery/s2/")
    # GDAL's bound (2 retries), not gcsfs's 6 tries backing off for ~35 s; by the JSON API.
    assert len(failing_store) == ATTEMPTS == 3
    assert all(path.startswith("/storage/v1/b/imagery/o?") for path in failing_store)


def test_only_bucket_prefixes_are_listed() -> None:
    with pytest.raises(InvalidArgumentError, match="not an object storage prefix"):
        list_rasters("https://host/cogs/")
