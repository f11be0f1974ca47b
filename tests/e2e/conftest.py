"""End-to-end fixtures: a real `openee serve` subprocess driven by the stock clients."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
READY_TIMEOUT_S = 90.0
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"

# Make `import oracle` work from the test modules whatever the rootdir/import mode.
if str(E2E_DIR) not in sys.path:
    sys.path.insert(0, str(E2E_DIR))

import log_scan  # noqa: E402  (found through the path set just above)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this directory is an e2e test."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@dataclass(frozen=True)
class Server:
    base_url: str
    port: int
    data_dir: Path
    key_path: Path
    key: dict[str, Any]
    project: str
    stderr_path: Path
    pid: int = 0

    @property
    def area(self) -> Path:
        """The project's area of the data dir, where its files for import go (ADR 0034)."""
        return self.data_dir / "projects" / self.project

    def stderr_tail(self, n: int = 4000) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-n:]
        except OSError:
            return "<no stderr>"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(REPO_ROOT / "src")
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if src not in parts:
        parts.insert(0, src)
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Starts `python -m openee serve` on a free port with an empty data dir."""
    root = tmp_path_factory.mktemp("openee-e2e")
    data_dir = root / "data"
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    stdout_path, stderr_path = root / "server.stdout", root / "server.stderr"
    cmd = [
        sys.executable,
        "-m",
        "openee",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=err, env=_server_env(), cwd=str(root), start_new_session=True
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        ready = False
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(
                    f"openee serve exited with {proc.returncode} before it was ready.\n"
                    f"stderr:\n{_read(stderr_path)[-6000:]}\nstdout:\n{_read(stdout_path)[-2000:]}",
                    pytrace=False,
                )
            try:
                r = requests.get(f"{base_url}/$discovery/rest", params={"version": "v1"}, timeout=2)
                if r.status_code == 200:
                    ready = True
                    break
            except requests.RequestException:
                pass
            time.sleep(0.25)
        if not ready:
            pytest.fail(
                f"openee serve not ready after {READY_TIMEOUT_S:.0f} s.\n"
                f"stderr:\n{_read(stderr_path)[-6000:]}",
                pytrace=False,
            )
        key_path = data_dir / "keys" / "default.json"
        assert key_path.is_file(), f"no service-account key at {key_path}"
        key = json.loads(key_path.read_text())
        yield Server(
            base_url=base_url,
            port=port,
            data_dir=data_dir,
            key_path=key_path,
            key=key,
            project=key["project_id"],
            stderr_path=stderr_path,
            pid=proc.pid,
        )
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    # Everything the suite made this server log: no credential may be in it (log_scan.py).
    key_pem = json.loads((data_dir / "keys" / "default.json").read_text())["private_key"]
    logs = log_scan.server_logs(stdout_path, stderr_path, data_dir)
    found = log_scan.leaks(logs, data_dir / "auth.sqlite", [key_pem])
    assert not found, f"credential material in the session server's logs: {found}"


@pytest.fixture(scope="session")
def ee_api(server: Server):
    """The stock `ee` module, initialized against the live server with the generated key."""
    import ee

    credentials = ee.ServiceAccountCredentials(server.key["client_email"], str(server.key_path))
    ee.Initialize(credentials, project=server.key["project_id"], url=server.base_url)
    yield ee
    ee.Reset()


@pytest.fixture(scope="session")
def authed_session(server: Server):
    """A google-auth `AuthorizedSession` (cloud-platform scope) from the generated key file."""
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_file(
        str(server.key_path), scopes=[CLOUD_PLATFORM_SCOPE]
    )
    session = AuthorizedSession(credentials)
    yield session
    session.close()


@pytest.fixture(scope="session")
def access_token(authed_session) -> str:
    """A valid bearer token issued by the server's token endpoint."""
    from google.auth.transport.requests import Request

    credentials = authed_session.credentials
    if not credentials.valid:
        credentials.refresh(Request())
    return str(credentials.token)
