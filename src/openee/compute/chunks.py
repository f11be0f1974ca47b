"""Chunked evaluation: the output grid is cut into chunks, each a pure function of
(band sources, chunk grid). Locally a thread pool runs them; on a cluster the same function runs as
Dask tasks (`openee.compute.executors`), because its inputs are picklable.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from openee.compute.executors import ChunkExecutor, ChunkFuture
from openee.raster.arrays import merge_chunks
from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource, FileBand, read_many

_io_pool: ThreadPoolExecutor | None = None
_io_lock = threading.Lock()


def _io_map(fn: Callable[[FileBand], Pixels], leaves: Sequence[FileBand]) -> Iterable[Pixels]:
    """Source reads of a chunk, concurrently: decoding is the floor, and one chunk of a
    composite reads many files. A pool of its own (one per process), so chunk threads that
    wait on it can never starve it."""
    global _io_pool
    if len(leaves) < 2:
        return map(fn, leaves)
    with _io_lock:
        if _io_pool is None:
            _io_pool = ThreadPoolExecutor(os.cpu_count() or 2, thread_name_prefix="openee-read")
    return _io_pool.map(fn, leaves)


def compute_chunk(sources: Sequence[BandSource], grid: PixelGrid) -> list[Pixels]:
    """The pixels of each band source on one chunk grid."""
    return read_many(sources, grid, _io_map)


def materialize(
    sources: Sequence[BandSource],
    grid: PixelGrid,
    executor: ChunkExecutor,
    chunk_size: int,
    data: Sequence[np.ndarray] | None = None,
    max_in_flight: int = 4,
) -> list[Pixels]:
    """Pixels of every band on the whole grid, assembled from chunks computed by `executor`.

    Output arrays are allocated once (or given as `data`, e.g. the fields of the response's
    buffer); each chunk is copied in as it completes and then dropped, so peak memory is the
    output plus at most `max_in_flight` chunks, whatever the grid size.
    """
    if data is None:
        # Array-valued bands (rank > 0) are assembled from their chunks at the end, since each
        # chunk pads its arrays to its own largest extents (docs/decisions/0015).
        data = [np.zeros(grid.shape if s.rank == 0 else (0,), dtype=s.dtype) for s in sources]
    outputs = [Pixels(values, np.zeros(grid.shape, dtype=bool)) for values in data]
    array_parts: dict[int, list[tuple[tuple[slice, slice], Pixels]]] = {}
    pending: deque[tuple[ChunkFuture, int, int, PixelGrid]] = deque()

    def drain_one() -> None:
        future, row, col, sub = pending.popleft()
        chunk = future.result()
        window = (slice(row, row + sub.height), slice(col, col + sub.width))
        for i, (out, part) in enumerate(zip(outputs, chunk, strict=True)):
            if part.rank:
                array_parts.setdefault(i, []).append((window, part))
                continue
            out.data[window] = part.data
            out.valid[window] = part.valid

    for row, col, sub in grid.chunks(chunk_size):
        if len(pending) >= max_in_flight:
            drain_one()
        pending.append((executor.submit(compute_chunk, tuple(sources), sub), row, col, sub))
    while pending:
        drain_one()
    for i, parts in array_parts.items():
        outputs[i] = merge_chunks(grid.shape, parts, sources[i].dtype)
    return outputs
