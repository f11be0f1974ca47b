"""Authentication: service-account keys, the JWT-bearer token grant and bearer tokens.

Nothing here imports a web framework; the API layer maps `InvalidGrantError` to an OAuth 2
error body and `UnauthenticatedError` to Google's error envelope.
"""

from openee.auth.keys import create_service_account_key, service_account_email, write_key_file
from openee.auth.store import AuthStore, KeyRecord, ServiceAccount, TokenRecord, hash_token
from openee.auth.tokens import (
    GOOGLE_TOKEN_AUDIENCE,
    JWT_BEARER_GRANT_TYPE,
    InvalidGrantError,
    Principal,
    TokenService,
)

__all__ = [
    "GOOGLE_TOKEN_AUDIENCE",
    "JWT_BEARER_GRANT_TYPE",
    "AuthStore",
    "InvalidGrantError",
    "KeyRecord",
    "Principal",
    "ServiceAccount",
    "TokenRecord",
    "TokenService",
    "create_service_account_key",
    "hash_token",
    "service_account_email",
    "write_key_file",
]
