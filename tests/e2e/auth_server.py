"""Helpers for the auth e2e tests: dedicated `openee serve` processes and forged assertions.

Auth tests change server state (accounts, keys, the failure limiter), so each module starts its
own server instead of sharing the session `server`. Every secret a test sees (access tokens,
assertions, private keys) is registered with `AuthServer.secret`; when the server stops, its
stderr and audit log are scanned and must contain none of them.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import log_scan
import requests

from openee.auth import GOOGLE_TOKEN_AUDIENCE, JWT_BEARER_GRANT_TYPE, AuthStore
from openee.auth.audit import StoredAuditLog
from openee.cli import main as openee_cli
from openee.settings import Settings
from openee.statedb import PostgresState

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 90.0
EE_SCOPE = "https://www.googleapis.com/auth/earthengine"
EE_READONLY_SCOPE = "https://www.googleapis.com/auth/earthengine.readonly"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    src = str(REPO_ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(
        [src, *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    )
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(extra or {})
    return env


@dataclass
class AuthServer:
    base_url: str
    port: int
    data_dir: Path
    stderr_path: Path
    key_path: Path
    key: dict[str, Any]
    secrets: list[str] = field(default_factory=list)
    # The shared state database (OPENEE_STATE, or a PostgreSQL OPENEE_CATALOG); None: SQLite.
    state_dsn: str | None = None

    @property
    def project(self) -> str:
        return str(self.key["project_id"])

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    @property
    def api_url(self) -> str:
        """An authenticated, read-only API route."""
        return f"{self.base_url}/v1/projects/{self.project}/algorithms"

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "audit.log"

    def store(self) -> AuthStore:
        if self.state_dsn is not None:
            return AuthStore(PostgresState(self.state_dsn))
        return AuthStore(self.data_dir / "auth.sqlite")

    def count_tokens(self) -> int:
        store = self.store()
        try:
            return store.count_tokens()
        finally:
            store.close()

    def secret(self, value: str) -> str:
        """Registers a value that must never reach this server's logs; returns it."""
        self.secrets.append(value)
        return value

    def logs(self) -> str:
        parts = [self.stderr_path, self.audit_path]
        text = "".join(p.read_text(errors="replace") for p in parts if p.exists())
        if self.state_dsn is not None:  # the audit trail is in the state database
            db = PostgresState(self.state_dsn)
            try:
                events = StoredAuditLog(db).events(limit=100_000)
            finally:
                db.close()
            text += "".join(json.dumps(e) + "\n" for e in events)
        return text

    def log_events(self, event: str) -> list[dict[str, Any]]:
        """The JSON log records of one event, from stderr."""
        records = []
        for line in self.stderr_path.read_text(errors="replace").splitlines():
            if line.startswith("{") and f'"event": "{event}"' in line:
                records.append(json.loads(line))
        return records

    def cli(self, *argv: str) -> int:
        """Runs an `openee` admin command on this server's data dir (in process)."""
        return openee_cli([*argv, "--data-dir", str(self.data_dir)])

    def new_key(self, account: str, out: Path) -> dict[str, Any]:
        """Creates a key for an account (creating the account if needed) with the CLI."""
        store = self.store()
        try:
            exists = store.get_account(f"{account}@{self.project}.iam.gserviceaccount.com")
        finally:
            store.close()
        if exists is None:
            assert self.cli("service-accounts", "create", account, "--project", self.project) == 0
        assert (
            self.cli(
                "keys", "create", "--account", account, "--project", self.project,
                "--port", str(self.port), "--out", str(out),
            )
            == 0
        )  # fmt: skip
        key: dict[str, Any] = json.loads(out.read_text())
        self.secret(key["private_key"])
        return key

    def post_token(self, assertion: str, source: str | None = None) -> Response:
        self.secret(assertion)
        body = f"grant_type={JWT_BEARER_GRANT_TYPE}&assertion={assertion}"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        response = call(self, "POST", "/token", body, headers, source)
        if response.status == 200:
            self.secret(response.json()["access_token"])
        return response

    def get_api(self, token: str, source: str | None = None) -> Response:
        return call(self, "GET", self.api_url[len(self.base_url) :], None, bearer(token), source)

    def token(self, key: dict[str, Any], scopes: list[str] | None = None) -> str:
        """An access token obtained by stock google-auth from a key."""
        from google.auth.transport.requests import Request
        from google.oauth2 import service_account

        creds = service_account.Credentials.from_service_account_info(
            key, scopes=scopes or [EE_SCOPE]
        )
        creds.refresh(Request())
        return self.secret(str(creds.token))

    def assert_no_secrets_in_logs(self) -> None:
        logs = self.logs()
        private_keys = [s for s in self.secrets if "PRIVATE KEY" in s]
        store = self.store()
        try:
            found = log_scan.leaks(logs, store, private_keys)
        finally:
            store.close()
        assert not found, f"credential material in the logs of {self.base_url}: {found}"
        for value in self.secrets:
            for piece in secret_pieces(value):
                where = logs.find(piece)
                assert where < 0, (
                    f"secret material in the logs of {self.base_url}: "
                    f"...{logs[max(0, where - 80) : where + 80]!r}..."
                )


def secret_pieces(value: str) -> list[str]:
    """The parts of a secret that must not appear: the whole, and each distinctive part."""
    if "PRIVATE KEY" in value:
        lines = [x for x in value.splitlines() if x and "PRIVATE KEY" not in x]
        return ["".join(lines), *lines]
    if value.count(".") == 2:  # a JWT: its payload and signature are each distinctive
        # (An unsigned `alg: none` assertion has an empty signature: nothing to look for.)
        return [value, *[part for part in value.split(".")[1:] if len(part) >= 16]]
    return [value]


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def call(
    server: AuthServer,
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    source: str | None = None,
) -> Response:
    """One HTTP request, optionally from another loopback source address (127.0.0.x)."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=60, source_address=(source, 0) if source else None
    )
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode())
    finally:
        conn.close()


def sign(key: dict[str, Any], headers: dict[str, Any] | None = None, **claims: Any) -> str:
    """An RS256 assertion like google-auth's, signed with the key; claims override defaults."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iat": now,
        "exp": now + 3600,
        "iss": key["client_email"],
        "aud": GOOGLE_TOKEN_AUDIENCE,
        "scope": EE_SCOPE,
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    all_headers = {"kid": key["private_key_id"], **(headers or {})}
    return jwt.encode(payload, key["private_key"], algorithm="RS256", headers=all_headers)


@contextmanager
def launch(root: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[AuthServer]:
    """Starts `python -m openee serve` on a free port with a fresh data dir under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    data_dir, port = root / "data", free_port()
    base_url = f"http://127.0.0.1:{port}"
    stderr_path = root / "server.stderr"
    cmd = [
        sys.executable,
        "-m",
        "openee",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *args,
    ]
    with open(root / "server.stdout", "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=err, env=server_env(env), cwd=str(root), start_new_session=True
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"openee serve exited with {proc.returncode}:\n{stderr_path.read_text()[-4000:]}"
                )
            try:
                r = requests.get(f"{base_url}/$discovery/rest", params={"version": "v1"}, timeout=2)
                if r.status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"openee serve not ready:\n{stderr_path.read_text()[-4000:]}")
            time.sleep(0.2)
        key_path = data_dir / "keys" / "default.json"
        key = json.loads(key_path.read_text())
        server = AuthServer(
            base_url, port, data_dir, stderr_path, key_path, key,
            state_dsn=Settings(
                catalog=(env or {}).get("OPENEE_CATALOG"), state=(env or {}).get("OPENEE_STATE")
            ).state_dsn,
        )  # fmt: skip
        server.secret(key["private_key"])
        yield server
        server.assert_no_secrets_in_logs()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
