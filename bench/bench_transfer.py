"""The transfer floor: how long the stock client's HTTP stack takes to receive a response of a
given size over loopback from a server that has it ready. Any HTTP request whose response is
that large costs at least this much, whatever the server computes.

The server is a bare Starlette app under uvicorn (what `openee serve` runs), in a subprocess,
answering GET /bytes/{n} with n bytes held in memory; the client is a requests session, the
transport under google-auth's AuthorizedSession and the ee client.

  python bench/bench_transfer.py serve PORT      (run by TransferServer)
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

READY_TIMEOUT_S = 30.0


def _serve(port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    bodies: dict[int, bytes] = {}

    def body(request: Request) -> Response:
        n = int(request.path_params["n"])
        if n not in bodies:
            bodies[n] = bytes(n)
        return Response(memoryview(bodies[n]), media_type="application/octet-stream")

    def ready(request: Request) -> Response:
        return Response(b"ok")

    app = Starlette(routes=[Route("/bytes/{n:int}", body), Route("/ready", ready)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TransferServer:
    """The bare server in a subprocess; a context manager."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TransferServer:
        import requests

        cmd = [sys.executable, str(Path(__file__).resolve()), "serve", str(self.port)]
        self._proc = subprocess.Popen(cmd, start_new_session=True)
        self._session = requests.Session()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("the transfer server did not start")
            try:
                if self._session.get(f"{self.base_url}/ready", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.1)

    def seconds(self, n_bytes: int, runs: int = 5) -> float:
        """Median time to receive an n-byte body (after one untimed request of that size)."""
        url = f"{self.base_url}/bytes/{n_bytes}"
        times = []
        for i in range(runs + 1):
            started = time.perf_counter()
            content = self._session.get(url, timeout=120).content
            elapsed = time.perf_counter() - started
            if len(content) != n_bytes:
                raise RuntimeError(f"the transfer server sent {len(content)} of {n_bytes} bytes")
            if i:
                times.append(elapsed)
        return statistics.median(times)

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGTERM)
            self._proc.wait(timeout=20)
        self._proc = None


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        _serve(int(sys.argv[2]))
    else:
        with TransferServer() as server:
            for n in (3 * 640 * 640 * 8, 3 * 2048 * 2048 * 8):
                print(f"{n / 2**20:.1f} MiB: {server.seconds(n):.3f} s")
