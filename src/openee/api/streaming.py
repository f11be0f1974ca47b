"""A response whose body is sent while it is computed (computePixels NPY, see NpyStream), and
the pixel responses' content coding (api/wire.py, ADR 0049).

The status and an exact Content-Length go out before the rest of the body is computed; a
compressed body has no Content-Length and goes chunked. If a later part fails, the error is
logged and the response is left incomplete: the server closes the connection short of the
declared length (or without the last chunk, and a compressed stream without its end and
checksum), so a client sees a broken body, never a truncated file that looks complete.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from openee.api import wire
from openee.api.middleware import loggable_path
from openee.engine.deadline import ComputationCancelled
from openee.errors import OpeneeError
from openee.services.pixels import NpyStream, PixelsResult

log = logging.getLogger("openee.api")


class StreamedPixelsResponse(StreamingResponse):
    """Sends an NpyStream's parts as they are computed (in the thread pool, like sync routes).

    Starlette stops sending when the client disconnects; the stream is then closed, which
    cancels the chunks not started yet.
    """

    def __init__(self, stream: NpyStream, coding: wire.Coding | None, vary: bool) -> None:
        self._stream = stream
        self._path = ""
        headers = {"Vary": "Accept-Encoding"} if vary else {}
        parts: Iterator[bytes | memoryview]
        if coding is None:
            parts = stream.parts()
            headers["Content-Length"] = str(stream.length)
        else:  # compressed in the thread pool too, part by part
            parts = coding.encode(stream.parts())
            headers["Content-Encoding"] = coding.name
        super().__init__(
            iterate_in_threadpool(parts), media_type=stream.media_type, headers=headers
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._path = scope.get("path", "")
        await super().__call__(scope, receive, send)

    async def stream_response(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        sent = 0
        try:
            async for part in self.body_iterator:
                await send({"type": "http.response.body", "body": part, "more_body": True})
                sent += len(part)
        except ComputationCancelled:  # the client went away: nobody to tell, nothing failed
            return
        except Exception as exc:  # any failure: the status is sent already
            log.error(
                json.dumps(
                    {
                        "event": "response.aborted",
                        "path": loggable_path(self._path),
                        "sent_bytes": sent,
                        "content_length": self._stream.length,
                        "error": type(exc).__name__,
                        "message": exc.message if isinstance(exc, OpeneeError) else None,
                    }
                ),
                exc_info=not isinstance(exc, OpeneeError),
            )
            return  # without the final message: the server closes the connection
        finally:
            self._stream.close()
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def pixels_response(result: PixelsResult | NpyStream, request: Request, policy: str) -> Response:
    """The HTTP response of computePixels / getPixels: streamed for NPY, whole otherwise;
    compressed as `policy` (OPENEE_RESPONSE_COMPRESSION) and the request's Accept-Encoding
    allow and when the pixels compress."""
    coding = _coding(request, policy, result.media_type)
    if isinstance(result, NpyStream):
        if coding is not None and not wire.worth_it(
            coding, result.sample(wire.SAMPLE_BYTES), result.length
        ):
            coding = None
        return StreamedPixelsResponse(result, coding, vary=_varies(policy, result.media_type))
    return encoded_response(Response(result.body, media_type=result.media_type), request, policy)


def encoded_response(response: Response, request: Request, policy: str) -> Response:
    """A whole response, compressed as `pixels_response` would (getPixels of a download id)."""
    media_type = response.media_type or ""
    if not _varies(policy, media_type):
        return response
    response.headers["Vary"] = "Accept-Encoding"
    coding = _coding(request, policy, media_type)
    body = memoryview(response.body)
    if coding is None or not wire.worth_it(coding, _middle(body, wire.SAMPLE_BYTES), len(body)):
        return response
    response.body = coding.whole(body)
    response.headers["Content-Length"] = str(len(response.body))
    response.headers["Content-Encoding"] = coding.name
    return response


def _coding(request: Request, policy: str, media_type: str) -> wire.Coding | None:
    client = request.client.host if request.client is not None else None
    return wire.choose(policy, request.headers.get("accept-encoding"), client, media_type)


def _varies(policy: str, media_type: str) -> bool:
    """Whether a response of this type may be compressed (then caches must key on the
    client's Accept-Encoding, whichever coding this one got)."""
    return policy != "off" and media_type in wire.COMPRESSIBLE_MEDIA_TYPES


def _middle(body: memoryview, size: int) -> memoryview:
    start = max(0, (len(body) - size) // 2)
    return body[start : start + size]
