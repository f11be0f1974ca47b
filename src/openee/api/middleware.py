"""ASGI middleware: collapse repeated slashes, bound the body size, log one line per request."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openee.engine import deadline, memory

log = logging.getLogger("openee.access")

_SLASHES = re.compile(r"/{2,}")
# Thumbnail (also video and filmstrip), download, map-tile and table ids are credentials
# (capability URLs): never logged.
_CAPABILITY_ID = re.compile(
    r"^(/[^/]+/projects/[^/]+/(?:thumbnails|videoThumbnails|filmstripThumbnails|maps|tables)/)"
    r"[^/:]+"
)


def loggable_path(path: str) -> str:
    """The path with capability ids replaced by `{id}`."""
    return _CAPABILITY_ID.sub(r"\1{id}", path)


class RequestMiddleware:
    """Collapses `//` in paths (the client builds them from a base URL with a trailing slash),
    rejects bodies over `max_body_bytes`, runs the request under its deadline and its share of the
    process-wide memory budget, and logs method, path, status and duration (up to
    the body's last byte, for streamed ones too).

    The query string is not logged: it may carry an API key; nor are capability ids.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        deadline_s: float | None,
        memory_ledger: memory.MemoryLedger,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.deadline_s = deadline_s
        self.memory_ledger = memory_ledger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = _SLASHES.sub("/", scope["path"])
        scope = {**scope, "path": path, "raw_path": path.encode()}
        started = time.perf_counter()
        status = 500
        response_started = complete = False

        async def send_logged(message: Message) -> None:
            nonlocal status, response_started, complete
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        declared = _content_length(scope)
        try:
            if declared is not None and declared > self.max_body_bytes:
                await _too_large(send_logged, self.max_body_bytes)
            else:
                # The request's handler threads get a copy of this context, so the deadline too.
                with (
                    deadline.within(self.deadline_s) as current,
                    memory.request_scope(self.memory_ledger),
                ):
                    watch = _DisconnectWatch(receive, current.cancel)
                    try:
                        await self.app(scope, _bounded(watch, self.max_body_bytes), send_logged)
                    finally:
                        watch.close()
        finally:
            log.info(
                json.dumps(
                    {
                        "method": scope["method"],
                        "path": loggable_path(path),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        # A streamed body cut short: failed mid-way, or the client went away.
                        **({"incomplete": True} if response_started and not complete else {}),
                    }
                )
            )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class _DisconnectWatch:
    """Hands the request's messages to the app; once the body is read, waits in the
    background for the client's `http.disconnect` and cancels the request when it comes, so
    that a computation nobody will read stops (a handler thread never listens for it itself).
    Asked again by the app (a streaming response listens too), it answers with that message."""

    def __init__(self, receive: Receive, on_disconnect: Callable[[], None]) -> None:
        self._receive = receive
        self._on_disconnect = on_disconnect
        self._watcher: asyncio.Task[Message] | None = None

    async def __call__(self) -> Message:
        if self._watcher is not None:
            return await asyncio.shield(self._watcher)
        message = await self._receive()
        if message["type"] == "http.request" and not message.get("more_body"):
            self._watcher = asyncio.create_task(self._watch())
        return message

    async def _watch(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self._on_disconnect()
        return message

    def close(self) -> None:
        if self._watcher is not None and not self._watcher.done():
            self._watcher.cancel()


class BodyTooLarge(Exception):
    pass


def _bounded(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return bounded


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps(
        {
            "error": {
                "code": 400,
                "message": f"Request payload size exceeds the limit: {limit} bytes.",
                "status": "INVALID_ARGUMENT",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
