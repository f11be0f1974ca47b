"""The OAuth 2 JWT-bearer grant (RFC 7523) and bearer-token authentication.

Stock google-auth service-account credentials POST a signed JWT to the key file's `token_uri`;
`TokenService.grant` verifies it against the registered public key and issues an opaque access
token. `TokenService.authenticate` turns an `Authorization: Bearer ...` header back into a
`Principal`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from openee.auth.store import AuthStore, KeyRecord
from openee.errors import InvalidArgumentError, UnauthenticatedError

JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# google-auth hard-codes this audience whatever the key file's token_uri says.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"

# Tolerated clock skew between client and server, in seconds.
CLOCK_SKEW_S = 60
# Google refuses assertions that live longer than an hour; google-auth always asks for exactly that.
MAX_ASSERTION_LIFETIME_S = 3600

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

    def __init__(self, message: str, error: str = "invalid_grant") -> None:
        """Creates the error.

        Args:
            message: The human-readable `error_description`.
            error: The OAuth 2 error code (RFC 6749 section 5.2).
        """
        super().__init__(message)
        self.error = error

    def oauth2_body(self) -> dict[str, str]:
        """Returns the OAuth 2 error response body."""
        return {"error": self.error, "error_description": self.message}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of an API request."""

    email: str
    project: str
    scopes: tuple[str, ...]


class TokenService:
    """Issues and checks opaque access tokens for registered service accounts."""

    def __init__(
        self,
        store: AuthStore,
        token_url: str,
        ttl_seconds: int = 3600,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Creates the service.

        Args:
            store: Accounts, keys and issued tokens.
            token_url: This server's token endpoint; accepted as a JWT audience besides Google's.
            ttl_seconds: Lifetime of issued access tokens.
            clock: Returns the current Unix time; replaceable in tests.
        """
        if ttl_seconds < 2:
            raise ValueError("ttl_seconds must be at least 2.")
        self.store = store
        self.token_url = token_url
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._audiences = frozenset({GOOGLE_TOKEN_AUDIENCE, token_url})

    def grant(self, form: Mapping[str, str]) -> dict[str, Any]:
        """Handles a token request carrying an RFC 7523 JWT-bearer grant.

        Args:
            form: The decoded `application/x-www-form-urlencoded` request body.

        Returns:
            The OAuth 2 token response: `access_token`, `expires_in` and `token_type`.

        Raises:
            InvalidGrantError: The request or its assertion is not acceptable.
        """
        grant_type = form.get("grant_type")
        if grant_type != JWT_BEARER_GRANT_TYPE:
            raise InvalidGrantError(
                f"Invalid grant_type: {grant_type or ''}", error="unsupported_grant_type"
            )
        assertion = form.get("assertion")
        if not assertion:
            raise InvalidGrantError("Missing required parameter: assertion", "invalid_request")

        claims, key = self._verify_assertion(assertion)
        account = self.store.get_account(key.email)
        if account is None or account.disabled:
            raise InvalidGrantError("Invalid grant: account not found")

        scopes = tuple(str(claims.get("scope") or "").split())
        access_token = secrets.token_urlsafe(32)
        self.store.store_token(
            access_token,
            email=account.email,
            scopes=scopes,
            project=account.project,
            expires_at=self._clock() + self.ttl_seconds,
        )
        return {
            "access_token": access_token,
            "expires_in": self.ttl_seconds - 1,
            "token_type": "Bearer",
        }

    def _verify_assertion(self, assertion: str) -> tuple[dict[str, Any], KeyRecord]:
        """Checks an assertion's header, signature and claims.

        Returns:
            The verified claims and the key that signed them.

        Raises:
            InvalidGrantError: Anything is wrong with the assertion.
        """
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError as exc:
            raise InvalidGrantError("Invalid JWT: could not decode the assertion.") from exc
        if header.get("alg") != "RS256":
            raise InvalidGrantError("Invalid JWT: the signing algorithm must be RS256.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidGrantError("Invalid JWT: the header has no key id (kid).")

        key = self.store.get_key(kid)
        if key is None or key.revoked:
            raise InvalidGrantError("Invalid JWT Signature.")
        public_key = load_pem_public_key(key.public_pem.encode("ascii"))
        if not isinstance(public_key, RSAPublicKey):
            raise InvalidGrantError("Invalid JWT Signature.")

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
                },
            )
        except jwt.InvalidSignatureError as exc:
            raise InvalidGrantError("Invalid JWT Signature.") from exc
        except jwt.PyJWTError as exc:
            raise InvalidGrantError(f"Invalid JWT: {exc}") from exc

        if claims.get("iss") != key.email:
            raise InvalidGrantError("Invalid JWT: the issuer (iss) does not own the signing key.")
        sub = claims.get("sub")
        if sub is not None and sub != key.email:
            raise InvalidGrantError("Invalid JWT: domain-wide delegation (sub) is not supported.")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and a in self._audiences for a in audiences):
            raise InvalidGrantError(
                f"Invalid JWT: the audience (aud) must be '{GOOGLE_TOKEN_AUDIENCE}' "
                f"or '{self.token_url}'."
            )
        self._check_times(claims)
        return claims, key

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        """Requires a short-lived assertion that is valid now, within the clock skew."""
        iat, exp = _number(claims.get("iat")), _number(claims.get("exp"))
        now = self._clock()
        if (
            iat is None
            or exp is None
            or iat > now + CLOCK_SKEW_S
            or exp <= now - CLOCK_SKEW_S
            or exp <= iat
            or exp - iat > MAX_ASSERTION_LIFETIME_S
        ):
            raise InvalidGrantError(_SHORT_LIVED_MESSAGE)
        raw_nbf = claims.get("nbf")
        nbf = _number(raw_nbf)
        if raw_nbf is not None and (nbf is None or nbf > now + CLOCK_SKEW_S):
            raise InvalidGrantError(_SHORT_LIVED_MESSAGE)

    def authenticate(self, authorization_header: str | None) -> Principal:
        """Resolves an `Authorization` header to the calling principal.

        Args:
            authorization_header: The raw header value, or None if the request had none.

        Returns:
            Who the token was issued to, with the project and scopes it carries.

        Raises:
            UnauthenticatedError: The header is missing or malformed, or the token is unknown,
                revoked or expired, or its account has been disabled.
        """
        if authorization_header is None or not authorization_header.strip():
            raise UnauthenticatedError(_MISSING_CREDENTIALS_MESSAGE)
        scheme, _, token = authorization_header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise UnauthenticatedError(_INVALID_CREDENTIALS_MESSAGE)
        record = self.store.lookup_token(token, now=self._clock())
        if record is None:
            raise UnauthenticatedError(_INVALID_CREDENTIALS_MESSAGE)
        account = self.store.get_account(record.email)
        if account is None or account.disabled:
            raise UnauthenticatedError(_INVALID_CREDENTIALS_MESSAGE)
        return Principal(email=record.email, project=record.project, scopes=record.scopes)


def _number(value: object) -> float | None:
    """Returns a JSON number claim as a float, or None if it is absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
