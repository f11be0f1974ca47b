"""A bounded in-memory cache of encoded results (map tiles), where concurrent requests for the
same key compute it once.

A browser asks for the same tiles again on every pan back and zoom out, and a map with several
viewers asks for them concurrently: the pixels of a tile are the expensive part, its bytes are
small. Entries expire after `ttl_s`, since a tile's sources can change under the same map id
(an overwritten import); the access checks of the request still run on every hit (the caller
does them before asking the cache), so a hit never serves a tile its requester could not get.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass


@dataclass(frozen=True)
class Encoded:
    content: bytes | memoryview
    media_type: str


class ResultCache:
    def __init__(self, max_bytes: int, ttl_s: float) -> None:
        self.max_bytes = max_bytes
        self.ttl_s = ttl_s
        self._entries: OrderedDict[Hashable, tuple[float, Encoded]] = OrderedDict()
        self._bytes = 0
        self._in_flight: dict[Hashable, Future[Encoded]] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Encoded]) -> Encoded:
        """The cached result of `key`, or `compute()`'s, computed once however many threads
        ask at the same time (the others wait for it; a failure reaches them all)."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and time.monotonic() - hit[0] < self.ttl_s:
                self._entries.move_to_end(key)
                return hit[1]
            waiting = self._in_flight.get(key)
            if waiting is None:
                mine: Future[Encoded] = Future()
                self._in_flight[key] = mine
        if waiting is not None:
            return waiting.result()
        try:
            result = compute()
        except BaseException as exc:
            with self._lock:
                self._in_flight.pop(key, None)
            mine.set_exception(exc)
            raise
        self._store(key, result)  # stored before it leaves the in-flight table: no gap
        with self._lock:
            self._in_flight.pop(key, None)
        mine.set_result(result)
        return result

    def _store(self, key: Hashable, result: Encoded) -> None:
        size = len(result.content)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1].content)
            self._entries[key] = (time.monotonic(), result)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= len(evicted.content)
