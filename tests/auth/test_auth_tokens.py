"""Tests for the JWT-bearer grant and bearer authentication, driven by real google-auth."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import transport
from google.oauth2 import _client, service_account

from openee.auth import (
    GOOGLE_TOKEN_AUDIENCE,
    JWT_BEARER_GRANT_TYPE,
    AuthStore,
    InvalidGrantError,
    Principal,
    TokenService,
    create_service_account_key,
)
from openee.errors import UnauthenticatedError
from openee.statedb import StateDB

TOKEN_URI = "http://127.0.0.1:8765/token"
EE_SCOPES = [
    "https://www.googleapis.com/auth/earthengine",
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/devstorage.full_control",
]


class Clock:
    """A controllable clock, starting at the real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(state_target: Path | StateDB) -> AuthStore:
    """An auth store in a SQLite file, and in PostgreSQL."""
    return AuthStore(state_target)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(store: AuthStore, clock: Clock) -> TokenService:
    return TokenService(store, TOKEN_URI, clock=clock)


@pytest.fixture
def key(store: AuthStore) -> dict[str, Any]:
    return create_service_account_key(store, "my-proj", TOKEN_URI)


def _assertion(key: Mapping[str, Any], **kwargs: Any) -> str:
    """A real assertion made by google-auth's service-account credentials."""
    creds = service_account.Credentials.from_service_account_info(dict(key), **kwargs)
    raw = creds._make_authorization_grant_assertion()
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _form(assertion: str) -> dict[str, str]:
    return {"grant_type": JWT_BEARER_GRANT_TYPE, "assertion": assertion}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(key: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iat": now,
        "exp": now + 3600,
        "iss": key["client_email"],
        "aud": GOOGLE_TOKEN_AUDIENCE,
        "scope": "",
    }
    claims.update(overrides)
    return claims


def _rejected(service: TokenService, assertion: str) -> InvalidGrantError:
    with pytest.raises(InvalidGrantError) as info:
        service.grant(_form(assertion))
    return info.value


def test_grant_with_google_auth_assertion_and_authenticate(
    service: TokenService, key: dict[str, Any]
) -> None:
    response = service.grant(_form(_assertion(key, scopes=EE_SCOPES)))
    assert set(response) == {"access_token", "expires_in", "token_type"}
    assert response["expires_in"] == 3599
    assert response["token_type"] == "Bearer"

    principal = service.authenticate(f"Bearer {response['access_token']}")
    assert principal == Principal(
        email="openee@my-proj.iam.gserviceaccount.com",
        project="my-proj",
        scopes=tuple(EE_SCOPES),
    )
    # The scheme is case-insensitive.
    assert service.authenticate(f"bearer {response['access_token']}") == principal


def test_grant_with_empty_scope(service: TokenService, key: dict[str, Any]) -> None:
    response = service.grant(_form(_assertion(key)))
    assert service.authenticate("Bearer " + response["access_token"]).scopes == ()


def test_each_grant_issues_a_fresh_token(service: TokenService, key: dict[str, Any]) -> None:
    first = service.grant(_form(_assertion(key)))["access_token"]
    second = service.grant(_form(_assertion(key)))["access_token"]
    assert first != second
    assert len(first) >= 32


class _FakeResponse(transport.Response):
    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        self._status = status
        self._data = json.dumps(body).encode()

    @property
    def status(self) -> int:
        return self._status

    @property
    def headers(self) -> Mapping[str, str]:
        return {"content-type": "application/json"}

    @property
    def data(self) -> bytes:
        return self._data


class _InProcessTransport(transport.Request):
    """Routes google-auth's token request to a TokenService, like the HTTP layer will."""

    def __init__(self, service: TokenService) -> None:
        self.service = service
        self.token_requests = 0

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> transport.Response:
        if url != TOKEN_URI or method != "POST":
            return _FakeResponse(404, {"error": {"code": 404, "message": "Not found"}})
        self.token_requests += 1
        text = body.decode() if isinstance(body, bytes) else str(body)
        form = dict(urllib.parse.parse_qsl(text))
        try:
            return _FakeResponse(200, self.service.grant(form))
        except InvalidGrantError as exc:
            return _FakeResponse(400, exc.oauth2_body())


def test_google_auth_token_exchange_round_trip(service: TokenService, key: dict[str, Any]) -> None:
    creds = service_account.Credentials.from_service_account_info(key, scopes=EE_SCOPES)
    request = _InProcessTransport(service)
    token, expiry, _ = _client.jwt_grant(
        request, key["token_uri"], creds._make_authorization_grant_assertion()
    )
    assert request.token_requests == 1
    assert expiry is not None
    assert service.authenticate(f"Bearer {token}").email == key["client_email"]


def test_google_auth_surfaces_invalid_grant(service: TokenService, key: dict[str, Any]) -> None:
    from google.auth import exceptions

    bad = dict(key, private_key_id="0" * 40)
    creds = service_account.Credentials.from_service_account_info(bad, scopes=EE_SCOPES)
    with pytest.raises(exceptions.RefreshError, match="invalid_grant"):
        _client.jwt_grant(
            _InProcessTransport(service),
            key["token_uri"],
            creds._make_authorization_grant_assertion(),
            can_retry=False,
        )


def test_other_key_under_same_kid_is_rejected(service: TokenService, key: dict[str, Any]) -> None:
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    impostor_pem = impostor.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    forged = dict(key, private_key=impostor_pem)
    err = _rejected(service, _assertion(forged, scopes=EE_SCOPES))
    assert err.error == "invalid_grant"
    assert "Signature" in err.message


def test_alg_none_is_rejected(service: TokenService, key: dict[str, Any]) -> None:
    token = jwt.encode(
        _claims(key), key=None, algorithm="none", headers={"kid": key["private_key_id"]}
    )
    assert "RS256" in _rejected(service, token).message


def test_hs256_with_public_key_as_secret_is_rejected(
    store: AuthStore, service: TokenService, key: dict[str, Any]
) -> None:
    record = store.get_key(key["private_key_id"])
    assert record is not None
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key["private_key_id"]}).encode())
    payload = _b64(json.dumps(_claims(key)).encode())
    mac = hmac.new(record.public_pem.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    _rejected(service, f"{header}.{payload}.{_b64(mac.digest())}")


def test_rs256_header_lie_is_rejected(service: TokenService, key: dict[str, Any]) -> None:
    """A header claiming RS256 with a bogus signature."""
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": key["private_key_id"]}).encode())
    payload = _b64(json.dumps(_claims(key)).encode())
    _rejected(service, f"{header}.{payload}.{_b64(b'x' * 256)}")


def test_expired_assertion_is_rejected(
    service: TokenService, clock: Clock, key: dict[str, Any]
) -> None:
    assertion = _assertion(key, scopes=EE_SCOPES)
    clock.now += 3600 + 61
    assert "short-lived" in _rejected(service, assertion).message


def test_assertion_within_clock_skew_is_accepted(
    service: TokenService, clock: Clock, key: dict[str, Any]
) -> None:
    assertion = _assertion(key)
    clock.now -= 30  # The client's clock runs 30 s ahead of ours.
    assert service.grant(_form(assertion))["token_type"] == "Bearer"


def test_future_and_long_lived_assertions_are_rejected(
    service: TokenService, clock: Clock, key: dict[str, Any]
) -> None:
    assertion = _assertion(key)
    clock.now -= 600  # Issued ten minutes in our future.
    _rejected(service, assertion)
    clock.now += 600

    now = int(clock.now)
    long_lived = _assertion(key, additional_claims={"iat": now, "exp": now + 24 * 3600})
    _rejected(service, long_lived)


def test_unknown_kid_is_rejected(service: TokenService, key: dict[str, Any]) -> None:
    _rejected(service, _assertion(dict(key, private_key_id="f" * 40)))


def test_missing_kid_is_rejected(service: TokenService, key: dict[str, Any]) -> None:
    no_kid = {k: v for k, v in key.items() if k != "private_key_id"}
    _rejected(service, _assertion(no_kid))


def test_revoked_key_is_rejected(
    store: AuthStore, service: TokenService, key: dict[str, Any]
) -> None:
    assert store.revoke_key(key["private_key_id"])
    _rejected(service, _assertion(key))


def test_wrong_audience_is_rejected(service: TokenService, key: dict[str, Any]) -> None:
    assertion = _assertion(key, additional_claims={"aud": "https://evil.example/token"})
    assert "aud" in _rejected(service, assertion).message


def test_own_token_url_is_accepted_as_audience(service: TokenService, key: dict[str, Any]) -> None:
    assertion = _assertion(key, additional_claims={"aud": TOKEN_URI})
    assert service.grant(_form(assertion))["expires_in"] == 3599


def test_issuer_must_own_the_key(
    store: AuthStore, service: TokenService, key: dict[str, Any]
) -> None:
    other = create_service_account_key(store, "my-proj", TOKEN_URI, account_name="other")
    # Signed with `other`'s key but claiming to be the first account.
    mixed = dict(other, client_email=key["client_email"])
    assert "iss" in _rejected(service, _assertion(mixed)).message


def test_subject_delegation_is_rejected(service: TokenService, key: dict[str, Any]) -> None:
    _rejected(service, _assertion(key, subject="someone@example.com"))


def test_disabled_account_cannot_get_or_use_tokens(
    store: AuthStore, service: TokenService, key: dict[str, Any]
) -> None:
    token = service.grant(_form(_assertion(key)))["access_token"]
    store.set_account_disabled(key["client_email"], True)
    _rejected(service, _assertion(key))
    with pytest.raises(UnauthenticatedError):
        service.authenticate(f"Bearer {token}")


def test_bad_requests(service: TokenService, key: dict[str, Any]) -> None:
    with pytest.raises(InvalidGrantError) as info:
        service.grant({"grant_type": "client_credentials", "assertion": _assertion(key)})
    assert info.value.error == "unsupported_grant_type"
    assert info.value.http_status == 400
    assert info.value.oauth2_body()["error"] == "unsupported_grant_type"

    with pytest.raises(InvalidGrantError) as info:
        service.grant({"grant_type": JWT_BEARER_GRANT_TYPE})
    assert info.value.error == "invalid_request"

    err = _rejected(service, "not-a-jwt")
    assert err.oauth2_body() == {"error": "invalid_grant", "error_description": err.message}


def test_expired_access_token_is_unauthenticated(
    store: AuthStore, clock: Clock, key: dict[str, Any]
) -> None:
    service = TokenService(store, TOKEN_URI, ttl_seconds=60, clock=clock)
    response = service.grant(_form(_assertion(key)))
    assert response["expires_in"] == 59
    header = f"Bearer {response['access_token']}"
    assert service.authenticate(header).project == "my-proj"
    clock.now += 61
    with pytest.raises(UnauthenticatedError, match="invalid authentication credentials") as info:
        service.authenticate(header)
    assert info.value.http_status == 401


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "missing required authentication credential"),
        ("", "missing required authentication credential"),
        ("Basic dXNlcjpwYXNz", "invalid authentication credentials"),
        ("Bearer", "invalid authentication credentials"),
        ("Bearer not-a-real-token", "invalid authentication credentials"),
    ],
)
def test_authenticate_rejects_bad_headers(
    service: TokenService, header: str | None, expected: str
) -> None:
    with pytest.raises(UnauthenticatedError, match=expected):
        service.authenticate(header)


def test_revoked_access_token_is_unauthenticated(
    store: AuthStore, service: TokenService, key: dict[str, Any]
) -> None:
    token = service.grant(_form(_assertion(key)))["access_token"]
    assert store.revoke_token(token)
    with pytest.raises(UnauthenticatedError):
        service.authenticate(f"Bearer {token}")


def test_issued_token_is_stored_only_as_hash(
    store: AuthStore, service: TokenService, key: dict[str, Any]
) -> None:
    token = service.grant(_form(_assertion(key)))["access_token"]
    if store.path is not None:  # SQLite: every byte of the file and its WAL
        files = [p for p in store.path.parent.glob(store.path.name + "*") if p.is_file()]
        data = b"".join(p.read_bytes() for p in files)
    else:  # PostgreSQL: every value of every row
        with store.connect(write=False) as conn:
            data = repr(conn.execute("SELECT * FROM access_tokens").fetchall()).encode()
    assert token.encode() not in data
    assert hashlib.sha256(token.encode()).hexdigest().encode() in data
