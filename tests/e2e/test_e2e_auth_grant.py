"""The token endpoint against a live server: stock clients get tokens; hostile grants get 400.

Each refusal case (issue 4 item 2, and every other reason the endpoint refuses) is one test: it
asserts the exact status and OAuth 2 error, that the token store holds no new token, and that
the server logged the refusal with its reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from auth_server import (
    EE_READONLY_SCOPE,
    EE_SCOPE,
    AuthServer,
    Response,
    launch,
    server_env,
    sign,
)

from openee.auth import GOOGLE_TOKEN_AUDIENCE


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    # Many refusals in a row from one address: lift the failure limit for this module.
    root = tmp_path_factory.mktemp("auth-grant")
    with launch(root, env={"OPENEE_AUTH_MAX_FAILURES": "1000"}) as server:
        yield server


class KeyServer:
    """A local HTTP server standing in for a `jku` / `x5u` URL; counts requests."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"keys": []}')

            def log_message(self, *args: Any) -> None:
                pass

        self.hits = hits
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/keys"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.close()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(key: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    c = {"iat": now, "exp": now + 3600, "iss": key["client_email"], "aud": GOOGLE_TOKEN_AUDIENCE}
    c.update(overrides)
    return c


def alg_none(srv: AuthServer, tmp: Path) -> str:
    header = b64(
        json.dumps({"alg": "none", "typ": "JWT", "kid": srv.key["private_key_id"]}).encode()
    )
    return f"{header}.{b64(json.dumps(claims(srv.key)).encode())}."


def hs256_with_public_key(srv: AuthServer, tmp: Path) -> str:
    record = srv.store().get_key(srv.key["private_key_id"])
    assert record is not None
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": record.kid}).encode())
    payload = b64(json.dumps(claims(srv.key)).encode())
    mac = hmac.new(record.public_pem.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{b64(mac.digest())}"


def disabled_account(srv: AuthServer, tmp: Path) -> str:
    key = srv.new_key("disabled-acct", tmp / "disabled.json")
    assert srv.cli("service-accounts", "disable", key["client_email"]) == 0
    return sign(key)


def revoked_key(srv: AuthServer, tmp: Path) -> str:
    key = srv.new_key("revoked-acct", tmp / "revoked.json")
    assert srv.cli("keys", "revoke", key["private_key_id"]) == 0
    return sign(key)


def now() -> int:
    return int(time.time())


# (case id, how to build the assertion, the reason the server must log)
CASES: list[tuple[str, Callable[[AuthServer, Path], str], str]] = [
    ("alg-none", alg_none, "alg"),
    ("hs256-signed-with-public-key", hs256_with_public_key, "alg"),
    ("unknown-kid", lambda s, t: sign(s.key, headers={"kid": "f" * 40}), "kid_unknown"),
    ("kid-path", lambda s, t: sign(s.key, headers={"kid": "../../keys/default.json"}), "kid_invalid"),
    ("kid-sql", lambda s, t: sign(s.key, headers={"kid": "x' OR '1'='1"}), "kid_invalid"),
    ("exp-61s-past", lambda s, t: sign(s.key, iat=now() - 3661, exp=now() - 61), "expired"),
    ("exp-minus-iat-over-3600", lambda s, t: sign(s.key, iat=now(), exp=now() + 3601), "lifetime"),
    ("iat-future", lambda s, t: sign(s.key, iat=now() + 120, exp=now() + 1200), "iat_future"),
    ("nbf-future", lambda s, t: sign(s.key, nbf=now() + 120), "nbf_future"),
    ("unknown-iss", lambda s, t: sign(s.key, iss=f"ghost@{s.project}.iam.gserviceaccount.com"), "iss"),
    ("disabled-account", disabled_account, "account_disabled"),
    ("revoked-key", revoked_key, "key_revoked"),
    ("foreign-aud", lambda s, t: sign(s.key, aud="https://evil.example/token"), "aud"),
    ("over-8kb", lambda s, t: sign(s.key, pad="x" * 8192), "too_large"),
    ("not-a-jwt", lambda s, t: "not-a-jwt", "malformed"),
    ("kid-missing", lambda s, t: jwt.encode(claims(s.key), s.key["private_key"], "RS256"), "kid_missing"),
    ("jwk-header", lambda s, t: sign(s.key, headers={"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}), "header_jwk"),
    ("x5c-header", lambda s, t: sign(s.key, headers={"x5c": ["MIIB"]}), "header_x5c"),
    ("crit-header", lambda s, t: sign(s.key, headers={"crit": ["exp"]}), "header_crit"),
    ("sub-delegation", lambda s, t: sign(s.key, sub="someone@example.com"), "sub"),
    ("times-missing", lambda s, t: sign(s.key, iat=None, exp=None), "times_missing"),
    ("jti-malformed", lambda s, t: sign(s.key, jti=12345), "jti"),
    ("iss-not-owning-the-key", lambda s, t: sign(s.key, iss=disabled_or_other(s, t)), "iss"),
]  # fmt: skip


def disabled_or_other(srv: AuthServer, tmp: Path) -> str:
    """The e-mail of another real, active account: it does not own the signing key."""
    return str(srv.new_key("other-owner", tmp / "other.json")["client_email"])


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "client_credentials", "assertion": "x"}, "unsupported_grant_type"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}, "invalid_request"),
    ],
    ids=["wrong-grant-type", "no-assertion"],
)
def test_refused_form(srv: AuthServer, form: dict[str, str], error: str) -> None:
    before = srv.count_tokens()
    response = requests.post(srv.token_url, data=form, timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    assert "access_token" not in response.json()
    assert srv.count_tokens() == before


def assert_refused(srv: AuthServer, response: Response, before: int, reason: str) -> None:
    assert response.status == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_grant"
    assert isinstance(body["error_description"], str)
    assert "access_token" not in body
    assert response.headers["cache-control"] == "no-store"
    assert srv.count_tokens() == before
    deadline = time.monotonic() + 5
    while not any(r["reason"] == reason for r in srv.log_events("token.rejected")):
        assert time.monotonic() < deadline, f"refusal '{reason}' not logged"
        time.sleep(0.05)


@pytest.mark.parametrize(("build", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_grant(
    srv: AuthServer, tmp_path: Path, build: Callable[[AuthServer, Path], str], reason: str
) -> None:
    assertion = build(srv, tmp_path)
    before = srv.count_tokens()
    assert_refused(srv, srv.post_token(assertion), before, reason)


@pytest.mark.parametrize("header", ["jku", "x5u"])
def test_key_url_header_is_refused_and_never_fetched(
    srv: AuthServer, key_server: KeyServer, header: str
) -> None:
    before = srv.count_tokens()
    response = srv.post_token(sign(srv.key, headers={header: key_server.url}))
    assert_refused(srv, response, before, f"header_{header}")
    time.sleep(0.2)
    assert key_server.hits == []


def test_reused_jti_is_refused(srv: AuthServer) -> None:
    assertion = sign(srv.key, jti="once-only")
    before = srv.count_tokens()
    assert srv.post_token(assertion).status == 200
    assert srv.count_tokens() == before + 1
    assert_refused(srv, srv.post_token(assertion), before + 1, "jti_reused")


@pytest.mark.parametrize("aud", ["google", "own"])
def test_both_audiences_are_accepted(srv: AuthServer, aud: str) -> None:
    before = srv.count_tokens()
    response = srv.post_token(
        sign(srv.key, aud=GOOGLE_TOKEN_AUDIENCE if aud == "google" else srv.token_url)
    )
    assert response.status == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599
    assert srv.count_tokens() == before + 1


def test_google_auth_authorized_session(srv: AuthServer) -> None:
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    creds = service_account.Credentials.from_service_account_file(
        str(srv.key_path), scopes=[EE_READONLY_SCOPE]
    )
    with AuthorizedSession(creds) as session:
        response = session.get(srv.api_url)
    srv.secret(str(creds.token))
    assert response.status_code == 200
    assert "algorithms" in response.json()


EE_SCRIPT = """
import json, os, sys, ee
base_url, key_path, mode = sys.argv[1:4]
project = json.load(open(key_path))["project_id"]
if mode == "service-account":
    ee.Initialize(ee.ServiceAccountCredentials(None, key_path), project=project, url=base_url)
else:  # application-default credentials from GOOGLE_APPLICATION_CREDENTIALS
    ee.Initialize(project=project, url=base_url)
print(json.dumps({"sum": ee.Number(1).add(2).getInfo()}))
"""


@pytest.mark.parametrize("mode", ["service-account", "application-default"])
def test_stock_ee_client(srv: AuthServer, tmp_path: Path, mode: str) -> None:
    env = server_env({"HOME": str(tmp_path)})  # no ~/.config/earthengine credentials
    env.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    if mode == "application-default":
        env["GOOGLE_APPLICATION_CREDENTIALS"] = str(srv.key_path)
    grants = len(srv.log_events("token.grant"))
    result = subprocess.run(
        [sys.executable, "-c", EE_SCRIPT, srv.base_url, str(srv.key_path), mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == {"sum": 3}
    assert len(srv.log_events("token.grant")) > grants
    assert os.path.exists(srv.audit_path)


# google.auth.default() with GOOGLE_APPLICATION_CREDENTIALS naming a key file, as any Google
# client library finds credentials; with no scopes asked, the token may read but not write.
ADC_SCRIPT = """
import json, sys, google.auth
from google.auth.transport.requests import AuthorizedSession
api_url, write_url, scopes = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
credentials, project = google.auth.default(scopes=scopes or None)
with AuthorizedSession(credentials) as session:
    read = session.get(api_url).status_code
    write = session.post(write_url, params={"assetId": "adc-" + str(len(scopes))},
                         json={"type": "FOLDER"}).status_code
print(json.dumps({"project": project, "email": credentials.service_account_email,
                  "read": read, "write": write, "token": credentials.token}))
"""


@pytest.mark.parametrize("scopes", [[EE_SCOPE], []], ids=["earthengine-scope", "no-scopes"])
def test_google_auth_default_application_credentials(
    srv: AuthServer, tmp_path: Path, scopes: list[str]
) -> None:
    env = server_env({"HOME": str(tmp_path), "GOOGLE_APPLICATION_CREDENTIALS": str(srv.key_path)})
    grants = len(srv.log_events("token.grant"))
    write_url = f"{srv.base_url}/v1/projects/{srv.project}/assets"
    result = subprocess.run(
        [sys.executable, "-c", ADC_SCRIPT, srv.api_url, write_url, json.dumps(scopes)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.splitlines()[-1])
    srv.secret(out["token"])
    assert out["project"] == srv.project
    assert out["email"] == srv.key["client_email"]
    assert out["read"] == 200
    assert out["write"] == (200 if scopes else 403)
    assert len(srv.log_events("token.grant")) == grants + 1
