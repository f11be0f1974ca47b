"""Every request's time limit, and its cancellation: a deadline carried in a context variable.

The HTTP layer opens one per request (`within`); the evaluator checks it at every algorithm call
(so `List.map` over millions of elements stops), and chunked materialization waits for a chunk no
longer than the time left and cancels the chunks not started. A request past its deadline
answers DEADLINE_EXCEEDED with Earth Engine's wording and frees its work; the server goes on.
A request whose client has gone away is cancelled the same way (`Deadline.cancel`): nobody
will read its answer, so its work stops at the next check.

Chunk threads (and Dask workers) do not see the variable: a chunk that has started runs to its
end, which bounds the overrun by one chunk's time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from openee.errors import DeadlineExceededError


class ComputationTimedOut(DeadlineExceededError):
    prefixed = True  # Earth Engine's message names no algorithm

    def __init__(self) -> None:
        super().__init__("Computation timed out.")


class ComputationCancelled(DeadlineExceededError):
    prefixed = True

    def __init__(self) -> None:
        super().__init__("Computation cancelled: the client closed the connection.")


@dataclass(frozen=True)
class Deadline:
    expires_at: float  # time.monotonic(); math.inf for none
    cancelled: threading.Event = field(default_factory=threading.Event)

    def remaining(self) -> float:
        return 0.0 if self.cancelled.is_set() else self.expires_at - time.monotonic()

    def check(self) -> None:
        if self.cancelled.is_set():
            raise ComputationCancelled
        if time.monotonic() >= self.expires_at:
            raise ComputationTimedOut

    def cancel(self) -> None:
        self.cancelled.set()


_current: ContextVar[Deadline | None] = ContextVar("openee_deadline", default=None)


@contextmanager
def within(seconds: float | None) -> Iterator[Deadline]:
    """Runs the block under a deadline `seconds` from now (None: no time limit, but it can be
    cancelled). Code that runs in the block, and in threads started with a copy of its
    context, sees it."""
    deadline = Deadline(math.inf if seconds is None else time.monotonic() + seconds)
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def check() -> None:
    """Raises ComputationTimedOut when the current request's deadline has passed."""
    deadline = _current.get()
    if deadline is not None:
        deadline.check()


def remaining() -> float | None:
    """Seconds left to the current deadline (at least 0), or None without a time limit."""
    deadline = _current.get()
    if deadline is None or deadline.remaining() == math.inf:
        return None
    return max(0.0, deadline.remaining())
