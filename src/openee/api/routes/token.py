"""POST /token: the OAuth 2 JWT-bearer grant (RFC 7523) that google-auth sends."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from openee.api.deps import client_address, get_state
from openee.api.ratelimit import retry_after_headers
from openee.api.state import AppState
from openee.auth import InvalidGrantError, TooManyFailuresError

router = APIRouter()

_NO_STORE = {"Cache-Control": "no-store"}


@router.post("/token")
async def token(request: Request, state: Annotated[AppState, Depends(get_state)]) -> JSONResponse:
    raw = await request.body()
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        # Verifying a signature and writing the token hit the CPU and SQLite: off the loop.
        granted = await run_in_threadpool(state.tokens.grant, form, client=client_address(request))
    except InvalidGrantError as exc:
        return JSONResponse(exc.oauth2_body(), status_code=400, headers=_NO_STORE)
    except TooManyFailuresError as exc:
        body = {"error": "rate_limited", "error_description": exc.message}
        return JSONResponse(body, status_code=429, headers=retry_after_headers(exc))
    return JSONResponse(granted, headers=_NO_STORE)
