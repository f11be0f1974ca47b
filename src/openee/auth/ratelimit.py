"""Failed-authentication rate limiting: too many failures block a client or an account.

More than `max_failures` failures within `window_s` seconds, counted per key (a client address
or an account e-mail), block that key for `block_s` seconds. While blocked, every request for
the key is refused without being evaluated, valid credentials or not. `FailureLimiter` keeps
its state in memory, per process (a restart forgets it); `StoredFailureLimiter` keeps it in the
shared state database, so that replicas behind a balancer count failures together.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable

from openee.errors import ResourceExhaustedError
from openee.statedb import Migration, StateDB

DEFAULT_MAX_FAILURES = 20
DEFAULT_WINDOW_S = 60.0
DEFAULT_BLOCK_S = 60.0
# Keys tracked at once; beyond this the least recently failed key is forgotten, so a flood of
# distinct addresses cannot exhaust memory.
_MAX_TRACKED_KEYS = 100_000


class TooManyFailuresError(ResourceExhaustedError):
    """A client or account is blocked after too many failed authentications."""

    def __init__(self, retry_after_s: int) -> None:
        """Creates the error.

        Args:
            retry_after_s: Whole seconds until the block ends (the `Retry-After` value).
        """
        super().__init__(
            f"Too many failed authentication attempts. Retry after {retry_after_s} seconds."
        )
        self.retry_after_s = retry_after_s


def client_key(address: str | None) -> str:
    """Returns the limiter key of a client address."""
    return f"client:{address or 'unknown'}"


def account_key(email: str) -> str:
    """Returns the limiter key of an account."""
    return f"account:{email}"


class _Entry:
    __slots__ = ("blocked_until", "failures")

    def __init__(self) -> None:
        self.failures: deque[float] = deque()
        self.blocked_until = 0.0


class FailureLimiter:
    """Counts authentication failures per key in a sliding window. Thread-safe."""

    def __init__(
        self,
        max_failures: int = DEFAULT_MAX_FAILURES,
        window_s: float = DEFAULT_WINDOW_S,
        block_s: float = DEFAULT_BLOCK_S,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Creates the limiter.

        Args:
            max_failures: Failures tolerated per key within the window; one more blocks it.
            window_s: Length of the sliding window, in seconds.
            block_s: How long a key stays blocked, in seconds.
            clock: Returns a monotonic time in seconds; replaceable in tests.
        """
        if max_failures < 1:
            raise ValueError("max_failures must be at least 1.")
        self.max_failures = max_failures
        self.window_s = window_s
        self.block_s = block_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def check(self, keys: Iterable[str]) -> None:
        """Refuses a request if any of its keys is blocked.

        Raises:
            TooManyFailuresError: A key is blocked; carries the seconds left.
        """
        now = self._clock()
        with self._lock:
            remaining = max(
                (e.blocked_until - now for k in keys if (e := self._entries.get(k)) is not None),
                default=0.0,
            )
        if remaining > 0:
            raise TooManyFailuresError(max(1, math.ceil(remaining)))

    def record_failure(self, keys: Iterable[str]) -> None:
        """Counts one failure against each key.

        Raises:
            TooManyFailuresError: This failure pushed a key over the limit; it is now blocked.
        """
        now = self._clock()
        tripped = False
        with self._lock:
            for key in keys:
                entry = self._entries.pop(key, None) or _Entry()
                self._entries[key] = entry  # most recently failed last
                failures = entry.failures
                while failures and failures[0] <= now - self.window_s:
                    failures.popleft()
                failures.append(now)
                if len(failures) > self.max_failures:
                    entry.blocked_until = now + self.block_s
                    failures.clear()
                    tripped = True
            while len(self._entries) > _MAX_TRACKED_KEYS:
                self._entries.popitem(last=False)
        if tripped:
            raise TooManyFailuresError(max(1, math.ceil(self.block_s)))


# The rate-limit component's schema versions (statedb.migrate); append, never edit.
MIGRATIONS: tuple[Migration, ...] = (
    (
        "CREATE TABLE IF NOT EXISTS auth_failures (key TEXT NOT NULL, at {real} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS auth_failures_key ON auth_failures (key, at)",
        "CREATE TABLE IF NOT EXISTS auth_blocks ("
        " key TEXT PRIMARY KEY, blocked_until {real} NOT NULL)",
    ),
)


class StoredFailureLimiter(FailureLimiter):
    """The same limits, counted in the state database: one count for all replicas.

    Times are wall-clock seconds (replicas share no monotonic clock). Expired failures and
    blocks are deleted as keys fail again, and all of them every `window_s` at most.
    """

    def __init__(
        self,
        db: StateDB,
        max_failures: int = DEFAULT_MAX_FAILURES,
        window_s: float = DEFAULT_WINDOW_S,
        block_s: float = DEFAULT_BLOCK_S,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(max_failures, window_s, block_s, clock=clock)
        self.db = db
        db.migrate("ratelimit", MIGRATIONS)
        self._last_purge = 0.0

    def check(self, keys: Iterable[str]) -> None:
        wanted = list(keys)
        if not wanted:
            return
        now = self._clock()
        with self.db.tx(write=False) as conn:
            row = conn.execute(
                "SELECT MAX(blocked_until) FROM auth_blocks"
                f" WHERE key IN ({', '.join('?' for _ in wanted)})",
                wanted,
            ).fetchone()
        remaining = (row[0] or 0.0) - now if row else 0.0
        if remaining > 0:
            raise TooManyFailuresError(max(1, math.ceil(remaining)))

    def record_failure(self, keys: Iterable[str]) -> None:
        now = self._clock()
        tripped = False
        with self.db.tx() as conn:
            if now - self._last_purge > self.window_s:
                self._last_purge = now
                conn.execute("DELETE FROM auth_failures WHERE at <= ?", (now - self.window_s,))
                conn.execute("DELETE FROM auth_blocks WHERE blocked_until <= ?", (now,))
            for key in keys:
                conn.lock(f"ratelimit:{key}")
                conn.execute(
                    "DELETE FROM auth_failures WHERE key = ? AND at <= ?",
                    (key, now - self.window_s),
                )
                conn.execute("INSERT INTO auth_failures (key, at) VALUES (?, ?)", (key, now))
                (count,) = conn.execute(
                    "SELECT COUNT(*) FROM auth_failures WHERE key = ?", (key,)
                ).fetchone()
                if int(count) > self.max_failures:
                    conn.execute(
                        "INSERT INTO auth_blocks (key, blocked_until) VALUES (?, ?)"
                        " ON CONFLICT (key) DO UPDATE SET blocked_until = excluded.blocked_until",
                        (key, now + self.block_s),
                    )
                    conn.execute("DELETE FROM auth_failures WHERE key = ?", (key,))
                    tripped = True
        if tripped:
            raise TooManyFailuresError(max(1, math.ceil(self.block_s)))
