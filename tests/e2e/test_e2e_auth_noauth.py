"""`openee serve --no-auth`: loopback only, loud, anonymous; auth stays on by default."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from auth_server import AuthServer, free_port, launch, server_env


@pytest.fixture(scope="module")
def open_srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    with launch(tmp_path_factory.mktemp("auth-noauth"), "--no-auth") as server:
        yield server


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1"])
def test_no_auth_is_refused_off_loopback(tmp_path: Path, host: str) -> None:
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "openee", "serve", "--no-auth", "--host", host,
         "--port", str(port), "--data-dir", str(tmp_path / "data")],
        env=server_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "loopback" in result.stderr
    assert not (tmp_path / "data").exists()  # refused before touching anything


def test_no_auth_warns_loudly(open_srv: AuthServer) -> None:
    assert "WARNING: AUTHENTICATION IS DISABLED" in open_srv.stderr_path.read_text()


def test_requests_run_as_anonymous_without_a_token(open_srv: AuthServer) -> None:
    response = requests.get(open_srv.api_url, timeout=30)
    assert response.status_code == 200
    assert "algorithms" in response.json()


def test_stock_ee_client_without_credentials(open_srv: AuthServer, tmp_path: Path) -> None:
    script = (
        "import json, sys, ee\n"
        "ee.Initialize(None, project=sys.argv[2], url=sys.argv[1])\n"
        "print(json.dumps(ee.Number(20).add(22).getInfo()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, open_srv.base_url, open_srv.project],
        env=server_env({"HOME": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == 42


def test_auth_is_on_by_default(tmp_path: Path) -> None:
    with launch(tmp_path) as server:
        assert requests.get(server.api_url, timeout=30).status_code == 401
        assert "AUTHENTICATION IS DISABLED" not in server.stderr_path.read_text()
