"""Access tokens against a live server: format and storage, the forged-token suite (401), expiry,
revocation, and the stock ee client refreshing and retrying after a 401."""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_server import AuthServer, launch, server_env, sign

TTL_S = 2


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    with launch(tmp_path_factory.mktemp("auth-tokens")) as server:
        yield server


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    """Another openee instance, with its own accounts and keys."""
    with launch(tmp_path_factory.mktemp("auth-tokens-other")) as server:
        yield server


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    """A server issuing tokens that live two seconds."""
    root = tmp_path_factory.mktemp("auth-tokens-short")
    with launch(root, env={"OPENEE_TOKEN_TTL": str(TTL_S)}) as server:
        yield server


def assert_401(srv: AuthServer, token: str) -> None:
    response = srv.get_api(token)
    assert response.status == 401, response.text
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"


def test_token_is_opaque_random_and_stored_hashed(srv: AuthServer) -> None:
    token = srv.token(srv.key)
    assert srv.get_api(token).status == 200
    # 32 random bytes, URL-safe base64 without padding: 43 characters, 256 bits.
    assert len(token) >= 43 and token.count(".") == 0
    data = b"".join(p.read_bytes() for p in srv.data_dir.glob("auth.sqlite*") if p.is_file())
    assert token.encode() not in data
    assert hashlib.sha256(token.encode()).hexdigest().encode() in data


def test_forged_random_token(srv: AuthServer) -> None:
    assert_401(srv, secrets.token_urlsafe(32))


def test_forged_truncated_token(srv: AuthServer) -> None:
    assert_401(srv, srv.token(srv.key)[:-1])


def test_token_of_another_openee_instance(srv: AuthServer, other: AuthServer) -> None:
    foreign = other.token(other.key)
    srv.secret(foreign)
    assert other.get_api(foreign).status == 200
    assert_401(srv, foreign)


def test_expired_token(short: AuthServer) -> None:
    response = short.post_token(sign(short.key))
    assert response.json()["expires_in"] == TTL_S - 1
    token = response.json()["access_token"]
    assert short.get_api(token).status == 200
    time.sleep(TTL_S + 0.5)
    assert_401(short, token)


def test_token_revoked_with_the_cli(srv: AuthServer, tmp_path: Path) -> None:
    """`openee keys revoke` on a running server's data dir revokes the key's tokens at once."""
    key = srv.new_key("rotated-acct", tmp_path / "rotated.json")
    spare = srv.new_key("rotated-acct", tmp_path / "spare.json")
    token, spare_token = srv.token(key), srv.token(spare)
    assert srv.get_api(token).status == 200
    result = subprocess.run(
        [sys.executable, "-m", "openee", "keys", "revoke", key["private_key_id"],
         "--data-dir", str(srv.data_dir)],
        env=server_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["revoked"] is True
    assert_401(srv, token)
    assert srv.get_api(spare_token).status == 200  # the account's other key still works


def test_disabled_account_token(srv: AuthServer, tmp_path: Path) -> None:
    key = srv.new_key("soon-disabled", tmp_path / "k.json")
    token = srv.token(key)
    assert srv.get_api(token).status == 200
    assert srv.cli("service-accounts", "disable", key["client_email"]) == 0
    assert_401(srv, token)


# Runs the stock ee client against the server. Between calls the token the client holds is
# invalidated server-side (revoked, or expired as a client with a slow clock would see); the
# client must get a 401, refresh at the token endpoint and retry, unnoticed by the caller.
REFRESH_SCRIPT = """
import json, sqlite3, sys, time, ee
from openee.auth import AuthStore, hash_token
base_url, key_path, data_dir = sys.argv[1:4]
project = json.load(open(key_path))["project_id"]
credentials = ee.ServiceAccountCredentials(None, key_path)
ee.Initialize(credentials, project=project, url=base_url)
tokens = []
assert ee.Number(1).add(1).getInfo() == 2
tokens.append(credentials.token)
AuthStore(data_dir + "/auth.sqlite").revoke_token(credentials.token)
assert ee.Number(2).add(2).getInfo() == 4
tokens.append(credentials.token)
with sqlite3.connect(data_dir + "/auth.sqlite") as conn:
    conn.execute("UPDATE access_tokens SET expires_at = ? WHERE token_hash = ?",
                 (time.time() - 1, hash_token(credentials.token)))
assert ee.Number(3).add(3).getInfo() == 6
tokens.append(credentials.token)
print(json.dumps({"tokens": tokens}))
"""


def run_ee(srv: AuthServer, script: str, tmp_path: Path) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", script, srv.base_url, str(srv.key_path), str(srv.data_dir)],
        env=server_env({"HOME": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out: dict[str, list[str]] = json.loads(result.stdout.splitlines()[-1])
    for token in out["tokens"]:
        srv.secret(token)
    return out


def test_ee_client_refreshes_and_retries_after_401(srv: AuthServer, tmp_path: Path) -> None:
    statuses_before = len(srv.log_events("bearer.rejected"))
    tokens = run_ee(srv, REFRESH_SCRIPT, tmp_path)["tokens"]
    assert len(set(tokens)) == 3  # a fresh token after each invalidation
    rejected = srv.log_events("bearer.rejected")[statuses_before:]
    assert [r["reason"] for r in rejected] == ["unknown_revoked_or_expired"] * 2


SHORT_TTL_SCRIPT = """
import json, sys, time, ee
base_url, key_path, data_dir = sys.argv[1:4]
project = json.load(open(key_path))["project_id"]
credentials = ee.ServiceAccountCredentials(None, key_path)
ee.Initialize(credentials, project=project, url=base_url)
tokens = []
for i in range(3):
    assert ee.Number(i).add(1).getInfo() == i + 1
    tokens.append(credentials.token)
    time.sleep(%s)
print(json.dumps({"tokens": tokens}))
""" % (TTL_S + 0.5)


def test_ee_client_with_short_lived_tokens(short: AuthServer, tmp_path: Path) -> None:
    tokens = run_ee(short, SHORT_TTL_SCRIPT, tmp_path)["tokens"]
    # Each call found its previous token expired (google-auth also refreshes early) and got a new one.
    assert len(set(tokens)) == 3
