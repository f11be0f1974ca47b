"""Every error leaves as Google's envelope: {"error": {"code", "message", "status"}}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from openee.api.deps import ClientGone
from openee.api.discovery import documented_method_id, unrouted
from openee.api.middleware import loggable_path
from openee.errors import OpeneeError

log = logging.getLogger("openee.api")

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    409: "ALREADY_EXISTS",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    501: "UNIMPLEMENTED",
    504: "DEADLINE_EXCEEDED",
}


def envelope(code: int, message: str, status: str | None = None) -> JSONResponse:
    status = status or _STATUS_NAMES.get(code, "INTERNAL")
    return JSONResponse({"error": {"code": code, "message": message, "status": status}}, code)


async def _openee_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OpeneeError)
    return envelope(exc.http_status, exc.message, exc.rpc_status)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        if documented_method_id(request.method, request.url.path.lstrip("/")) is not None:
            return await _openee_error(request, unrouted(request.method, request.url.path))
        return envelope(404, f"Requested entity was not found: {request.url.path}")
    if exc.status_code == 405:
        return envelope(405, f"Method {request.method} is not allowed on {request.url.path}.")
    return envelope(exc.status_code, str(exc.detail))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return envelope(400, f"Invalid request: {where}: {first.get('msg', 'invalid value')}.")


async def _client_gone(request: Request, exc: Exception) -> Response:
    path = loggable_path(request.url.path)
    log.info("client closed the connection mid-body: %s %s", request.method, path)
    return Response(status_code=400)  # never delivered: the connection is gone


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Details go to the log, never to the client.
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return envelope(500, "An internal error has occurred.", "INTERNAL")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OpeneeError, _openee_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ClientGone, _client_gone)
    app.add_exception_handler(Exception, _unexpected)
