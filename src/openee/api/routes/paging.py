"""Opaque offset page tokens for listFeatures and operations.list (listAssets has its own, from
`catalog.service.list_assets`)."""

from __future__ import annotations

import base64

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
