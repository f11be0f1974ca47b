"""scripts/balancer.py (docs/decisions/0047) between two small HTTP/1.1 backends of this test:
per-request round-robin over one kept-alive client connection, bodies relayed intact (fixed
length and chunked, both ways), a backend that refuses connections skipped, and a POST whose
backend dies while answering never sent to the other one; with `--prefix`, paths under it
passed on without it, others refused, and the client's own X-Forwarded-* headers replaced."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

BALANCER = Path(__file__).resolve().parents[1] / "scripts" / "balancer.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Backend(ThreadingHTTPServer):
    """Answers GET /name with its name, GET /chunked with a chunked body, GET /headers... with
    the path and X-Forwarded-* headers it got (JSON), POST /echo with the
    body it got, and POST /die by closing the connection unanswered; counts what it saw."""

    daemon_threads = True

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Backend

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.seen.append(f"GET {self.path}")
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"x" * 70000, b"", b"tail"):
                if part:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path.startswith("/headers"):
            forwarded = {
                k.lower(): v
                for k, v in self.headers.items()
                if k.lower().startswith("x-forwarded-")
            }
            self._send(json.dumps({"path": self.path, **forwarded}).encode())
            return
        self._send(self.server.name.encode())

    def do_POST(self) -> None:
        self.server.seen.append(f"POST {self.path}")
        if self.headers.get("Transfer-Encoding") == "chunked":
            self.send_error(400, "the balancer must send a Content-Length")
            return
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/die":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(body)


@pytest.fixture
def backends() -> Iterator[tuple[Backend, Backend]]:
    a, b = Backend("a"), Backend("b")
    yield a, b
    for backend in (a, b):
        backend.shutdown()
        backend.server_close()


def _balancer(*backends: str, prefix: str = "") -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    args = [arg for backend in backends for arg in ("--backend", backend)]
    args += ["--prefix", prefix] if prefix else []
    proc = subprocess.Popen(
        [sys.executable, str(BALANCER), "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().decode().strip() == f"http://127.0.0.1:{port}"
    return proc, f"http://127.0.0.1:{port}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(10)
    assert proc.stdout is not None
    proc.stdout.close()


@pytest.fixture
def balanced(backends: tuple[Backend, Backend]) -> Iterator[str]:
    proc, url = _balancer(*(b.address for b in backends))
    yield url
    _stop(proc)


def test_requests_of_one_connection_alternate(balanced: str) -> None:
    with requests.Session() as session:
        names = [session.get(f"{balanced}/name").text for _ in range(6)]
    assert names in (["a", "b"] * 3, ["b", "a"] * 3)


def test_bodies_are_relayed_intact(balanced: str) -> None:
    payload = bytes(range(256)) * 1000
    with requests.Session() as session:
        assert session.post(f"{balanced}/echo", data=payload).content == payload
        chunks = (payload[i : i + 4096] for i in range(0, len(payload), 4096))
        sent_chunked = session.post(f"{balanced}/echo", data=chunks)
        assert sent_chunked.status_code == 200 and sent_chunked.content == payload
        for _ in range(2):  # from both backends
            relayed = session.get(f"{balanced}/chunked")
            assert relayed.content == b"x" * 70000 + b"tail"
        assert session.get(f"{balanced}/name").status_code == 200  # the connection still works


def test_a_backend_refusing_connections_is_skipped(backends: tuple[Backend, Backend]) -> None:
    proc, url = _balancer(f"127.0.0.1:{_free_port()}", backends[0].address)
    try:
        with requests.Session() as session:
            assert [session.get(f"{url}/name").text for _ in range(4)] == ["a"] * 4
    finally:
        _stop(proc)


def test_a_post_whose_backend_died_is_not_sent_again(
    balanced: str, backends: tuple[Backend, Backend]
) -> None:
    response = requests.post(f"{balanced}/die", data=b"once")
    assert response.status_code == 502
    assert sum(backend.seen.count("POST /die") for backend in backends) == 1


def test_no_backend_at_all_is_502() -> None:
    proc, url = _balancer(f"127.0.0.1:{_free_port()}")
    try:
        response = requests.get(f"{url}/name", timeout=30)
        assert response.status_code == 502
    finally:
        _stop(proc)


def test_a_client_expecting_100_continue_gets_it(balanced: str) -> None:
    """As curl does for bodies of more than 1 KiB: the head, then the body once told to."""
    host, port = balanced.removeprefix("http://").split(":")
    payload = b"y" * 5000
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Length: %d\r\n\r\n" % len(payload)
        )
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(payload)
        answer = b""
        while not answer.endswith(payload):
            part = sock.recv(65536)
            assert part, answer
            answer += part
    assert answer.startswith(b"HTTP/1.1 200 ")


def test_a_post_never_rides_a_pooled_connection(
    balanced: str, backends: tuple[Backend, Backend]
) -> None:
    """Once connections to both backends are pooled, a POST whose backend drops it unanswered
    still reaches one backend once: a broken pooled connection would not tell an idle close
    from a crash mid-request."""
    with requests.Session() as session:
        assert {session.get(f"{balanced}/name").text for _ in range(4)} == {"a", "b"}
        assert session.post(f"{balanced}/die", data=b"once").status_code == 502
    assert sum(backend.seen.count("POST /die") for backend in backends) == 1


def test_a_prefix_is_stripped_and_said(backends: tuple[Backend, Backend]) -> None:
    proc, url = _balancer(backends[0].address, prefix="/tools/openee")
    try:
        spoofed = {"X-Forwarded-Prefix": "/evil", "X-Forwarded-Host": "evil.example"}
        got = requests.get(f"{url}/tools/openee/headers?a=1", headers=spoofed, timeout=30).json()
        assert got == {
            "path": "/headers?a=1",
            "x-forwarded-prefix": "/tools/openee",
            "x-forwarded-for": "127.0.0.1",
        }
        for outside in ("/headers", "/tools/openeeX/headers", "/tools"):
            assert requests.get(f"{url}{outside}", timeout=30).status_code == 404, outside
        assert requests.get(f"{url}/tools/openee", timeout=30).status_code == 200  # "/"
    finally:
        _stop(proc)
