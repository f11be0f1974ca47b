"""GET /$discovery/rest?version=v1: the discovery document the stock client builds from."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from openee.api.discovery import discovery_document

router = APIRouter()


@router.get("/$discovery/rest")
def discovery(version: str = "v1") -> dict[str, Any]:
    return discovery_document(version)
