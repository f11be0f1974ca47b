"""The encoded-result cache: computed once per key however many ask at once, bounded, expiring."""

from __future__ import annotations

import threading
import time

import pytest

from openee.compute.result_cache import Encoded, ResultCache


def test_concurrent_requests_for_one_key_compute_it_once() -> None:
    cache = ResultCache(max_bytes=1 << 20, ttl_s=60)
    calls = 0
    gate = threading.Event()

    def compute() -> Encoded:
        nonlocal calls
        calls += 1
        gate.wait(5)
        return Encoded(b"tile", "image/png")

    results: list[Encoded] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("k", compute)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    time.sleep(0.1)
    gate.set()
    for t in threads:
        t.join(5)
    assert calls == 1
    assert [r.content for r in results] == [b"tile"] * 8
    assert cache.get_or_compute("k", compute).content == b"tile" and calls == 1  # a hit


def test_a_failure_reaches_every_waiter_and_is_not_cached() -> None:
    cache = ResultCache(max_bytes=1 << 20, ttl_s=60)

    def fail() -> Encoded:
        raise ValueError("broken source")

    with pytest.raises(ValueError, match="broken source"):
        cache.get_or_compute("k", fail)
    assert cache.get_or_compute("k", lambda: Encoded(b"ok", "image/png")).content == b"ok"


def test_least_recently_used_entries_go_first_past_the_bound() -> None:
    cache = ResultCache(max_bytes=10, ttl_s=60)
    made: list[str] = []

    def make(key: str) -> Encoded:
        made.append(key)
        return Encoded(b"12345", "image/png")

    cache.get_or_compute("a", lambda: make("a"))
    cache.get_or_compute("b", lambda: make("b"))
    cache.get_or_compute("a", lambda: make("a"))  # a is now the most recent
    cache.get_or_compute("c", lambda: make("c"))  # evicts b
    cache.get_or_compute("a", lambda: make("a"))
    cache.get_or_compute("b", lambda: make("b"))
    assert made == ["a", "b", "c", "b"]


def test_entries_expire() -> None:
    cache = ResultCache(max_bytes=1 << 20, ttl_s=0.05)
    made = []
    cache.get_or_compute("k", lambda: made.append(1) or Encoded(b"x", "image/png"))
    time.sleep(0.1)
    cache.get_or_compute("k", lambda: made.append(1) or Encoded(b"x", "image/png"))
    assert len(made) == 2
