"""Authentication: service-account keys, the JWT-bearer token grant and bearer tokens.

Nothing here imports a web framework; the API layer maps `InvalidGrantError` to an OAuth 2
error body, `UnauthenticatedError` to Google's error envelope and `TooManyFailuresError` to 429
with `Retry-After`.
"""

from openee.auth.audit import AuditLog
from openee.auth.keys import create_service_account_key, service_account_email, write_key_file
from openee.auth.ratelimit import FailureLimiter, TooManyFailuresError
from openee.auth.store import AuthStore, KeyRecord, ServiceAccount, TokenRecord, hash_token
from openee.auth.tokens import (
    CLOUD_PLATFORM_READONLY_SCOPE,
    CLOUD_PLATFORM_SCOPE,
    EARTHENGINE_READONLY_SCOPE,
    EARTHENGINE_SCOPE,
    GOOGLE_TOKEN_AUDIENCE,
    JWT_BEARER_GRANT_TYPE,
    InvalidGrantError,
    Principal,
    TokenService,
    anonymous_principal,
)

__all__ = [
    "CLOUD_PLATFORM_READONLY_SCOPE",
    "CLOUD_PLATFORM_SCOPE",
    "EARTHENGINE_READONLY_SCOPE",
    "EARTHENGINE_SCOPE",
    "GOOGLE_TOKEN_AUDIENCE",
    "JWT_BEARER_GRANT_TYPE",
    "AuditLog",
    "AuthStore",
    "FailureLimiter",
    "InvalidGrantError",
    "KeyRecord",
    "Principal",
    "ServiceAccount",
    "TokenRecord",
    "TokenService",
    "TooManyFailuresError",
    "anonymous_principal",
    "create_service_account_key",
    "hash_token",
    "service_account_email",
    "write_key_file",
]
