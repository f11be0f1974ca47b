"""What `openee serve` does before its first request (engine/startup.py): every chunk and read
thread started, and their malloc arenas faulted in, so the first request's arrays land on pages
the kernel has mapped already."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# In a fresh process (fresh arenas): each of 2 pool threads allocates and fills 16 arrays of
# 1 MiB (under numpy's 4 MiB huge-page threshold, and huge pages are off) and counts its own
# page faults (RUSAGE_THREAD); "prepared" runs prepare_threads first, as `openee serve` does.
FIRST_REQUEST = """
import json, os, resource, sys, threading
from concurrent.futures import ThreadPoolExecutor
import numpy as np
np._core.multiarray._set_madvise_hugepage(False)
from openee.engine.allocator import tune_allocator
from openee.engine.chunks import io_pool
from openee.engine.startup import prepare_threads
assert tune_allocator()
pool = ThreadPoolExecutor(2)
total = (2 + (os.cpu_count() or 2)) * (32 << 20)  # 32 MiB for each chunk and read thread
share = prepare_threads([(pool, 2)], total) if sys.argv[1] == "prepared" else 0
started = {"chunk": len(pool._threads), "read": len(io_pool()._threads)}
barrier = threading.Barrier(2)
def first_request():
    barrier.wait()  # one task per thread
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    arrays = [np.ones(1 << 20, dtype=np.uint8) for _ in range(16)]
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before
faults = [f.result() for f in [pool.submit(first_request) for _ in range(2)]]
print(json.dumps({"share": share, "started": started, "faults": faults}))
"""


def first_request(mode: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", FIRST_REQUEST, mode], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def test_threads_start_with_their_arenas_faulted_in() -> None:
    cold, prepared = first_request("cold"), first_request("prepared")
    pages = 16 * (1 << 20) // 4096
    # Without it each thread faults in about every page it fills; with it, almost none.
    assert all(f > pages // 2 for f in cold["faults"])  # type: ignore[attr-defined]
    assert all(f < pages // 10 for f in prepared["faults"])  # type: ignore[attr-defined]
    assert prepared["share"] == 32 << 20
    assert prepared["started"] == {"chunk": 2, "read": os.cpu_count() or 2}
