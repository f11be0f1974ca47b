#!/usr/bin/env python3
"""A small HTTP/1.1 load balancer: each request goes to the next live backend, round-robin.

    python scripts/balancer.py --port 8080 --backend 127.0.0.1:8081 --backend 127.0.0.1:8082
    python scripts/balancer.py --port 8080 --prefix /openee --backend 127.0.0.1:8081

With `--prefix /openee` it serves the backends under that path prefix, as a reverse proxy with
`location /openee/ { proxy_pass http://backend/; }` does: `/openee/v1/...` reaches a backend as
`/v1/...` with `X-Forwarded-Prefix: /openee` (from which openee writes its URLs under the
prefix, docs/decisions/0059); any other path is `404`. The client's own `X-Forwarded-Host`,
`-Proto` and `-Prefix` are never passed on: the backends believe what this proxy says.

Per request, not per connection: the stock clients keep their connection open, so a balancer
that balanced connections would send all of one client's requests to one replica. Request
bodies are read whole (openee caps them at 10 MiB) so that a request can be sent again to the
next backend when the first refuses the connection or closes an idle pooled one; responses are
streamed (Content-Length, chunked, or until the backend closes). A backend that refuses a
connection is skipped for `--down-for` seconds; a request that every backend refuses gets
`502`. A POST (anything but GET, HEAD, OPTIONS) always goes out on a new connection, and if its
backend closes it unanswered the client gets `502`: it may have run there, so it never runs a
second time on another backend. Only the standard library (asyncio streams): a deployment for evaluation needs no
package, no root and no Docker (docs/decisions/0047-deployment-for-a-team.md). For production,
put nginx or any proxy of yours in front of the replicas instead; they share all state.

`scripts/cluster.py up` runs one in front of its `openee serve` replicas.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

HEAD_LIMIT = 64 * 1024
BODY_LIMIT = 16 * 2**20  # above openee's own 10 MiB request limit
IDLE_S = 4.0  # below uvicorn's 5 s keep-alive: a pooled connection is never one it is closing
COPY_BYTES = 256 * 1024
HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"te",
    b"trailer",
    b"upgrade",
}


IDEMPOTENT = {b"GET", b"HEAD", b"OPTIONS"}
# Set by this proxy alone (a client's would reach the backends as this trusted proxy's word).
FORWARDED_HERE = {b"x-forwarded-host", b"x-forwarded-proto", b"x-forwarded-prefix"}


class BadRequest(Exception):
    pass


class Unanswered(Exception):
    """The backend took the request and closed without an answer."""


@dataclass
class Backend:
    host: str
    port: int
    down_until: float = 0.0
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = field(
        default_factory=list
    )

    async def connection(
        self, fresh: bool = False
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        """A pooled connection (third item True) or, `fresh` or none idle, a new one."""
        now = time.monotonic()
        while self.idle and not fresh:
            reader, writer, since = self.idle.pop()
            if now - since < IDLE_S and not reader.at_eof():
                return reader, writer, True
            writer.close()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return reader, writer, False

    def drop_idle(self) -> None:
        while self.idle:
            self.idle.pop()[1].close()

    def release(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.idle.append((reader, writer, time.monotonic()))


@dataclass
class Message:
    """An HTTP/1.1 request or response head: the start line and the headers, as bytes."""

    start: bytes
    headers: list[tuple[bytes, bytes]]

    def get(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def tokens(self, name: bytes) -> set[bytes]:
        return {
            t.strip().lower()
            for key, value in self.headers
            if key.lower() == name
            for t in value.split(b",")
        }

    def encode(self, extra: list[tuple[bytes, bytes]]) -> bytes:
        kept = [(k, v) for k, v in self.headers if k.lower() not in HOP_BY_HOP]
        lines = [self.start] + [k + b": " + v for k, v in kept + extra]
        return b"\r\n".join(lines) + b"\r\n\r\n"


async def read_head(reader: asyncio.StreamReader) -> Message | None:
    """The next message head, or None at a clean end of the stream."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise BadRequest("truncated head") from None
        return None
    except asyncio.LimitOverrunError:
        raise BadRequest("head too large") from None
    lines = raw[:-4].split(b"\r\n")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise BadRequest("malformed header")
        headers.append((name.strip(), value.strip()))
    return Message(lines[0], headers)


async def read_body(reader: asyncio.StreamReader, head: Message) -> bytes:
    """A request's whole body (Content-Length or chunked; none otherwise)."""
    if b"chunked" in head.tokens(b"transfer-encoding"):
        parts = []
        async for part in chunked(reader):
            parts.append(part)
        return b"".join(parts)
    length = int(head.get(b"content-length") or 0)
    if length > BODY_LIMIT:
        raise BadRequest("body too large")
    return await reader.readexactly(length) if length else b""


async def chunked(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """The data of a chunked body (trailers are read and dropped)."""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return
        yield await reader.readexactly(size)
        await reader.readexactly(2)


class Balancer:
    def __init__(self, backends: list[Backend], down_for: float, prefix: str = "") -> None:
        self.backends = backends
        self.down_for = down_for
        self.prefix = prefix.rstrip("/").encode()
        self._next = itertools.cycle(range(len(backends)))

    def order(self) -> list[Backend]:
        """Every backend once, starting at the next in turn; those marked down last."""
        start = next(self._next)
        ring = self.backends[start:] + self.backends[:start]
        now = time.monotonic()
        return sorted(ring, key=lambda b: b.down_until > now)

    async def client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            while await self.exchange(reader, writer, peer[0] if peer else ""):
                pass
        except (BadRequest, ValueError):
            await _reply(writer, b"400 Bad Request")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> bool:
        """One request and its response; whether the client's connection stays open."""
        head = await read_head(reader)
        if head is None:
            return False
        if b"100-continue" in head.tokens(b"expect"):
            # The body is read here, whole, before a backend is chosen (curl waits a second
            # for this before sending a body of more than 1 KiB).
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
            head.headers = [(k, v) for k, v in head.headers if k.lower() != b"expect"]
        body = await read_body(reader, head)
        keep = b"close" not in head.tokens(b"connection") and not head.start.endswith(b"1.0")
        extra = [(b"Content-Length", str(len(body)).encode())] if body else []
        if b"chunked" in head.tokens(b"transfer-encoding"):
            head.headers = [(k, v) for k, v in head.headers if k.lower() != b"transfer-encoding"]
        head.headers = [(k, v) for k, v in head.headers if k.lower() not in FORWARDED_HERE]
        if self.prefix:
            method, target, version = head.start.split(b" ", 2)
            rest = target[len(self.prefix) :]
            if not target.startswith(self.prefix) or rest[:1] not in (b"", b"/", b"?"):
                await _reply(writer, b"404 Not Found")
                return False
            head.start = b" ".join((method, rest if rest[:1] == b"/" else b"/" + rest, version))
            extra.append((b"X-Forwarded-Prefix", self.prefix))
        extra += [(b"X-Forwarded-For", peer.encode()), (b"Connection", b"keep-alive")]
        request = head.encode(extra) + body
        for backend in self.order():
            try:
                sent = await self.forward(backend, request, head, writer)
            except Unanswered:
                break
            if sent is not None:
                return keep
        await _reply(writer, b"502 Bad Gateway")
        return False

    async def forward(
        self, backend: Backend, request: bytes, head: Message, writer: asyncio.StreamWriter
    ) -> bool | None:
        """Sends the request to `backend` and streams its response to the client; None when
        the backend could not take it (nothing was sent to the client: the next backend may),
        else whether the backend's connection was kept for the next request."""
        # A POST goes out on a new connection (a loopback connect is cheap): a pooled one that
        # breaks cannot tell a backend that closed it idle from one that died running it.
        safe = head.start.split(b" ", 1)[0] in IDEMPOTENT
        retried = False
        while True:
            try:
                up_reader, up_writer, pooled = await backend.connection(fresh=retried or not safe)
            except OSError:
                backend.down_until = time.monotonic() + self.down_for
                return None
            try:
                up_writer.write(request)
                await up_writer.drain()
                response = await read_head(up_reader)
            except (ConnectionError, BadRequest, asyncio.IncompleteReadError):
                response = None
            if response is None:
                up_writer.close()
                if pooled and not retried:
                    # Most likely an idle connection the backend closed meanwhile: once more,
                    # on a new connection, to the same backend.
                    retried = True
                    backend.drop_idle()
                    continue
                backend.down_until = time.monotonic() + self.down_for
                if not safe:
                    # It may have run there (the backend died while answering): never twice.
                    raise Unanswered
                return None
            backend.down_until = 0.0
            reusable = await relay(up_reader, response, head, writer)
            if reusable:
                backend.release(up_reader, up_writer)
            else:
                up_writer.close()
            return reusable


async def relay(
    up: asyncio.StreamReader, response: Message, request: Message, writer: asyncio.StreamWriter
) -> bool:
    """Streams a response to the client; whether the backend's connection can be reused."""
    status = int(response.start.split(b" ", 2)[1])
    reusable = b"close" not in response.tokens(b"connection")
    no_body = request.start.startswith(b"HEAD ") or status in (204, 304) or status < 200
    if no_body:
        writer.write(response.encode([]))
    elif b"chunked" in response.tokens(b"transfer-encoding"):
        writer.write(response.encode([(b"Transfer-Encoding", b"chunked")]))
        async for part in chunked(up):
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
    elif (length := response.get(b"content-length")) is not None:
        writer.write(response.encode([]))
        left = int(length)
        while left:
            part = await up.read(min(left, COPY_BYTES))
            if not part:
                raise ConnectionError("backend closed mid-response")
            writer.write(part)
            await writer.drain()
            left -= len(part)
    else:  # delimited by the end of the connection
        writer.write(response.encode([(b"Connection", b"close")]))
        while part := await up.read(COPY_BYTES):
            writer.write(part)
            await writer.drain()
        await writer.drain()
        raise ConnectionError("response ended by close")
    await writer.drain()
    return reusable


async def _reply(writer: asyncio.StreamWriter, status: bytes) -> None:
    text = b'{"error": {"code": %s, "message": "%s"}}' % (status[:3], status[4:])
    head = b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (
        status,
        len(text),
    )
    try:
        writer.write(head + b"Connection: close\r\n\r\n" + text)
        await writer.drain()
    except ConnectionError:
        pass


def _backend(text: str) -> Backend:
    host, _, port = text.removeprefix("http://").rstrip("/").rpartition(":")
    return Backend(host or "127.0.0.1", int(port))


async def serve(
    host: str, port: int, backends: list[Backend], down_for: float, prefix: str = ""
) -> None:
    balancer = Balancer(backends, down_for, prefix)
    server = await asyncio.start_server(balancer.client, host, port, limit=HEAD_LIMIT)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"http://{host}:{port}", flush=True)
    async with server:
        await stop.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--backend", action="append", required=True, metavar="HOST:PORT", help="repeatable"
    )
    parser.add_argument(
        "--down-for", type=float, default=2.0, help="seconds a refusing backend is skipped"
    )
    parser.add_argument(
        "--prefix", default="", help="serve the backends under this path prefix (/openee)"
    )
    args = parser.parse_args()
    backends = [_backend(b) for b in args.backend]
    asyncio.run(serve(args.host, args.port, backends, args.down_for, args.prefix))
    return 0


if __name__ == "__main__":
    sys.exit(main())
