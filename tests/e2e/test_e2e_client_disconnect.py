"""A client that hangs up in the middle of its request body costs one log line, not a
traceback, and the server keeps serving."""

from __future__ import annotations

import json
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


def test_a_client_gone_while_its_computation_runs_stops_it(server, access_token, ee_api) -> None:
    # List.sequence(0, 5e6).map(x + 1): minutes of evaluation when nobody stops it.
    expression = {
        "result": "0",
        "values": {
            "0": {
                "functionInvocationValue": {
                    "functionName": "List.map",
                    "arguments": {
                        "list": {
                            "functionInvocationValue": {
                                "functionName": "List.sequence",
                                "arguments": {
                                    "start": {"constantValue": 0},
                                    "end": {"constantValue": 5_000_000},
                                },
                            }
                        },
                        "baseAlgorithm": {
                            "functionDefinitionValue": {"argumentNames": ["x"], "body": "1"}
                        },
                    },
                }
            },
            "1": {
                "functionInvocationValue": {
                    "functionName": "Number.add",
                    "arguments": {
                        "left": {"argumentReference": "x"},
                        "right": {"constantValue": 1},
                    },
                }
            },
        },
    }
    body = json.dumps({"expression": expression}).encode()
    before = server.stderr_path.read_text(errors="replace")
    path = f"/v1/projects/{server.project}/value:compute"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {access_token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body
        )
        time.sleep(1.0)  # the computation is under way
    ended = None
    deadline = time.monotonic() + 30
    while ended is None and time.monotonic() < deadline:
        for line in server.stderr_path.read_text(errors="replace")[len(before) :].splitlines():
            if line.startswith('{"method": "POST"') and json.loads(line)["path"] == path:
                ended = json.loads(line)
        time.sleep(0.2)
    assert ended is not None, "the computation still ran 30 s after its client went away"
    assert ended["duration_ms"] < 30_000
    assert ee_api.Number(2).add(2).getInfo() == 4
