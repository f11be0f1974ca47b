"""The process-wide memory budget: the estimated peaks of the requests running at once.

Each request's peak is estimated before its pixels are computed (`compute.pixels.check_limits`);
the per-request budget bounds one request, this ledger bounds their sum. A request whose
estimate does not fit waits for others to finish (up to `wait_s`), then is refused with
RESOURCE_EXHAUSTED, which the stock client retries with backoff. What a request reserved is
given back when it ends (`request_scope`, opened by the HTTP layer around each request; it
covers a streamed body to its last byte).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from openee.errors import ResourceExhaustedError


class MemoryLedger:
    def __init__(self, budget_bytes: int, wait_s: float) -> None:
        self.budget_bytes = budget_bytes
        self.wait_s = wait_s
        self.reserved = 0
        self.high_water = 0  # the most ever reserved at once (tests and logs)
        self._changed = threading.Condition()

    def reserve(self, nbytes: int) -> None:
        """Reserves `nbytes`, waiting for room; ResourceExhaustedError when none comes."""
        give_up = time.monotonic() + self.wait_s
        with self._changed:
            # A request larger than the whole budget runs alone rather than never.
            while self.reserved and self.reserved + nbytes > self.budget_bytes:
                left = give_up - time.monotonic()
                if left <= 0:
                    raise ResourceExhaustedError(
                        f"The server is busy with other large requests ({self.reserved // 2**20} "
                        f"MiB of {self.budget_bytes // 2**20} MiB in use; this one needs about "
                        f"{nbytes // 2**20} MiB): retry in a moment."
                    )
                self._changed.wait(left)
            self.reserved += nbytes
            self.high_water = max(self.high_water, self.reserved)

    def release(self, nbytes: int) -> None:
        with self._changed:
            self.reserved -= nbytes
            self._changed.notify_all()


# The current request's reservations, and the ledger they come from.
_current: ContextVar[tuple[MemoryLedger, list[int]] | None] = ContextVar(
    "openee_memory", default=None
)


@contextmanager
def request_scope(ledger: MemoryLedger) -> Iterator[None]:
    """Everything the block (a request) reserves is released when it ends."""
    reservations: list[int] = []
    token = _current.set((ledger, reservations))
    try:
        yield
    finally:
        _current.reset(token)
        if reservations:
            ledger.release(sum(reservations))


def reserve(nbytes: int) -> None:
    """Reserves `nbytes` for the current request (nothing outside a request: CLI, tests)."""
    current = _current.get()
    if current is None:
        return
    ledger, reservations = current
    ledger.reserve(nbytes)
    reservations.append(nbytes)
