"""A response whose body is sent while it is computed (computePixels NPY, see NpyStream).

The status and an exact Content-Length go out before the rest of the body is computed. If a
later part fails, the error is logged and the response is left incomplete: the server closes
the connection short of the declared length, so a client sees a broken body, never a
truncated file that looks complete.
"""

from __future__ import annotations

import json
import logging

from starlette.concurrency import iterate_in_threadpool
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

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

    def __init__(self, stream: NpyStream) -> None:
        self._stream = stream
        self._path = ""
        super().__init__(
            iterate_in_threadpool(stream.parts()),
            media_type=stream.media_type,
            headers={"Content-Length": str(stream.length)},
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


def pixels_response(result: PixelsResult | NpyStream) -> Response:
    """The HTTP response of computePixels / getPixels: streamed for NPY, whole otherwise."""
    if isinstance(result, NpyStream):
        return StreamedPixelsResponse(result)
    return Response(result.body, media_type=result.media_type)
