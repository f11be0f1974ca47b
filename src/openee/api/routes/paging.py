"""Opaque offset page tokens for listFeatures and operations.list (listAssets has its own, from
`catalog.service.list_assets`)."""

from __future__ import annotations

import base64
from typing import Any

from openee.errors import InvalidArgumentError

_PREFIX = "offset:"


def offset_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode()


def token_offset(token: str | None) -> int:
    """The offset a token stands for; 0 without one; 400 for anything not made here."""
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgumentError("Invalid pageToken.") from None
    value = text.removeprefix(_PREFIX)
    if not text.startswith(_PREFIX) or not value.isdigit() or len(value) > 12:
        raise InvalidArgumentError("Invalid pageToken.")
    return int(value)


def page_size(value: int | None, default: int, maximum: int) -> int:
    if value is None or value == 0:
        return default
    if value < 0:
        raise InvalidArgumentError("pageSize must be positive.")
    return min(value, maximum)


def body_page(body: dict[str, Any], default: int, maximum: int) -> tuple[int, int]:
    """(offset, size) of a page asked for in a request body (`pageToken`, `pageSize`), as
    computeFeatures and computeImages take them."""
    raw = body.get("pageSize")
    if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | str)):
        raise InvalidArgumentError("pageSize must be an integer.")
    try:
        size = None if raw is None else int(raw)
    except ValueError:
        raise InvalidArgumentError("pageSize must be an integer.") from None
    token = body.get("pageToken")
    if token is not None and not isinstance(token, str):
        raise InvalidArgumentError("Invalid pageToken.")
    return token_offset(token), page_size(size, default, maximum)
