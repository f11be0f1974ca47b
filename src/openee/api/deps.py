"""Request dependencies: app state, the authenticated principal, the JSON body, the version."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.requests import ClientDisconnect

from openee.api.discovery import SUPPORTED_VERSIONS
from openee.api.middleware import BodyTooLarge
from openee.api.state import AppState
from openee.auth import EARTHENGINE_READONLY_SCOPE, Principal, anonymous_principal
from openee.auth.apikeys import INVALID_KEY_MESSAGE, ApiKeyStore
from openee.auth.iam import Action, Iam
from openee.auth.ratelimit import client_key
from openee.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError

log = logging.getLogger("openee.auth")

_INSUFFICIENT_SCOPES_MESSAGE = "Request had insufficient authentication scopes."


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.openee
    return state


def client_address(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


def require_principal(request: Request) -> Principal:
    """The caller, from its bearer token; 401 without a valid one, 429 after too many failures.

    A server started with `--no-auth` (loopback only) runs every request as an anonymous
    principal with full scopes and ignores any `Authorization` header.

    A request with no `Authorization` header but an API key (`?key=`) runs as a read-only
    viewer of the key's project (see `openee api-keys`); a bad key answers 400, as Google.
    """
    state = get_state(request)
    if not state.settings.auth_enabled:
        return anonymous_principal(state.settings.default_project)
    header = request.headers.get("authorization")
    key = request.query_params.get("key")
    if key is not None and (header is None or not header.strip()):
        return api_key_principal(state, key, client_address(request))
    return state.tokens.authenticate(header, client=client_address(request))


def api_key_principal(state: AppState, raw_key: str, client: str | None) -> Principal:
    """The principal of an API key: a viewer of its project with the read-only scope."""
    keys = [client_key(client)]
    state.tokens.limiter.check(keys)
    found = ApiKeyStore(state.auth).lookup(raw_key)
    if found is None:
        log.warning(json.dumps({"event": "api_key.rejected", "client": client}))
        state.tokens.limiter.record_failure(keys)
        raise InvalidArgumentError(INVALID_KEY_MESSAGE)
    return Principal(
        email=f"apikey:{found.key_id}",
        project=found.project,
        scopes=(EARTHENGINE_READONLY_SCOPE,),
        via_api_key=True,
    )


def authorize(state: AppState, principal: Principal, action: Action, asset_name: str) -> None:
    """Allows `action` on an asset (or, for `compute`, a project) or raises what to answer.

    `AssetNotFoundError` when the caller may not read the asset (exactly as if it did not
    exist); `PermissionDeniedError` when it may read it but not do this, or lacks a write
    scope for a write. See `openee.auth.iam.Iam.authorize`.
    """
    Iam(state.auth).authorize(principal, action, asset_name)


def require_write(principal: Annotated[Principal, Depends(require_principal)]) -> Principal:
    """The caller, if its scopes allow writes (`earthengine` or `cloud-platform`); else 403.

    Read-only scopes (`earthengine.readonly`, `cloud-platform.read-only`) may compute and read.
    Write routes declare `Depends(require_write)`.
    """
    if not principal.can_write:
        raise PermissionDeniedError(_INSUFFICIENT_SCOPES_MESSAGE)
    return principal


def check_version(version: str) -> str:
    if version not in SUPPORTED_VERSIONS:
        raise NotFoundError(f"API version '{version}' is not served; use v1, v1beta or v1alpha.")
    return version


class ClientGone(Exception):
    """The client closed the connection before its request body arrived."""


async def json_body(request: Request) -> dict[str, Any]:
    try:
        raw = await request.body()
    except ClientDisconnect:  # the client went away mid-body: nobody to answer, one log line
        raise ClientGone from None
    except BodyTooLarge:
        limit = get_state(request).settings.limits.max_body_bytes
        raise InvalidArgumentError(
            f"Request payload size exceeds the limit: {limit} bytes."
        ) from None
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgumentError(
            "Invalid JSON payload received: the body is not valid JSON."
        ) from None
    except RecursionError:  # the decoder recurses once per level of nesting
        raise InvalidArgumentError(
            "Invalid JSON payload received: the body is nested too deeply."
        ) from None
    if not isinstance(body, dict):
        raise InvalidArgumentError("Invalid JSON payload received: expected an object.")
    return body


# The dependencies most routes take, as annotations: the app state, the authenticated caller
# and the JSON body.
State = Annotated[AppState, Depends(get_state)]
Caller = Annotated[Principal, Depends(require_principal)]
Body = Annotated[dict[str, Any], Depends(json_body)]
