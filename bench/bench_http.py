"""(d) openee over HTTP: a real `python -m openee serve` subprocess and a google-auth session."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import REPO_ROOT, Grid, request_body
from bench_pipelines import npy_to_stack

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
READY_TIMEOUT_S = 90.0
# A point and grid inside 33TWM only: a request there runs every code path of the server
# without decoding any block of the 33TWL files being measured.
WARMUP_LON, WARMUP_LAT = 15.7, 46.6


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`python -m openee serve` on a free loopback port over `data_dir`; a context manager."""

    def __init__(self, data_dir: Path, log_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"server-{self.port}.log"
        self.startup_s = 0.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._session: Any = None
        self.project = ""

    def __enter__(self) -> Server:
        import requests

        env = dict(os.environ)
        src = str(REPO_ROOT / "src")
        env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
        cmd = [sys.executable, "-m", "openee", "serve", "--port", str(self.port)]
        cmd += ["--data-dir", str(self.data_dir)]
        started = time.perf_counter()
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"openee serve exited early:\n{self.log_path.read_text()[-3000:]}"
                )
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"openee serve not ready after {READY_TIMEOUT_S:.0f} s")
            try:
                r = requests.get(
                    f"{self.base_url}/$discovery/rest", params={"version": "v1"}, timeout=2
                )
                if r.status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.startup_s = time.perf_counter() - started
        self._session = self._authorized_session()
        return self

    def _authorized_session(self) -> Any:
        from google.auth.transport.requests import AuthorizedSession
        from google.oauth2 import service_account

        key = json.loads((self.data_dir / "keys" / "default.json").read_text())
        self.project = key["project_id"]
        # The key file was written by the first server on this data dir, on another port.
        key["token_uri"] = f"{self.base_url}/token"
        credentials = service_account.Credentials.from_service_account_info(
            key, scopes=[CLOUD_PLATFORM_SCOPE]
        )
        return AuthorizedSession(credentials)

    def compute_pixels(self, body: dict[str, Any]) -> bytes:
        url = f"{self.base_url}/v1/projects/{self.project}/image:computePixels"
        r = self._session.post(url, json=body, timeout=600)
        if r.status_code != 200:
            raise RuntimeError(f"computePixels answered {r.status_code}: {r.text[:500]}")
        return bytes(r.content)

    def warm_up(self) -> None:
        """Token, imports, registry, catalog and the read path, on files not being measured."""
        from bench_common import expression

        body = request_body(Grid.centered(64, 100.0, WARMUP_LON, WARMUP_LAT), False)
        body["expression"] = expression(WARMUP_LON, WARMUP_LAT)
        self.compute_pixels(body)

    def fetch(self, grid: Grid) -> bytes:
        """The NPY response for the benchmark's median on `grid` (what a client receives)."""
        return self.compute_pixels(request_body(grid, with_expression=True))

    def __call__(self, grid: Grid) -> np.ndarray:
        return npy_to_stack(self.fetch(grid))

    def __exit__(self, *exc: object) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self._proc = None
