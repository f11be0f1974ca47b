"""A client that hangs up in the middle of its request body costs one log line, not a
traceback, and the server keeps serving."""

from __future__ import annotations

import socket
import time

import pytest

pytestmark = pytest.mark.e2e


def test_a_client_gone_mid_body_is_one_log_line(server, access_token, ee_api) -> None:
    before = server.stderr_path.read_text(errors="replace")
    path = f"/v1/projects/{server.project}/value:compute"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {access_token}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                '{"expression": {"result": "0", "values": {"0": '
            ).encode()
        )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        new = server.stderr_path.read_text(errors="replace")[len(before) :]
        if "client closed the connection mid-body" in new:
            break
        time.sleep(0.1)
    assert "client closed the connection mid-body: POST " + path in new
    assert "Traceback" not in new
    assert ee_api.Number(1).add(1).getInfo() == 2
