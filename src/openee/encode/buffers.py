"""Large response buffers kept between requests, so a response is written into memory that is
already resident (docs/decisions/0061).

A 2048x2048 NPY response is a 96 MiB buffer. Allocated afresh (above glibc's mmap threshold,
engine/allocator.py) it is mapped from the kernel on every request and unmapped after it, so
every request faults in 96 MiB of new pages. On a VM whose kernel hands free memory back to the
hypervisor (free page reporting), pages freed a few seconds earlier are often gone, and faulting
them in again took ~0.1-0.2 s instead of ~0.01 s: the slow mode of a cold or idle-then-asked
request (bench/RESULTS.md, 2026-12-05 10:20). Kept blocks stay resident; zeroing one again is a
memset of memory already there.

A block is handed out again only when nothing refers to the array made from it: the array is a
view of a bytearray, so every numpy view and memoryview taken from it refers to that array (numpy
stops collapsing a view's base at a non-ndarray owner), and a weakref finalizer on it returns the
block. A response still being sent, compressed or held by a caller keeps its block out of use.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

# Smaller buffers come from glibc's heap, which keeps freed memory resident already.
MIN_KEPT = 32 << 20


class ResponseBuffers:
    """Zeroed byte buffers, from kept blocks (at most `keep_bytes` in all) when one is free."""

    def __init__(self, keep_bytes: int = 0) -> None:
        self.keep_bytes = keep_bytes
        self._kept = 0  # bytes of every kept block, free or in use
        self._free: list[bytearray] = []
        # Re-entrant: a finalizer (_give_back) can run in this thread while it holds the lock,
        # if a garbage collection inside the locked code frees a handed-out array.
        self._lock = threading.RLock()

    def zeros(self, size: int) -> np.ndarray:
        """A zeroed uint8 array of `size` bytes."""
        block, fresh = self._take(size)
        if block is None:
            return np.zeros(size, dtype=np.uint8)
        array = np.frombuffer(block, dtype=np.uint8, count=size)
        if not fresh:
            array[...] = 0
        weakref.finalize(array, self._give_back, block)
        return array

    def prefault(self, size: int) -> None:
        """Keeps one resident block of `size` bytes (within keep_bytes), before any request."""
        if size >= MIN_KEPT and self._reserve(size):
            self._give_back(bytearray(size))  # bytearray(n) writes its n zero bytes

    def _take(self, size: int) -> tuple[bytearray | None, bool]:
        """(the smallest free block that holds `size`, or a new kept block, or None; new?)"""
        if size < MIN_KEPT:
            return None, False
        with self._lock:
            fits = [b for b in self._free if len(b) >= size]
            if fits:
                block = min(fits, key=len)
                self._free.remove(block)
                return block, False
        if self._reserve(size):
            return bytearray(size), True
        return None, False

    def _reserve(self, size: int) -> bool:
        with self._lock:
            if self._kept + size > self.keep_bytes:
                return False
            self._kept += size
            return True

    def _give_back(self, block: bytearray) -> None:
        with self._lock:
            self._free.append(block)


# The process's buffers; `openee serve` sets keep_bytes at start (OPENEE_RESPONSE_BUFFER_BYTES).
RESPONSE_BUFFERS = ResponseBuffers()
