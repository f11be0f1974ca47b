"""The encoded-result cache: computed once per key however many ask at once, bounded, expiring."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from openee.services.result_cache import DiskTier, Encoded, ResultCache, ShortMemo


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


def test_the_disk_tier_serves_a_new_process_and_holds_no_key_in_a_name(tmp_path: Path) -> None:
    key = ("p", "0123456789abcdef0123456789abcdef01234567", 4, 8, 5, "PNG")
    first = ResultCache(1 << 20, 60, disk=DiskTier(tmp_path, 1 << 20, 60))
    first.get_or_compute(key, lambda: Encoded(b"\x89PNG tile", "image/png"))
    # A new cache on the same directory (a restarted server) reads it without computing.
    second = ResultCache(1 << 20, 60, disk=DiskTier(tmp_path, 1 << 20, 60))
    got = second.get_or_compute(key, lambda: pytest.fail("computed again"))
    assert got == Encoded(b"\x89PNG tile", "image/png")
    names = [p.name for p in tmp_path.rglob("*")]
    assert names and not any(key[1] in name for name in names)


def test_the_disk_tier_expires_and_stays_within_its_size(tmp_path: Path) -> None:
    disk = DiskTier(tmp_path, 1000, 60)
    for i in range(30):
        disk.put(i, Encoded(bytes(90), "image/png"))  # 100 bytes a file with the header
        os.utime(disk._path(i), (1_700_000_000 + i, 1_700_000_000 + i))  # oldest first
    on_disk = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert on_disk <= 1000
    assert disk.get(29) is None  # older than the time to live (set by utime above)
    disk.put(29, Encoded(bytes(90), "image/png"))
    assert disk.get(29) == Encoded(bytes(90), "image/png")
    assert not disk._path(0).exists() and disk._path(28).exists()  # the oldest went first


def test_the_short_memo_reuses_a_value_until_it_expires_and_stays_bounded() -> None:
    memo = ShortMemo(max_entries=2, ttl_s=0.2)
    calls: list[str] = []

    def make(key: str) -> str:
        calls.append(key)
        return key.upper()

    assert memo.get_or_compute("a", lambda: make("a")) == "A"
    assert memo.get_or_compute("a", lambda: make("a")) == "A"
    assert calls == ["a"]
    memo.get_or_compute("b", lambda: make("b"))
    memo.get_or_compute("c", lambda: make("c"))  # past the bound: "a" goes
    memo.get_or_compute("a", lambda: make("a"))
    assert calls == ["a", "b", "c", "a"]
    time.sleep(0.25)
    memo.get_or_compute("a", lambda: make("a"))
    assert calls == ["a", "b", "c", "a", "a"]
