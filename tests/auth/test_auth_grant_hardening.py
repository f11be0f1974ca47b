"""The token endpoint's refusals (issue 4 item 2) at the TokenService level, with a fixed clock.

Each refusal must raise `invalid_grant`, store no token, be logged with its reason and without
the assertion, and be counted by the failure limiter. The HTTP status of each case is asserted
against a live server in tests/e2e/test_e2e_auth_grant.py.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import jwt
import pytest

from openee.auth import (
    GOOGLE_TOKEN_AUDIENCE,
    JWT_BEARER_GRANT_TYPE,
    AuditLog,
    AuthStore,
    FailureLimiter,
    InvalidGrantError,
    TokenService,
    TooManyFailuresError,
    create_service_account_key,
)
from openee.statedb import StateDB

TOKEN_URI = "http://127.0.0.1:8765/token"
NOW = 1_800_000_000  # a fixed, whole-second "now" so that boundaries are exact


class FixedClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(state_target: Path | StateDB) -> AuthStore:
    """An auth store in a SQLite file, and in PostgreSQL."""
    return AuthStore(state_target)


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.log")


@pytest.fixture
def service(store: AuthStore, audit: AuditLog) -> TokenService:
    limiter = FailureLimiter(max_failures=1000)
    return TokenService(store, TOKEN_URI, clock=FixedClock(NOW), limiter=limiter, audit=audit)


@pytest.fixture
def key(store: AuthStore) -> dict[str, Any]:
    return create_service_account_key(store, "my-proj", TOKEN_URI)


def sign(key: dict[str, Any], headers: dict[str, Any] | None = None, **claims: Any) -> str:
    """An RS256 assertion signed with the key's private key; claims override the defaults."""
    payload: dict[str, Any] = {
        "iat": NOW,
        "exp": NOW + 3600,
        "iss": key["client_email"],
        "aud": GOOGLE_TOKEN_AUDIENCE,
        "scope": "https://www.googleapis.com/auth/earthengine",
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    all_headers = {"kid": key["private_key_id"], **(headers or {})}
    return jwt.encode(payload, key["private_key"], algorithm="RS256", headers=all_headers)


def form(assertion: str) -> dict[str, str]:
    return {"grant_type": JWT_BEARER_GRANT_TYPE, "assertion": assertion}


def refused(service: TokenService, store: AuthStore, assertion: str, reason: str) -> None:
    before = store.count_tokens()
    with pytest.raises(InvalidGrantError) as info:
        service.grant(form(assertion), client="10.0.0.7")
    assert info.value.error == "invalid_grant"
    assert info.value.http_status == 400
    assert info.value.reason == reason
    assert store.count_tokens() == before


def granted(service: TokenService, store: AuthStore, assertion: str) -> None:
    before = store.count_tokens()
    assert service.grant(form(assertion))["token_type"] == "Bearer"
    assert store.count_tokens() == before + 1


# Clock skew is exactly ±60 s: 60 s is tolerated, 61 s is not.


def test_exp_60_seconds_in_the_past_is_accepted(service, store, key) -> None:
    granted(service, store, sign(key, iat=NOW - 3600 - 60, exp=NOW - 60))


def test_exp_61_seconds_in_the_past_is_refused(service, store, key) -> None:
    refused(service, store, sign(key, iat=NOW - 3600 - 61, exp=NOW - 61), "expired")


def test_iat_60_seconds_in_the_future_is_accepted(service, store, key) -> None:
    granted(service, store, sign(key, iat=NOW + 60, exp=NOW + 600))


def test_iat_61_seconds_in_the_future_is_refused(service, store, key) -> None:
    refused(service, store, sign(key, iat=NOW + 61, exp=NOW + 600), "iat_future")


def test_nbf_60_seconds_in_the_future_is_accepted(service, store, key) -> None:
    granted(service, store, sign(key, nbf=NOW + 60))


def test_nbf_61_seconds_in_the_future_is_refused(service, store, key) -> None:
    refused(service, store, sign(key, nbf=NOW + 61), "nbf_future")


def test_lifetime_of_3600_seconds_is_accepted(service, store, key) -> None:
    granted(service, store, sign(key, iat=NOW, exp=NOW + 3600))


def test_lifetime_of_3601_seconds_is_refused(service, store, key) -> None:
    refused(service, store, sign(key, iat=NOW, exp=NOW + 3601), "lifetime")


@pytest.mark.parametrize("claim", ["iat", "exp"])
def test_missing_time_claim_is_refused(service, store, key, claim: str) -> None:
    refused(service, store, sign(key, **{claim: None}), "times_missing")


@pytest.mark.parametrize("name", ["jku", "x5u", "jwk", "x5c"])
def test_key_locating_header_is_refused(service, store, key, name: str) -> None:
    value: Any = "http://127.0.0.1:9/keys" if name in ("jku", "x5u") else {"kty": "RSA"}
    if name == "x5c":
        value = ["MIIB"]
    refused(service, store, sign(key, headers={name: value}), f"header_{name}")


def test_crit_header_is_refused(service, store, key) -> None:
    refused(service, store, sign(key, headers={"crit": ["exp"]}), "header_crit")


@pytest.mark.parametrize(
    "kid",
    [
        "../../../etc/passwd",
        "x' OR '1'='1",
        "a;DROP TABLE service_account_keys;--",
        "k/..",
        "%2e%2e",
    ],
)
def test_kid_with_path_or_sql_characters_is_refused(service, store, key, kid: str) -> None:
    refused(service, store, sign(key, headers={"kid": kid}), "kid_invalid")
    assert store.get_key(key["private_key_id"]) is not None  # the table is intact


def test_unknown_kid_is_refused(service, store, key) -> None:
    refused(service, store, sign(key, headers={"kid": "f" * 40}), "kid_unknown")


def test_revoked_key_is_refused(service, store, key) -> None:
    store.revoke_key(key["private_key_id"])
    refused(service, store, sign(key), "key_revoked")


def test_disabled_account_is_refused(service, store, key) -> None:
    store.set_account_disabled(key["client_email"], True)
    refused(service, store, sign(key), "account_disabled")


def test_unknown_issuer_is_refused(service, store, key) -> None:
    refused(service, store, sign(key, iss="nobody@my-proj.iam.gserviceaccount.com"), "iss")


def test_foreign_audience_is_refused(service, store, key) -> None:
    refused(service, store, sign(key, aud="https://evil.example/token"), "aud")


@pytest.mark.parametrize("aud", [GOOGLE_TOKEN_AUDIENCE, TOKEN_URI])
def test_both_audiences_are_accepted(service, store, key, aud: str) -> None:
    granted(service, store, sign(key, aud=aud))


def test_reused_jti_is_refused_within_its_lifetime(service, store, key) -> None:
    assertion = sign(key, jti="assertion-1")
    granted(service, store, assertion)
    refused(service, store, assertion, "jti_reused")
    # Another jti, and the same jti from another account, are fine.
    granted(service, store, sign(key, jti="assertion-2"))
    other = create_service_account_key(store, "my-proj", TOKEN_URI, account_name="other")
    granted(service, store, sign(other, jti="assertion-1"))


def test_jti_is_forgotten_once_the_assertion_has_expired(store, key) -> None:
    clock = FixedClock(NOW)
    service = TokenService(store, TOKEN_URI, clock=clock)
    service.grant(form(sign(key, jti="j", iat=NOW, exp=NOW + 100)))
    clock.now = NOW + 100 + 61  # past exp + skew: the assertion itself is refused now
    assert store.remember_assertion(key["client_email"], "j", NOW + 9999, now=clock.now)


@pytest.mark.parametrize("jti", [17, "", "x" * 257])
def test_malformed_jti_is_refused(service, store, key, jti: Any) -> None:
    refused(service, store, sign(key, jti=jti), "jti")


def test_assertion_over_8_kb_is_refused(service, store, key) -> None:
    big = sign(key, pad="x" * 8 * 1024)
    assert len(big) > 8 * 1024
    refused(service, store, big, "too_large")


def test_assertion_just_under_8_kb_is_accepted(service, store, key) -> None:
    small = sign(key, pad="x" * 5000)
    assert len(small) <= 8 * 1024
    granted(service, store, small)


def test_refusals_are_logged_without_the_assertion(service, store, key, caplog, audit) -> None:
    assertion = sign(key, aud="https://evil.example/token")
    with caplog.at_level(logging.WARNING, logger="openee.auth"):
        refused(service, store, assertion, "aud")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "openee.auth"]
    assert json.loads(line) == {
        "event": "token.rejected",
        "reason": "aud",
        "client": "10.0.0.7",
        "iss": key["client_email"],
        "kid": key["private_key_id"],
    }
    logged = line + audit.path.read_text()
    for part in assertion.split("."):
        assert part not in logged
    assert '"event": "token.rejected"' in audit.path.read_text()


def test_hostile_kid_and_iss_are_not_echoed_into_the_log(service, store, key, caplog) -> None:
    hostile = 'x\'\n{"event": "forged"}'
    with caplog.at_level(logging.WARNING, logger="openee.auth"):
        refused(service, store, sign(key, headers={"kid": hostile}, iss=hostile), "kid_invalid")
    record = json.loads(caplog.records[-1].getMessage())
    assert record["kid"] == "<invalid>"
    assert record["iss"] == "<invalid>"


def test_grant_is_audited_without_the_token(service, store, key, audit) -> None:
    token = service.grant(form(sign(key)), client="10.0.0.8")["access_token"]
    (entry,) = [json.loads(line) for line in audit.path.read_text().splitlines()]
    assert entry["event"] == "token.grant"
    assert entry["principal"] == key["client_email"]
    assert entry["project"] == "my-proj"
    assert entry["client"] == "10.0.0.8"
    assert entry["kid"] == key["private_key_id"]
    assert entry["scopes"] == ["https://www.googleapis.com/auth/earthengine"]
    assert "time" in entry
    assert token not in audit.path.read_text()


def test_refusals_count_towards_the_failure_limit(store, key) -> None:
    service = TokenService(store, TOKEN_URI, clock=FixedClock(NOW))
    bad = sign(key, aud="https://evil.example/token")
    for _ in range(20):
        with pytest.raises(InvalidGrantError):
            service.grant(form(bad), client="10.0.0.9")
    with pytest.raises(TooManyFailuresError) as info:
        service.grant(form(bad), client="10.0.0.9")
    assert info.value.retry_after_s == 60
    assert info.value.http_status == 429
    # Blocked: even a valid assertion from that client, or for that account, is refused.
    with pytest.raises(TooManyFailuresError):
        service.grant(form(sign(key)), client="10.0.0.9")
    with pytest.raises(TooManyFailuresError):
        service.grant(form(sign(key)), client="10.0.0.10")
    assert store.count_tokens() == 0


def test_token_ttl_is_capped_at_an_hour(store) -> None:
    with pytest.raises(ValueError):
        TokenService(store, TOKEN_URI, ttl_seconds=3601)
    assert TokenService(store, TOKEN_URI, ttl_seconds=3600).ttl_seconds == 3600


def test_a_stranger_cannot_lock_an_account_out(store, key) -> None:
    """Failures count against an account only once its own active key verified the signature
    (ADR 0009): assertions that merely claim the account, from many addresses, block nobody but
    their senders."""
    service = TokenService(store, TOKEN_URI, clock=FixedClock(NOW))
    stranger = create_service_account_key(store, "other-proj", TOKEN_URI, account_name="stranger")
    # What a stranger can write without the victim's private key: the victim's e-mail as `iss`,
    # with the victim's (not secret) key id and the stranger's own signature; an unknown key id;
    # the stranger's own, valid key id.
    forged_with_victim_kid = sign({**stranger, "private_key_id": key["private_key_id"]})
    forged = [
        sign(stranger, headers={"kid": key["private_key_id"]}, iss=key["client_email"]),
        sign(key, headers={"kid": "f" * 40}),
        sign(stranger, iss=key["client_email"]),
        forged_with_victim_kid,
    ]
    for i in range(30):
        with pytest.raises(InvalidGrantError):
            service.grant(form(forged[i % len(forged)]), client=f"10.1.0.{i}")
    # The victim, from a fresh address, still gets a token.
    assert service.grant(form(sign(key)), client="10.2.0.1")["token_type"] == "Bearer"
    # The failures the stranger's own valid key signed (7 of the 30) count against the
    # stranger's account: 14 more from fresh addresses reach 21 and block it.
    for i in range(13):
        with pytest.raises(InvalidGrantError):
            service.grant(form(forged[2]), client=f"10.3.0.{i}")
    with pytest.raises(TooManyFailuresError):
        service.grant(form(forged[2]), client="10.3.1.0")
    with pytest.raises(TooManyFailuresError):
        service.grant(form(sign(stranger)), client="10.4.0.1")
    assert service.grant(form(sign(key)), client="10.4.0.1")["token_type"] == "Bearer"
