"""Request dependencies: app state, the authenticated principal, the JSON body, the version."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from openee.api.discovery import SUPPORTED_VERSIONS
from openee.api.middleware import BodyTooLarge
from openee.api.state import AppState
from openee.auth import Principal
from openee.errors import InvalidArgumentError, NotFoundError


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.openee
    return state


def require_principal(request: Request) -> Principal:
    return get_state(request).tokens.authenticate(request.headers.get("authorization"))


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
