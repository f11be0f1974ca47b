"""The OAuth 2 JWT-bearer grant (RFC 7523) and bearer-token authentication.

Stock google-auth service-account credentials POST a signed JWT to the key file's `token_uri`;
`TokenService.grant` verifies it against the registered public key and issues an opaque access
token. `TokenService.authenticate` turns an `Authorization: Bearer ...` header back into a
`Principal`.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Never

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from openee.auth.audit import AuditLog
from openee.auth.ratelimit import FailureLimiter, account_key, client_key
from openee.auth.store import AuthStore, KeyRecord
from openee.errors import InvalidArgumentError, UnauthenticatedError

log = logging.getLogger("openee.auth")

JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# google-auth hard-codes this audience whatever the key file's token_uri says.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"

# Tolerated clock skew between client and server, in seconds.
CLOCK_SKEW_S = 60
# Google refuses assertions that live longer than an hour; google-auth always asks for exactly that.
MAX_ASSERTION_LIFETIME_S = 3600
# A google-auth assertion is about 800 bytes; anything past this is refused before decoding.
MAX_ASSERTION_BYTES = 8 * 1024
# Access tokens live at most this long, like Google's.
MAX_TOKEN_TTL_S = 3600
# Random bytes in an access token (256 bits).
TOKEN_BYTES = 32

SCOPE_PREFIX = "https://www.googleapis.com/auth/"
EARTHENGINE_SCOPE = SCOPE_PREFIX + "earthengine"
EARTHENGINE_READONLY_SCOPE = SCOPE_PREFIX + "earthengine.readonly"
CLOUD_PLATFORM_SCOPE = SCOPE_PREFIX + "cloud-platform"
CLOUD_PLATFORM_READONLY_SCOPE = SCOPE_PREFIX + "cloud-platform.read-only"
# Scopes that may write. Any authenticated principal may read and compute; a token carrying
# only read-only scopes (or none, as application-default credentials without scopes ask for)
# may not write.
WRITE_SCOPES = frozenset({EARTHENGINE_SCOPE, CLOUD_PLATFORM_SCOPE})

# Key ids are hex (ours) or Google-style; anything else (paths, quotes, SQL) is refused unread.
_KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
# Header parameters that point at or embed a key (RFC 7515 section 4.1). They are never
# fetched or used; their presence alone refuses the assertion (RFC 8725 section 3.10).
_KEY_LOCATING_HEADERS = ("jku", "x5u", "jwk", "x5c")
_MAX_JTI_CHARS = 256
# Only these characters of a claimed issuer reach the log.
_LOGGABLE_ISS = re.compile(r"[A-Za-z0-9._%+@-]{1,254}")

_SHORT_LIVED_MESSAGE = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)
_MISSING_CREDENTIALS_MESSAGE = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential."
)
_INVALID_CREDENTIALS_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential."
)


class InvalidGrantError(InvalidArgumentError):
    """A token request was refused.

    The HTTP layer answers 400 with the OAuth 2 error body from `oauth2_body()`, not with
    Google's API error envelope.
    """

    def __init__(self, message: str, error: str = "invalid_grant", *, reason: str = "") -> None:
        """Creates the error.

        Args:
            message: The human-readable `error_description`.
            error: The OAuth 2 error code (RFC 6749 section 5.2).
            reason: A short machine-readable cause for the log, e.g. `kid_unknown`.
        """
        super().__init__(message)
        self.error = error
        self.reason = reason or error

    def oauth2_body(self) -> dict[str, str]:
        """Returns the OAuth 2 error response body."""
        return {"error": self.error, "error_description": self.message}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of an API request."""

    email: str
    project: str
    scopes: tuple[str, ...]
    anonymous: bool = False
    # Authenticated by an API key (`?key=`) rather than a token: a read-only viewer of `project`.
    via_api_key: bool = False

    @property
    def can_write(self) -> bool:
        """Whether the principal's scopes allow writes (`earthengine` or `cloud-platform`)."""
        return any(scope in WRITE_SCOPES for scope in self.scopes)


def anonymous_principal(project: str) -> Principal:
    """Returns the principal of every request to a server started with `--no-auth`."""
    return Principal(
        email="anonymous",
        project=project,
        scopes=(EARTHENGINE_SCOPE, CLOUD_PLATFORM_SCOPE),
        anonymous=True,
    )


@dataclass
class _Attempt:
    """What is known about a token request, for the log and the rate limiter."""

    client: str | None
    iss: str | None = None
    kid: str | None = None
    limiter_keys: list[str] = field(default_factory=list)


class TokenService:
    """Issues and checks opaque access tokens for registered service accounts."""

    def __init__(
        self,
        store: AuthStore,
        token_url: str,
        ttl_seconds: int = MAX_TOKEN_TTL_S,
        *,
        clock: Callable[[], float] = time.time,
        limiter: FailureLimiter | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        """Creates the service.

        Args:
            store: Accounts, keys and issued tokens.
            token_url: This server's token endpoint; accepted as a JWT audience besides Google's.
            ttl_seconds: Lifetime of issued access tokens, 2 to 3600 seconds.
            clock: Returns the current Unix time; replaceable in tests.
            limiter: Counts failed authentications; by default 20 a minute per client address
                or account.
            audit: Where token grants and refusals are recorded; None records nothing.
        """
        if not 2 <= ttl_seconds <= MAX_TOKEN_TTL_S:
            raise ValueError(f"ttl_seconds must be between 2 and {MAX_TOKEN_TTL_S}.")
        self.store = store
        self.token_url = token_url
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self.limiter = limiter if limiter is not None else FailureLimiter()
        self.audit = audit
        self._audiences = frozenset({GOOGLE_TOKEN_AUDIENCE, token_url})

    def grant(self, form: Mapping[str, str], *, client: str | None = None) -> dict[str, Any]:
        """Handles a token request carrying an RFC 7523 JWT-bearer grant.

        Every refusal is logged (the reason, the client address, the claimed issuer and key
        id; never the assertion) and counted by the failure limiter: against the client
        address always, and against an account only when the assertion's signature verified
        with one of that account's active keys, so that nobody without a key can lock an
        account out (ADR 0009).

        Args:
            form: The decoded `application/x-www-form-urlencoded` request body.
            client: The caller's network address, for the log and the rate limiter.

        Returns:
            The OAuth 2 token response: `access_token`, `expires_in` and `token_type`.

        Raises:
            InvalidGrantError: The request or its assertion is not acceptable.
            TooManyFailuresError: The client, or the account whose key signed the assertion,
                failed too often lately.
        """
        attempt = _Attempt(client=client, limiter_keys=[client_key(client)])
        self.limiter.check(attempt.limiter_keys)
        try:
            return self._grant(form, attempt)
        except InvalidGrantError as exc:
            self._reject(exc.reason, attempt)
            self.limiter.record_failure(attempt.limiter_keys)
            raise

    def _grant(self, form: Mapping[str, str], attempt: _Attempt) -> dict[str, Any]:
        grant_type = form.get("grant_type")
        if grant_type != JWT_BEARER_GRANT_TYPE:
            raise InvalidGrantError(
                f"Invalid grant_type: {grant_type or ''}"[:200],
                error="unsupported_grant_type",
                reason="grant_type",
            )
        assertion = form.get("assertion")
        if not assertion:
            raise InvalidGrantError(
                "Missing required parameter: assertion", "invalid_request", reason="no_assertion"
            )
        if len(assertion.encode("utf-8")) > MAX_ASSERTION_BYTES:
            raise InvalidGrantError(
                f"Invalid JWT: the assertion is larger than {MAX_ASSERTION_BYTES} bytes.",
                reason="too_large",
            )
        claims, key = self._verify_assertion(assertion, attempt)
        account = self.store.get_account(key.email)
        if account is None or account.disabled:
            raise InvalidGrantError("Invalid grant: account not found", reason="account_disabled")

        now = self._clock()
        jti = claims.get("jti")
        if jti is not None:
            if not isinstance(jti, str) or not 0 < len(jti) <= _MAX_JTI_CHARS:
                raise InvalidGrantError("Invalid JWT: the jti claim is malformed.", reason="jti")
            # Remembered for as long as the assertion itself would be accepted.
            until = float(claims["exp"]) + CLOCK_SKEW_S
            if not self.store.remember_assertion(key.email, jti, until, now=now):
                raise InvalidGrantError(
                    "Invalid JWT: the assertion (jti) has already been used.", reason="jti_reused"
                )

        scopes = tuple(str(claims.get("scope") or "").split())
        access_token = secrets.token_urlsafe(TOKEN_BYTES)
        self.store.store_token(
            access_token,
            email=account.email,
            scopes=scopes,
            project=account.project,
            expires_at=now + self.ttl_seconds,
            kid=key.kid,
        )
        log.info(json.dumps({"event": "token.grant", "principal": account.email}))
        if self.audit is not None:
            self.audit.record(
                "token.grant",
                principal=account.email,
                project=account.project,
                kid=key.kid,
                scopes=list(scopes),
                client=attempt.client,
                expires_in=self.ttl_seconds - 1,
            )
        return {
            "access_token": access_token,
            "expires_in": self.ttl_seconds - 1,
            "token_type": "Bearer",
        }

    def _reject(self, reason: str, attempt: _Attempt) -> None:
        """Logs a refused token request: identifiers only, never the assertion."""
        fields = {
            "reason": reason,
            "client": attempt.client,
            "iss": attempt.iss,
            "kid": attempt.kid,
        }
        log.warning(json.dumps({"event": "token.rejected", **fields}))
        if self.audit is not None:
            self.audit.record("token.rejected", **fields)

    def _verify_assertion(
        self, assertion: str, attempt: _Attempt
    ) -> tuple[dict[str, Any], KeyRecord]:
        """Checks an assertion's header, signature and claims.

        Returns:
            The verified claims and the key that signed them.

        Raises:
            InvalidGrantError: Anything is wrong with the assertion.
            TooManyFailuresError: The signing key's account failed too often lately.
        """
        # Read without PyJWT, which refuses some hostile headers before we can name them.
        header, unverified = _unverified_part(assertion, 0), _unverified_part(assertion, 1)
        if header is None or unverified is None or assertion.count(".") != 2:
            raise InvalidGrantError(
                "Invalid JWT: could not decode the assertion.", reason="malformed"
            )
        # The claimed issuer is only logged: anybody can write any `iss`, so it is not counted
        # against that account (which would let a stranger lock it out); see below.
        claimed_iss = unverified.get("iss")
        if isinstance(claimed_iss, str) and _LOGGABLE_ISS.fullmatch(claimed_iss):
            attempt.iss = claimed_iss
        elif claimed_iss is not None:
            attempt.iss = "<invalid>"

        if header.get("alg") != "RS256":
            raise InvalidGrantError(
                "Invalid JWT: the signing algorithm must be RS256.", reason="alg"
            )
        for name in _KEY_LOCATING_HEADERS:
            if name in header:
                raise InvalidGrantError(
                    f"Invalid JWT: the '{name}' header parameter is not accepted.",
                    reason=f"header_{name}",
                )
        if "crit" in header:
            raise InvalidGrantError(
                "Invalid JWT: critical header extensions are not supported.", reason="header_crit"
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidGrantError(
                "Invalid JWT: the header has no key id (kid).", reason="kid_missing"
            )
        if not _KID_PATTERN.fullmatch(kid):
            attempt.kid = "<invalid>"
            raise InvalidGrantError("Invalid JWT Signature.", reason="kid_invalid")
        attempt.kid = kid

        key = self.store.get_key(kid)
        if key is None:
            raise InvalidGrantError("Invalid JWT Signature.", reason="kid_unknown")
        if key.revoked:
            raise InvalidGrantError("Invalid JWT Signature.", reason="key_revoked")
        public_key = load_pem_public_key(key.public_pem.encode("ascii"))
        if not isinstance(public_key, RSAPublicKey):
            raise InvalidGrantError("Invalid JWT Signature.", reason="key_type")

        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                key=public_key,
                algorithms=["RS256"],
                options={
                    "verify_signature": True,
                    # Checked below, against our own clock and with our own messages.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                    "verify_jti": False,
                    "verify_sub": False,
                },
            )
        except jwt.InvalidSignatureError as exc:
            raise InvalidGrantError("Invalid JWT Signature.", reason="signature") from exc
        except jwt.PyJWTError as exc:
            raise InvalidGrantError("Invalid JWT: malformed claims.", reason="claims") from exc

        # Signed with an active key of this account: from here on, the attempt is the
        # account's, and its failures count against it (ADR 0009). Earlier failures count
        # only against the client address.
        attempt.limiter_keys.append(account_key(key.email))
        self.limiter.check([account_key(key.email)])
        if claims.get("iss") != key.email:
            raise InvalidGrantError(
                "Invalid JWT: the issuer (iss) does not own the signing key.", reason="iss"
            )
        sub = claims.get("sub")
        if sub is not None and sub != key.email:
            raise InvalidGrantError(
                "Invalid JWT: domain-wide delegation (sub) is not supported.", reason="sub"
            )
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and a in self._audiences for a in audiences):
            raise InvalidGrantError(
                f"Invalid JWT: the audience (aud) must be '{GOOGLE_TOKEN_AUDIENCE}' "
                f"or '{self.token_url}'.",
                reason="aud",
            )
        self._check_times(claims)
        return claims, key

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        """Requires a short-lived assertion that is valid now, within exactly ±60 s of skew."""
        iat, exp = _number(claims.get("iat")), _number(claims.get("exp"))
        now = self._clock()
        if iat is None or exp is None:
            raise InvalidGrantError(_SHORT_LIVED_MESSAGE, reason="times_missing")
        if exp < now - CLOCK_SKEW_S:
            raise InvalidGrantError(_SHORT_LIVED_MESSAGE, reason="expired")
        if exp <= iat or exp - iat > MAX_ASSERTION_LIFETIME_S:
            raise InvalidGrantError(_SHORT_LIVED_MESSAGE, reason="lifetime")
        if iat > now + CLOCK_SKEW_S:
            raise InvalidGrantError(_SHORT_LIVED_MESSAGE, reason="iat_future")
        raw_nbf = claims.get("nbf")
        nbf = _number(raw_nbf)
        if raw_nbf is not None and (nbf is None or nbf > now + CLOCK_SKEW_S):
            raise InvalidGrantError(_SHORT_LIVED_MESSAGE, reason="nbf_future")

    def authenticate(
        self, authorization_header: str | None, *, client: str | None = None
    ) -> Principal:
        """Resolves an `Authorization` header to the calling principal.

        A presented but invalid token is logged and counted by the failure limiter; a missing
        header is neither.

        Args:
            authorization_header: The raw header value, or None if the request had none.
            client: The caller's network address, for the log and the rate limiter.

        Returns:
            Who the token was issued to, with the project and scopes it carries.

        Raises:
            UnauthenticatedError: The header is missing or malformed, or the token is unknown,
                revoked or expired, or its account has been disabled.
            TooManyFailuresError: The client failed too often lately.
        """
        keys = [client_key(client)]
        self.limiter.check(keys)
        if authorization_header is None or not authorization_header.strip():
            raise UnauthenticatedError(_MISSING_CREDENTIALS_MESSAGE)
        scheme, _, token = authorization_header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            self._bearer_failure("malformed", client, keys)
        record = self.store.lookup_token(token, now=self._clock())
        if record is None:
            self._bearer_failure("unknown_revoked_or_expired", client, keys)
        account = self.store.get_account(record.email)
        if account is None or account.disabled:
            self._bearer_failure("account_disabled", client, [*keys, account_key(record.email)])
        return Principal(email=record.email, project=record.project, scopes=record.scopes)

    def _bearer_failure(self, reason: str, client: str | None, keys: list[str]) -> Never:
        """Logs and counts a refused bearer token, then raises 401 (or 429 past the limit)."""
        log.warning(json.dumps({"event": "bearer.rejected", "reason": reason, "client": client}))
        self.limiter.record_failure(keys)
        raise UnauthenticatedError(_INVALID_CREDENTIALS_MESSAGE)


def _unverified_part(assertion: str, index: int) -> dict[str, Any] | None:
    """Returns the JSON object in one dot-separated part of a JWT, unverified, or None."""
    try:
        segment = assertion.split(".")[index]
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (IndexError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _number(value: object) -> float | None:
    """Returns a JSON number claim as a float, or None if it is absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
