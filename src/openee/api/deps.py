"""Request dependencies: app state, the authenticated principal, the JSON body, the version."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request

from openee.api.discovery import SUPPORTED_VERSIONS
from openee.api.middleware import BodyTooLarge
from openee.api.state import AppState
from openee.auth import Principal, anonymous_principal
from openee.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError

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
    """
    state = get_state(request)
    if not state.settings.auth_enabled:
        return anonymous_principal(state.settings.default_project)
    return state.tokens.authenticate(
        request.headers.get("authorization"), client=client_address(request)
    )


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


async def json_body(request: Request) -> dict[str, Any]:
    try:
        raw = await request.body()
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
    if not isinstance(body, dict):
        raise InvalidArgumentError("Invalid JSON payload received: expected an object.")
    return body
