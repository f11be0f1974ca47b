"""A bounded in-memory cache of encoded results (map tiles), where concurrent requests for the
same key compute it once, with an optional bounded disk tier behind it.

A browser asks for the same tiles again on every pan back and zoom out, and a map with several
viewers asks for them concurrently: the pixels of a tile are the expensive part, its bytes are
small. Entries expire after `ttl_s`, since a tile's sources can change under the same map id
(an overwritten import); the access checks of the request still run on every hit (the caller
does them before asking the cache), so a hit never serves a tile its requester could not get.

The disk tier (OPENEE_TILE_CACHE_DIR) keeps tiles across restarts, which content-addressed map ids
(ADR 0037) make reachable again. It holds one file per key, named by the SHA-256 of the key (a
key holds a map id, which is a credential: never a file name), with the same time to live, and
drops its oldest files when it passes its size. Its size is counted by this process; servers
sharing one directory each keep their own count, so together they may pass it until one trims.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Encoded:
    content: bytes | memoryview
    media_type: str

    @functools.cached_property
    def etag(self) -> str:
        """A strong validator of the content (HTTP ETag), computed once per cached entry."""
        return f'"{hashlib.sha256(self.content).hexdigest()[:32]}"'


class DiskTier:
    """Encoded results in files under a directory, at most about `max_bytes` of them."""

    # After passing its size, the tier trims to this fraction of it, so it does not trim on
    # every write.
    TRIM_TO = 0.9

    def __init__(self, directory: Path, max_bytes: int, ttl_s: float) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.max_bytes = max_bytes
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._bytes = sum(size for _, _, size in self._files())

    def _path(self, key: Hashable) -> Path:
        name = hashlib.sha256(repr(key).encode("utf-8")).hexdigest()
        return self.directory / name[:2] / name

    def _files(self) -> list[tuple[float, Path, int]]:
        """(modification time, path, size) of every entry."""
        found = []
        for sub in self.directory.iterdir():
            if not sub.is_dir():
                continue
            for entry in os.scandir(sub):
                if entry.name.startswith("."):
                    continue  # a write in progress
                with contextlib.suppress(FileNotFoundError):
                    st = entry.stat()
                    found.append((st.st_mtime, Path(entry.path), st.st_size))
        return found

    def get(self, key: Hashable) -> Encoded | None:
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                if time.time() - os.fstat(fh.fileno()).st_mtime >= self.ttl_s:
                    return None
                data = fh.read()
        except FileNotFoundError:
            return None
        media_type, _, content = data.partition(b"\n")
        return Encoded(content, media_type.decode("ascii"))

    def put(self, key: Hashable, result: Encoded) -> None:
        data = result.media_type.encode("ascii") + b"\n" + bytes(result.content)
        if len(data) > self.max_bytes:
            return
        path = self._path(key)
        path.parent.mkdir(exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            try:
                old = path.stat().st_size
            except FileNotFoundError:
                old = 0
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        with self._lock:
            self._bytes += len(data) - old
            if self._bytes <= self.max_bytes:
                return
            files = sorted(self._files())
            total = sum(size for _, _, size in files)
            for _, victim, size in files:
                if total <= self.max_bytes * self.TRIM_TO:
                    break
                with contextlib.suppress(FileNotFoundError):
                    victim.unlink()
                total -= size
            self._bytes = total


class ResultCache:
    def __init__(self, max_bytes: int, ttl_s: float, disk: DiskTier | None = None) -> None:
        self.max_bytes = max_bytes
        self.ttl_s = ttl_s
        self.disk = disk
        self._entries: OrderedDict[Hashable, tuple[float, Encoded]] = OrderedDict()
        self._bytes = 0
        self._in_flight: dict[Hashable, Future[Encoded]] = {}
        self._lock = threading.Lock()

    def peek(self, key: Hashable) -> Encoded | None:
        """The live entry of `key` in the memory tier, or None (nothing is computed)."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or time.monotonic() - hit[0] >= self.ttl_s:
                return None
            self._entries.move_to_end(key)
            return hit[1]

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
            result = self.disk.get(key) if self.disk is not None else None
            computed = result is None
            if result is None:
                result = compute()
        except BaseException as exc:
            with self._lock:
                self._in_flight.pop(key, None)
            mine.set_exception(exc)
            raise
        self._store(key, result)  # stored before it leaves the in-flight table: no gap
        if computed and self.disk is not None:
            # A full or read-only disk costs the tier, not the tile.
            with contextlib.suppress(OSError):
                self.disk.put(key, result)
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


class ShortMemo:
    """The last few values of a function, each reused for `ttl_s` seconds (LRU, `max_entries`).

    For the evaluated expression of a map id: a browser asks for a view's tiles in a burst, and
    each tile would evaluate the same expression again (catalog and access look-ups) only to hit
    the tile cache (ADR 0037).
    """

    def __init__(self, max_entries: int, ttl_s: float) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < self.ttl_s:
                self._entries.move_to_end(key)
                return hit[1]
        value = compute()  # not coalesced: a few concurrent evaluations are cheap
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value
