"""GET /$discovery/rest?version=v1: the discovery document the stock client builds from."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from openee.api.discovery import discovery_document
from openee.api.public_url import public_base_url

router = APIRouter()


@router.get("/$discovery/rest")
def discovery(request: Request, version: str = "v1") -> dict[str, Any]:
    # rootUrl is this server's public URL: googleapiclient's discovery.build(discoveryServiceUrl=)
    # calls it (the ee client replaces it with its own base URL).
    return discovery_document(version, public_base_url(request))
