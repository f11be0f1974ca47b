"""What `openee serve` does once, before its first request, so that request is not slower than
the next ones (docs/decisions/0060).

A process's first large request used to pay for work that has nothing to do with its pixels:
starting the chunk and read threads, and the kernel faulting in and zeroing every page of
memory those threads' malloc arenas took for the first time (~2.5 µs per 4 KiB page on the
benchmark's VM: 20k pages, ~0.05 s of CPU in a cold 2048x2048 request). glibc gives each
thread its own arena, and the allocator setting (engine/allocator.py) keeps freed memory in it,
so after one large request a server never pays that again. `prepare_threads` pays it at
start-up instead, bounded (OPENEE_PREFAULT_BYTES): it starts every thread of the pools and, in
each, touches a block and frees it, so the thread's arena holds that much faulted-in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from openee.encode.buffers import RESPONSE_BUFFERS
from openee.engine.chunks import io_pool

# What one chunk thread or read thread of a 2048x2048 composite request touches for the first
# time, rounded up (windows and GDAL blocks in a read thread; sample maps, window composites and
# the median's layers in a chunk thread): more would only hold memory.
MAX_PER_THREAD = 32 << 20


def _touch(size: int) -> None:
    """Faults `size` bytes of this thread's arena in and frees them (the arena keeps them)."""
    if size <= 0:
        return
    block = np.empty(size, dtype=np.uint8)
    block[::4096] = 0  # one write per page: the kernel maps and zeroes it
    del block


def _run_on_every_thread(pool: ThreadPoolExecutor, workers: int, size: int) -> None:
    """Runs _touch once on each of the pool's `workers` threads (starting them): every task
    waits at a barrier until all are running, so no thread takes two."""
    barrier = threading.Barrier(workers)

    def task() -> None:
        try:
            barrier.wait(timeout=30)
        except threading.BrokenBarrierError:  # a thread busy elsewhere: skip, never touch twice
            return
        _touch(size)

    for future in [pool.submit(task) for _ in range(workers)]:
        future.result()


def prepare_response_buffers(keep_bytes: int) -> None:
    """Keeps up to `keep_bytes` for large responses, faulted in now (docs/decisions/0061)."""
    RESPONSE_BUFFERS.keep_bytes = keep_bytes
    RESPONSE_BUFFERS.prefault(keep_bytes)


def prepare_threads(pools: Sequence[tuple[ThreadPoolExecutor, int]], total_bytes: int) -> int:
    """Starts every thread of `pools` ((pool, its max_workers)) and of the read pool, and
    pre-faults up to `total_bytes` of their malloc arenas (an equal share each, at most
    MAX_PER_THREAD). Returns the bytes per thread.

    Not the calling thread's arena: that is the main arena, whose free top glibc would carve a
    large response buffer out of (and memset) instead of mapping it from the kernel's zero pages.
    """
    reads = io_pool()
    pools = [*pools, (reads, reads._max_workers)]
    share = min(MAX_PER_THREAD, total_bytes // max(1, sum(n for _, n in pools)))
    for pool, workers in pools:
        _run_on_every_thread(pool, workers, share)
    return share
