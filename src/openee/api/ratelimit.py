"""HTTP side of the failed-authentication limit: 429 with `Retry-After`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from openee.api.errors import envelope
from openee.auth import TooManyFailuresError


def retry_after_headers(exc: TooManyFailuresError) -> dict[str, str]:
    """Returns the headers of a 429 answer to a blocked client."""
    return {"Retry-After": str(exc.retry_after_s), "Cache-Control": "no-store"}


async def _too_many_failures(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TooManyFailuresError)
    response = envelope(exc.http_status, exc.message, exc.rpc_status)
    response.headers.update(retry_after_headers(exc))
    return response


def install(app: FastAPI) -> None:
    """Answers `TooManyFailuresError` from any API route with Google's envelope and 429."""
    app.add_exception_handler(TooManyFailuresError, _too_many_failures)
