"""No token or key material in any log: a server is driven through grants, refusals, bearer
failures, revocations and the rate limit, then its stderr and audit log are scanned for every
access token issued, every assertion sent and every private key's PEM body.

Every auth e2e server is scanned the same way when it stops (auth_server.launch), and so is
the session server when the suite ends (conftest.server): besides the secrets a test knows,
every string shaped like a token, capability id or API key is hashed and looked up among the
credentials the server issued (log_scan.py), so that a leak is found without knowing it.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from pathlib import Path

import log_scan
import requests
from auth_server import EE_SCOPE, AuthServer, bearer, launch, secret_pieces, server_env, sign

EE_SCRIPT = """
import json, sys, ee
base_url, key_path = sys.argv[1:3]
project = json.load(open(key_path))["project_id"]
credentials = ee.ServiceAccountCredentials(None, key_path)
ee.Initialize(credentials, project=project, url=base_url)
assert ee.Number(1).add(2).getInfo() == 3
print(json.dumps({"tokens": [credentials.token]}))
"""


def drive(srv: AuthServer, tmp_path: Path) -> None:
    """Exercises every path that logs something about authentication."""
    # The stock ee client, in its own process.
    result = subprocess.run(
        [sys.executable, "-c", EE_SCRIPT, srv.base_url, str(srv.key_path)],
        env=server_env({"HOME": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for token in json.loads(result.stdout.splitlines()[-1])["tokens"]:
        srv.secret(token)

    # google-auth, a second key, raw grants and refusals with validly signed assertions.
    second = srv.new_key("logged-acct", tmp_path / "second.json")
    token = srv.token(second, scopes=[EE_SCOPE])
    assert srv.get_api(token).status == 200
    for assertion in (
        sign(srv.key, aud="https://evil.example/token"),
        sign(srv.key, iat=int(time.time()) - 4000, exp=int(time.time()) - 400),
        sign(srv.key, headers={"jku": "http://127.0.0.1:9/k"}),
        sign(second, jti="j1"),
        sign(second, jti="j1"),
        sign(srv.key, pad="x" * 9000),
    ):
        srv.post_token(assertion)

    # An audited write, and a capability id (a credential) made and used.
    folder = f"projects/{srv.project}/assets/logged"
    created = requests.post(
        f"{srv.base_url}/v1/projects/{srv.project}/assets",
        params={"assetId": "logged"},
        json={"type": "FOLDER"},
        headers=bearer(token),
        timeout=60,
    )
    assert created.status_code == 200, created.text
    assert requests.delete(f"{srv.base_url}/v1/{folder}", headers=bearer(token), timeout=60).ok
    thumb = requests.post(
        f"{srv.base_url}/v1/projects/{srv.project}/thumbnails",
        json={"expression": constant_image(1), "fileFormat": "PNG"},
        headers=bearer(token),
        timeout=60,
    )
    assert thumb.status_code == 200, thumb.text
    srv.secret(thumb.json()["name"].rsplit("/", 1)[1])
    requests.get(f"{srv.base_url}/v1/{thumb.json()['name']}:getPixels", timeout=60)

    # Bearer failures with tokens that were real: truncated, revoked, expired key.
    assert srv.get_api(token[:-3]).status == 401
    assert srv.store().revoke_token(token)
    assert srv.get_api(token).status == 401
    assert srv.cli("keys", "revoke", second["private_key_id"]) == 0
    assert srv.post_token(sign(second)).status == 400

    # The rate limit, from its own address.
    for _ in range(21):
        srv.get_api(srv.secret(secrets.token_urlsafe(32)), "127.0.0.9")


def test_no_token_or_key_material_in_any_log(tmp_path: Path) -> None:
    with launch(tmp_path / "server") as srv:
        drive(srv, tmp_path)
        time.sleep(0.3)  # let the last log lines reach the file
        logs = srv.logs()

        # The logs are not trivially clean: they record what happened.
        audit = [json.loads(x) for x in srv.audit_path.read_text().splitlines()]
        grants = [e for e in audit if e["event"] == "token.grant"]
        assert len(grants) >= 3  # ee, google-auth, the first use of jti "j1"
        assert all(e["principal"] and e["project"] == srv.project and e["time"] for e in grants)
        assert {e["event"] for e in audit} >= {
            "token.rejected", "key.create", "key.revoke", "asset.create", "asset.delete"
        }  # fmt: skip
        reasons = {r["reason"] for r in srv.log_events("token.rejected")}
        assert reasons >= {"aud", "expired", "header_jku", "jti_reused", "too_large", "key_revoked"}
        assert len(srv.log_events("bearer.rejected")) >= 20

        # ... and contain none of the secrets (at least three keys, tokens, assertions).
        assert sum("PRIVATE KEY" in s for s in srv.secrets) >= 2
        assert len(srv.secrets) >= 15
        for value in srv.secrets:
            for piece in secret_pieces(value):
                assert piece not in logs

        # The scan that needs no list of secrets finds nothing here, and does find credentials
        # the server issued when they are put into a log text.
        db = srv.data_dir / "auth.sqlite"
        keys = [s for s in srv.secrets if "PRIVATE KEY" in s]
        assert log_scan.leaks(logs, db, keys) == []
        live_token = srv.token(srv.key)
        capability = thumb_id(srv)
        for leaked in (
            f'{{"event": "x", "detail": "Bearer {live_token}"}}',
            f"GET /v1/projects/p/thumbnails/{capability}:getPixels",
            f"assertion={sign(srv.key)}",
            f"key line {keys[0].splitlines()[3]}",
        ):
            assert log_scan.leaks(leaked, db, keys), leaked


def constant_image(value: int) -> dict[str, object]:
    """`ee.Image.constant(value)` as the stock client serializes it."""
    call = {"functionName": "Image.constant", "arguments": {"value": {"constantValue": value}}}
    return {"result": "0", "values": {"0": {"functionInvocationValue": call}}}


def thumb_id(srv: AuthServer) -> str:
    """A live thumbnail id, read back from the log scan's own view: the newest capability."""
    token = srv.token(srv.key)
    response = requests.post(
        f"{srv.base_url}/v1/projects/{srv.project}/thumbnails",
        json={"expression": constant_image(2), "fileFormat": "PNG"},
        headers=bearer(token),
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return srv.secret(response.json()["name"].rsplit("/", 1)[1])


def test_session_server_logs_hold_no_credentials(server, authed_session) -> None:
    """The logs the session server has written so far (the rest is scanned when it stops)."""
    api = f"{server.base_url}/v1/projects/{server.project}/algorithms"
    assert authed_session.get(api).status_code == 200
    time.sleep(0.3)  # let the log lines reach the file
    root = server.stderr_path.parent
    logs = log_scan.server_logs(root / "server.stdout", server.stderr_path, server.data_dir)
    assert "token.grant" in logs  # the log is not empty
    found = log_scan.leaks(logs, server.data_dir / "auth.sqlite", [server.key["private_key"]])
    assert found == []
