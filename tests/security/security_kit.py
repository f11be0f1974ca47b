"""Helpers of the security suite (see conftest.py): listeners, canary files, API calls."""

from __future__ import annotations

import http.server
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from fastapi.testclient import TestClient
from rasterio.transform import from_origin

PROJECT = "p"
TOKEN = "CANARY-7f3e9a"  # in every canary file; must appear in no answer
# A value no demo pixel has: a canary raster is filled with it.
CANARY_VALUE = 4242


@dataclass
class Listener:
    """A threading HTTP server on 127.0.0.1 recording every request path."""

    hits: list[str] = field(default_factory=list)
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Listener:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, body: bool) -> None:
                owner.hits.append(self.path)
                status, headers, content = owner.routes.get(
                    self.path.split("?")[0], (200, {}, TOKEN.encode())
                )
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if body:
                    self.wfile.write(content)

            def do_GET(self) -> None:
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def write_tif(path: Path, value: int = 7, size: int = 16, **profile: Any) -> Path:
    """A small GeoTIFF (EPSG:32633) filled with `value`."""
    meta = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "uint16",
        "crs": "EPSG:32633",
        "transform": from_origin(500000, 5100000, 120, 120),
        **profile,
    }
    with rasterio.open(path, "w", **meta) as dst:
        dst.write(np.full((meta["count"], size, size), value, dtype=meta["dtype"]))
    return path


@dataclass
class Outside:
    """Canary files outside every root."""

    dir: Path
    files: list[Path]

    def untouched(self) -> bool:
        return all(os.stat(p).st_atime < os.stat(p).st_mtime for p in self.files)


@dataclass
class Api:
    client: TestClient
    data_dir: Path

    @property
    def area(self) -> Path:
        """The project's area of the data dir, where its files for import go (ADR 0034)."""
        return self.data_dir / "projects" / PROJECT

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(f"/v1/projects/{PROJECT}/{path}", json=body)

    def wait(self, operation: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while True:
            got = self.client.get(f"/v1/{operation['name']}").json()
            if got.get("done") or time.monotonic() > deadline:
                return dict(got)
            time.sleep(0.05)

    def import_image(self, name: str, uris: list[str], overwrite: bool = False) -> Any:
        """The import's answer: the HTTP error, or the finished operation. Several URIs are
        several sources of one tileset (a mosaic)."""
        body = {
            "imageManifest": {
                "name": f"projects/{PROJECT}/assets/{name}",
                "tilesets": [{"sources": [{"uris": [uri]} for uri in uris]}],
            },
            "overwrite": overwrite,
        }
        return self._finish(self.post("image:import", body))

    def import_table(self, name: str, uri: str) -> Any:
        body = {"tableManifest": {"name": f"projects/{PROJECT}/assets/{name}",
                                  "sources": [{"uris": [uri]}]}}  # fmt: skip
        return self._finish(self.post("table:import", body))

    def _finish(self, response: Any) -> Any:
        if response.status_code != 200:
            return response
        return self.wait(response.json())

    def get_pixels(self, name: str, scale: float = 120.0, size: int = 8) -> Any:
        body = {
            "fileFormat": "NPY",
            "grid": {
                "crsCode": "EPSG:32633",
                "affineTransform": {
                    "scaleX": scale,
                    "translateX": 500000.0,
                    "scaleY": -scale,
                    "translateY": 5100000.0,
                },
                "dimensions": {"width": size, "height": size},
            },
        }
        return self.post(f"assets/{name}:getPixels", body)

    def compute_value(self, name: str, arguments: dict[str, Any]) -> Any:
        """value:compute of one algorithm call with constant arguments."""
        values = {"0": {"functionInvocationValue": {
            "functionName": name,
            "arguments": {k: {"constantValue": v} for k, v in arguments.items()},
        }}}  # fmt: skip
        return self.post("value:compute", {"expression": {"result": "0", "values": values}})

    def load_geotiff(self, uri: str, scale: float = 120.0) -> Any:
        """computePixels of Image.loadGeoTIFF(uri) on an 8 x 8 grid at `scale`."""
        expression = {
            "result": "0",
            "values": {
                "0": {
                    "functionInvocationValue": {
                        "functionName": "Image.loadGeoTIFF",
                        "arguments": {"uri": {"constantValue": uri}},
                    }
                }
            },
        }
        body = {
            "expression": expression,
            "fileFormat": "NPY",
            "grid": {
                "crsCode": "EPSG:32633",
                "affineTransform": {
                    "scaleX": scale,
                    "translateX": 500000.0,
                    "scaleY": -scale,
                    "translateY": 5100000.0,
                },
                "dimensions": {"width": 8, "height": 8},
            },
        }
        return self.post("image:computePixels", body)


def failed(answer: Any) -> bool:
    """An import refused up front (4xx) or an operation that FAILED; never a 5xx."""
    if isinstance(answer, dict):
        return bool(answer.get("error")) or answer.get("metadata", {}).get("state") == "FAILED"
    assert answer.status_code < 500, answer.text
    return True


def succeeded(answer: Any) -> bool:
    return isinstance(answer, dict) and answer.get("metadata", {}).get("state") == "SUCCEEDED"
