"""The server's own URL, for every URL it writes into a response (the discovery document's
rootUrl, Drive export download links, redirects), built in one place (ADR 0059):

1. OPENEE_PUBLIC_URL when it is set;
2. else what a trusted reverse proxy says: `X-Forwarded-Proto`, `X-Forwarded-Host` and
   `X-Forwarded-Prefix` (the path prefix it strips), believed only from a peer address in
   OPENEE_FORWARDED_ALLOW_IPS (uvicorn's --forwarded-allow-ips; loopback by default);
3. else the request itself: its scheme and `Host`, under OPENEE_ROOT_PATH (`--root-path`).

`ForwardedMiddleware` (the outermost) turns 2 and 3 into the ASGI scope: `root_path` is the
prefix, `scheme` and the `host` header are the public ones, `client` is the proxy's
`X-Forwarded-For` client (uvicorn's own middleware does Proto and For). `path` stays the route's
own, without the prefix, whether the proxy stripped it or not, so everything inside (routing,
admission, the access log's redaction of capability ids) sees the paths it always did. A
`Location` the app writes on its own origin gets the prefix back.

Why only from trusted peers: anyone can send these headers; believed from any client, they
would let it choose the host in the links the server writes (and in those it keeps, such as a
Drive export's) and the address the rate limiter counts failures against.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Any, cast
from urllib.parse import urlsplit

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from openee.api.deps import get_state
from openee.settings import path_prefix

# host, host:port, [v6] or [v6]:port: what may become the Host of the URLs written.
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


def public_base_url(request: Request) -> str:
    """The base URL (no trailing slash) every URL the server writes into a response starts
    with: `<base>/v1/...`, `<base>/token`."""
    public = get_state(request).settings.public_url
    return public.rstrip("/") if public else str(request.base_url).rstrip("/")


def trusts(allowed: Iterable[str]) -> Callable[[str | None], bool]:
    """Whether a peer address is one of `allowed` (addresses, networks, or `*`)."""
    items = tuple(allowed)
    if "*" in items:
        return lambda host: True
    networks = [ipaddress.ip_network(item, strict=False) for item in items]

    def trusted(host: str | None) -> bool:
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:  # no peer, or not an address (a test client's "testclient")
            return False
        return any(address in network for network in networks)

    return trusted


class ForwardedMiddleware:
    """Sets the request's public scheme, host and path prefix (see the module docstring)."""

    def __init__(self, app: ASGIApp, root_path: str, forwarded_allow_ips: Iterable[str]) -> None:
        allowed = list(forwarded_allow_ips)
        # uvicorn types its middleware with its own (narrower) ASGI types: the same protocol.
        self.app = cast(ASGIApp, ProxyHeadersMiddleware(cast(Any, app), trusted_hosts=allowed))
        self.root_path = root_path
        self.trusted = trusts(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        prefix = self.root_path
        client = scope.get("client")
        if self.trusted(client[0] if client else None):
            forwarded = _last(headers, b"x-forwarded-prefix")
            if forwarded is not None:
                with contextlib.suppress(ValueError):  # malformed: the configured prefix
                    prefix = path_prefix(forwarded)
            host = _last(headers, b"x-forwarded-host")
            if host is not None and _HOST.fullmatch(host):
                headers = [(k, v) for k, v in headers if k != b"host"]
                headers.append((b"host", host.encode("latin-1")))
        path: str = scope["path"]
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            path = path[len(prefix) :] or "/"  # a proxy that passes the prefix on
        scope = {
            **scope,
            "headers": headers,
            "root_path": prefix,
            "path": path,
            "raw_path": path.encode("utf-8"),
        }
        if not prefix:
            await self.app(scope, receive, send)
            return
        origin = _host_of(headers)

        async def send_with_prefix(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [
                        (k, _prefixed(v, prefix, origin) if k.lower() == b"location" else v)
                        for k, v in message.get("headers", [])
                    ],
                }
            await send(message)

        await self.app(scope, receive, send_with_prefix)


def _last(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The last value of a header, over its lines and their `a, b` lists: the one the trusted
    peer wrote. A proxy that appends (Apache's mod_proxy) or adds a line passes on before it
    whatever the client sent, so any earlier value may be the client's (Werkzeug's ProxyFix
    likewise takes the right-most value)."""
    found = None
    for key, value in headers:
        if key == name:
            found = value
    return None if found is None else found.decode("latin-1").split(",")[-1].strip()


def _host_of(headers: list[tuple[bytes, bytes]]) -> str | None:
    for key, value in headers:
        if key == b"host":
            return value.decode("latin-1")
    return None


def _prefixed(location: bytes, prefix: str, origin: str | None) -> bytes:
    """A redirect to this server (root-relative, or absolute on the request's own host) with
    the prefix its route paths lack; relative and foreign targets are left alone."""
    text = location.decode("latin-1")
    parts = urlsplit(text)
    own = (not parts.netloc and text.startswith("/") and not text.startswith("//")) or (
        parts.netloc != "" and parts.netloc == origin
    )
    if not own or parts.path == prefix or parts.path.startswith(prefix + "/"):
        return location
    return parts._replace(path=prefix + parts.path).geturl().encode("latin-1")
