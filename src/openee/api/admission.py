"""Fair shares of compute between projects: how many compute requests run at once, and whose.

Compute requests (value:compute, computePixels, computeImages, computeFeatures, getPixels, map
tiles, thumbnails and downloads) take one of `slots`; everything else (the token endpoint, asset
reads, listings) never waits here. A project may hold at most its share of the slots
(`slots // projects with requests running or waiting`, at least one) and at most
`per_project` (Earth Engine's 40 concurrent requests per project), so a project that floods the
server queues behind its own requests while another project's requests start at once. A request
that waits longer than `wait_s` is answered 429 RESOURCE_EXHAUSTED with Retry-After, which the
stock client honours by retrying with backoff.

Waiting happens here, in the event loop, before the request takes a worker thread: queued
requests hold no thread, so cheap requests always find one.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter

from starlette.types import ASGIApp, Receive, Scope, Send

# The project of a compute call, from its path (`/v1/projects/{p}/...`).
_COMPUTE_PATH = re.compile(
    r"^/[^/]+/projects/([^/]+)/(?:value:compute|image:computePixels|imageCollection:computeImages"
    r"|table:computeFeatures|.+:getPixels|maps/[^/]+/tiles/.+|.+:getFeatures)$"
)
RETRY_AFTER_S = 2


class FairShares:
    """Counts of running and waiting compute requests per project, and who may start."""

    def __init__(self, slots: int, per_project: int, wait_s: float) -> None:
        self.slots = max(1, slots)
        self.per_project = max(1, per_project)
        self.wait_s = wait_s
        self.running: Counter[str] = Counter()
        self.waiting: Counter[str] = Counter()
        self._changed: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:  # made on first use, inside the server's event loop
            self._changed = asyncio.Condition()
        return self._changed

    def share(self, project: str) -> int:
        active = {p for p, n in (self.running + self.waiting).items() if n > 0} | {project}
        return min(self.per_project, max(1, self.slots // len(active)))

    def may_start(self, project: str) -> bool:
        return self.running.total() < self.slots and self.running[project] < self.share(project)

    async def acquire(self, project: str) -> bool:
        """Takes a slot for `project`; False when none came free within `wait_s`."""
        changed = self._condition()
        async with changed:
            self.waiting[project] += 1
            try:
                await asyncio.wait_for(
                    changed.wait_for(lambda: self.may_start(project)), self.wait_s
                )
            except TimeoutError:
                return False
            finally:
                self.waiting[project] -= 1
                self.waiting = +self.waiting  # drops projects no longer waiting
                changed.notify_all()  # shares change when a project stops waiting
            self.running[project] += 1
            return True

    async def release(self, project: str) -> None:
        changed = self._condition()
        async with changed:
            self.running[project] -= 1
            self.running = +self.running
            changed.notify_all()


class AdmissionMiddleware:
    """Runs compute requests within their project's fair share of the compute slots."""

    def __init__(self, app: ASGIApp, shares: FairShares) -> None:
        self.app = app
        self.shares = shares

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _COMPUTE_PATH.match(scope["path"]) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        project = found.group(1)
        if not await self.shares.acquire(project):
            await _too_busy(send, project)
            return
        try:
            await self.app(scope, receive, send)  # holds the slot until the body is sent
        finally:
            await self.shares.release(project)


async def _too_busy(send: Send, project: str) -> None:
    body = json.dumps(
        {
            "error": {
                "code": 429,
                "message": f"Too many concurrent requests for project '{project}'; "
                "retry after a moment.",
                "status": "RESOURCE_EXHAUSTED",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_S).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
