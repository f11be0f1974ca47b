"""Failed-authentication rate limit against a live server: more than 20 failures a minute per
client address or per account answer 429 with Retry-After, on /token and on API routes.

Requests come from distinct loopback source addresses (127.0.0.x) so that each test has its
own client address; the server listens on 127.0.0.1.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_server import AuthServer, Response, launch, sign

LIMIT = 20


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    with launch(tmp_path_factory.mktemp("auth-ratelimit")) as server:
        yield server


def assert_429(response: Response) -> None:
    assert response.status == 429, response.text
    assert 0 < int(response.headers["retry-after"]) <= 60


def test_bearer_failures_per_client_address(srv: AuthServer) -> None:
    source = "127.0.0.3"
    good = srv.token(srv.key)
    for _ in range(LIMIT):
        assert srv.get_api(secrets.token_urlsafe(32), source).status == 401
    response = srv.get_api(secrets.token_urlsafe(32), source)
    assert_429(response)
    assert response.headers["retry-after"] == "60"
    assert response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    # Blocked: a valid token from that address, and the token endpoint, answer 429 too.
    assert_429(srv.get_api(good, source))
    token_response = srv.post_token(sign(srv.key), source)
    assert_429(token_response)
    assert token_response.json()["error"] == "rate_limited"
    # Other addresses are unaffected.
    assert srv.get_api(good, "127.0.0.4").status == 200


def test_token_failures_per_client_address(srv: AuthServer) -> None:
    source = "127.0.0.5"
    bad = "not-a-jwt"  # names no account: only the address is counted
    for _ in range(LIMIT):
        assert srv.post_token(bad, source).status == 400
    assert_429(srv.post_token(bad, source))
    assert_429(srv.post_token(sign(srv.key), source))
    assert srv.post_token(sign(srv.key), "127.0.0.6").status == 200


def test_token_failures_per_account(srv: AuthServer, tmp_path: Path) -> None:
    victim = srv.new_key("hammered-acct", tmp_path / "victim.json")
    bystander = srv.new_key("bystander-acct", tmp_path / "bystander.json")
    bad = sign(victim, aud="https://evil.example/token")
    # One failure from each of 21 addresses: no address is over the limit, the account is.
    for i in range(LIMIT):
        assert srv.post_token(bad, f"127.0.1.{i + 1}").status == 400
    assert_429(srv.post_token(bad, "127.0.1.100"))
    before = srv.count_tokens()
    assert_429(srv.post_token(sign(victim), "127.0.1.101"))
    assert srv.count_tokens() == before
    assert srv.post_token(sign(bystander), "127.0.1.101").status == 200


def test_a_stranger_cannot_lock_an_account_out(srv: AuthServer, tmp_path: Path) -> None:
    """Assertions that only claim an account (its e-mail and key id, signed with some other key)
    count against their senders' addresses, never against the account (ADR 0009)."""
    victim = srv.new_key("claimed-acct", tmp_path / "victim.json")
    stranger = srv.new_key("stranger-acct", tmp_path / "stranger.json")
    forged = [
        # The victim's e-mail and key id, signed with the stranger's private key.
        sign(stranger, headers={"kid": victim["private_key_id"]}, iss=victim["client_email"]),
        # The victim's e-mail with a key id nobody has.
        sign(stranger, headers={"kid": "e" * 40}, iss=victim["client_email"]),
    ]
    for i in range(3 * LIMIT):
        response = srv.post_token(forged[i % 2], f"127.0.2.{i + 1}")
        assert response.status == 400, response.text
    before = srv.count_tokens()
    response = srv.post_token(sign(victim), "127.0.2.200")
    assert response.status == 200, response.text
    assert srv.count_tokens() == before + 1
    # The stock client, from the address the server sees by default, is not blocked either.
    assert srv.get_api(srv.token(victim)).status == 200
