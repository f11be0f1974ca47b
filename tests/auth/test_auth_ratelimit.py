"""The failed-authentication limiter: >20 failures a minute per key block it for 60 s."""

from __future__ import annotations

import threading

import pytest

from openee.auth import FailureLimiter, TooManyFailuresError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail_times(limiter: FailureLimiter, n: int, key: str = "client:1.2.3.4") -> None:
    for _ in range(n):
        limiter.record_failure([key])


def test_twenty_failures_a_minute_are_tolerated() -> None:
    limiter = FailureLimiter(clock=Clock())
    fail_times(limiter, 20)
    limiter.check(["client:1.2.3.4"])


def test_the_twenty_first_failure_blocks_for_sixty_seconds() -> None:
    clock = Clock()
    limiter = FailureLimiter(clock=clock)
    fail_times(limiter, 20)
    with pytest.raises(TooManyFailuresError) as info:
        limiter.record_failure(["client:1.2.3.4"])
    assert info.value.retry_after_s == 60
    clock.now += 59.5
    with pytest.raises(TooManyFailuresError) as info:
        limiter.check(["client:1.2.3.4"])
    assert info.value.retry_after_s == 1
    clock.now += 0.5
    limiter.check(["client:1.2.3.4"])


def test_failures_older_than_a_minute_do_not_count() -> None:
    clock = Clock()
    limiter = FailureLimiter(clock=clock)
    fail_times(limiter, 20)
    clock.now += 60
    fail_times(limiter, 20)
    limiter.check(["client:1.2.3.4"])


def test_keys_are_counted_separately() -> None:
    limiter = FailureLimiter(clock=Clock())
    fail_times(limiter, 20, "client:a")
    fail_times(limiter, 20, "account:x@p.iam.gserviceaccount.com")
    limiter.check(["client:a", "client:b", "account:x@p.iam.gserviceaccount.com"])
    with pytest.raises(TooManyFailuresError):
        limiter.record_failure(["client:b", "account:x@p.iam.gserviceaccount.com"])
    limiter.check(["client:b"])  # only the account tripped
    with pytest.raises(TooManyFailuresError):
        limiter.check(["client:b", "account:x@p.iam.gserviceaccount.com"])


def test_limiter_is_thread_safe() -> None:
    limiter = FailureLimiter(max_failures=1000, clock=Clock())
    tripped: list[int] = []

    def hammer() -> None:
        for _ in range(125):
            try:
                limiter.record_failure(["client:x"])
            except TooManyFailuresError:
                tripped.append(1)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 8 x 125 = 1000 failures: exactly at the limit, never over it, whatever the interleaving.
    assert tripped == []
    with pytest.raises(TooManyFailuresError):
        limiter.record_failure(["client:x"])
