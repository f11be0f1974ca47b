"""POST /token: the OAuth 2 JWT-bearer grant (RFC 7523) that google-auth sends."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from openee.api.deps import get_state
from openee.api.state import AppState
from openee.auth import InvalidGrantError

router = APIRouter()


@router.post("/token")
async def token(request: Request, state: Annotated[AppState, Depends(get_state)]) -> JSONResponse:
    raw = await request.body()
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        return JSONResponse(state.tokens.grant(form), headers={"Cache-Control": "no-store"})
    except InvalidGrantError as exc:
        return JSONResponse(
            exc.oauth2_body(), status_code=400, headers={"Cache-Control": "no-store"}
        )
