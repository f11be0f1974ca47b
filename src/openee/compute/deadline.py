"""Every request's time limit: a deadline carried in a context variable.

The HTTP layer opens one per request (`within`); the evaluator checks it at every algorithm call
(so `List.map` over millions of elements stops), and chunked materialization waits for a chunk no
longer than the time left and cancels the chunks not started. A request past its deadline
answers DEADLINE_EXCEEDED with Earth Engine's wording and frees its work; the server goes on.

Chunk threads (and Dask workers) do not see the variable: a chunk that has started runs to its
end, which bounds the overrun by one chunk's time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from openee.errors import DeadlineExceededError


class ComputationTimedOut(DeadlineExceededError):
    prefixed = True  # Earth Engine's message names no algorithm

    def __init__(self) -> None:
        super().__init__("Computation timed out.")


@dataclass(frozen=True)
class Deadline:
    expires_at: float  # time.monotonic()

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()

    def check(self) -> None:
        if time.monotonic() >= self.expires_at:
            raise ComputationTimedOut


_current: ContextVar[Deadline | None] = ContextVar("openee_deadline", default=None)


@contextmanager
def within(seconds: float | None) -> Iterator[None]:
    """Runs the block under a deadline `seconds` from now (None: no limit). Code that runs in
    the block, and in threads started with a copy of its context, sees it."""
    token = _current.set(None if seconds is None else Deadline(time.monotonic() + seconds))
    try:
        yield
    finally:
        _current.reset(token)


def check() -> None:
    """Raises ComputationTimedOut when the current request's deadline has passed."""
    deadline = _current.get()
    if deadline is not None:
        deadline.check()


def remaining() -> float | None:
    """Seconds left to the current deadline (at least 0), or None without one."""
    deadline = _current.get()
    return None if deadline is None else max(0.0, deadline.remaining())
