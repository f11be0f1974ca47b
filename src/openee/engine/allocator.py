"""glibc's allocator, set for chunked evaluation.

A request allocates and frees arrays of a few MiB by the hundred (each chunk's reads, sample
maps, sorting-network layers). By default glibc serves blocks over 128 KiB (a threshold it raises
as they are freed, up to 32 MiB) with fresh mmaps, and gives freed memory back to the system, so
the next chunk faults the same amount in again and the kernel zeroes every page: a third of a
cold 2048x2048 request's CPU time was the kernel's (bench/RESULTS.md; docs/decisions/0020).
Serving blocks up to 64 MiB from the heap and keeping up to 256 MiB of freed memory lets later
chunks and requests reuse it. Memory beyond that is still given back, and blocks over 64 MiB
(a large response buffer) are mapped and unmapped as before.

Environment variables (MALLOC_MMAP_THRESHOLD_, ...) could do the same, but only before the
process starts; mallopt(3) does it from within. Other C libraries are left as they are.
`openee serve` applies it at start, and to the workers of a Dask cluster it sends chunks to
(engine/executors.py).
"""

from __future__ import annotations

import ctypes
import sys

# mallopt(3) parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

MIB = 1024 * 1024
SETTINGS = {M_MMAP_THRESHOLD: 64 * MIB, M_TRIM_THRESHOLD: 256 * MIB, M_TOP_PAD: 64 * MIB}


def tune_allocator() -> bool:
    """Applies SETTINGS with glibc's mallopt; False where that is not glibc (nothing changed)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        gnu_get_libc_version = libc.gnu_get_libc_version  # glibc only (not musl)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    del gnu_get_libc_version
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in SETTINGS.items())
