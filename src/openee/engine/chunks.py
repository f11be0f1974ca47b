"""Chunked evaluation: the output grid is cut into chunks, each a pure function of
(band sources, chunk grid). Locally a thread pool runs them; on a cluster the same function runs as
Dask tasks (`openee.engine.executors`), because its inputs are picklable.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from openee.engine import deadline
from openee.engine.executors import ChunkExecutor, ChunkFuture, route
from openee.raster.arrays import merge_chunks
from openee.raster.grid import PixelGrid
from openee.raster.pixels import BoxedPixels, Pixels
from openee.raster.sources import BandSource, FileBand, Read, read_many, read_many_boxed

_io_pool: ThreadPoolExecutor | None = None
_io_lock = threading.Lock()


def io_pool() -> ThreadPoolExecutor:
    """The process's pool of read threads (created on first use)."""
    global _io_pool
    with _io_lock:
        if _io_pool is None:
            _io_pool = ThreadPoolExecutor(os.cpu_count() or 2, thread_name_prefix="openee-read")
        return _io_pool


def _io_map(fn: Callable[[FileBand], Read], leaves: Sequence[FileBand]) -> Iterable[Read]:
    """Source reads of a chunk, concurrently: decoding is the floor, and one chunk of a
    composite reads many files. A pool of its own (one per process), so chunk threads that
    wait on it can never starve it."""
    if len(leaves) < 2:
        return map(fn, leaves)
    return io_pool().map(fn, leaves)


def _wait(future: ChunkFuture) -> list[BoxedPixels]:
    """A chunk's result, waited for in slices of at most a second, so that a request past its
    deadline, or whose client went away, stops waiting (its chunks not started are then
    cancelled by the caller)."""
    while True:
        left = deadline.remaining()
        try:
            result: list[BoxedPixels] = future.result(
                timeout=1.0 if left is None else min(left, 1.0)
            )
            return result
        except TimeoutError:
            deadline.check()
            if left is not None and left <= 0:
                raise deadline.ComputationTimedOut from None


def compute_chunk(sources: Sequence[BandSource], grid: PixelGrid) -> list[Pixels]:
    """The pixels of each band source on one chunk grid."""
    return read_many(sources, grid, _io_map)


def compute_chunk_boxed(sources: Sequence[BandSource], grid: PixelGrid) -> list[BoxedPixels]:
    """compute_chunk, each band held in its box (a chunk on a file's edge is copied into the
    output only where a band may be valid)."""
    return read_many_boxed(sources, grid, _io_map)


def materialize(
    sources: Sequence[BandSource],
    grid: PixelGrid,
    executor: ChunkExecutor,
    chunk_size: int,
    data: Sequence[np.ndarray] | None = None,
    max_in_flight: int = 4,
    zero_masked: bool = False,
) -> list[Pixels]:
    """Pixels of every band on the whole grid, assembled from chunks computed by `executor`.

    Output arrays are allocated once (or given as `data`, e.g. the fields of the response's
    buffer); each chunk is copied in as it completes and then dropped, so peak memory is the
    output plus at most `max_in_flight` chunks, whatever the grid size. `zero_masked`: see
    fill_rows (the outputs' masks are then not kept: the data carry them).
    """
    outputs = allocate_outputs(sources, grid, data, masks=not zero_masked)
    for _ in fill_rows(sources, grid, executor, chunk_size, outputs, max_in_flight, zero_masked):
        pass
    return outputs


def allocate_outputs(
    sources: Sequence[BandSource],
    grid: PixelGrid,
    data: Sequence[np.ndarray] | None = None,
    masks: bool = True,
) -> list[Pixels]:
    """The output of each band, to be filled by `fill_rows`: `data` (or zeros) and no valid pixel.

    `masks=False` is for data that carry their mask themselves (an NPY's zeros, fill_rows with
    `zero_masked`): each band's `valid` is then a read-only view of one False, which costs no
    memory, instead of an array that would be written and never read (at 2048 x 2048, 4 MiB a
    band of fresh pages: docs/decisions/0060).
    """
    if data is None:
        # Array-valued bands (rank > 0) are assembled from their chunks at the end, since each
        # chunk pads its arrays to its own largest extents (docs/decisions/0015).
        data = [np.zeros(grid.shape if s.rank == 0 else (0,), dtype=s.dtype) for s in sources]
    if not masks:
        return [Pixels(values, np.broadcast_to(np.False_, grid.shape)) for values in data]
    return [Pixels(values, np.zeros(grid.shape, dtype=bool)) for values in data]


def fill_rows(
    sources: Sequence[BandSource],
    grid: PixelGrid,
    executor: ChunkExecutor,
    chunk_size: int,
    outputs: list[Pixels],
    max_in_flight: int = 4,
    zero_masked: bool = False,
) -> Generator[tuple[int, int], None, None]:
    """Computes the grid in chunks into `outputs` (from `allocate_outputs`), yielding each band
    of rows [r0, r1) as soon as it is complete, top to bottom.

    Chunks are submitted row-major, up to `max_in_flight` ahead, and drained in that order, so
    a chunk row is complete when its last chunk is drained, while the next ones keep computing
    (a streamed response sends the rows meanwhile). Array-valued outputs are replaced by their
    merged arrays once every chunk is in. Closing the iterator early (e.g. the client went
    away) cancels the chunks not started yet; running ones finish and are dropped.

    With `zero_masked`, the masked pixels of what a chunk writes are set to 0, so that output
    data that starts at 0 (an NPY buffer) holds 0 at every masked pixel without another pass;
    the data then carry the mask, and the outputs' masks and fractions are not written
    (allocate_outputs with `masks=False`).
    """
    executor = route(executor, sources, grid)  # threads, or the cluster for a heavy grid
    array_parts: dict[int, list[tuple[tuple[slice, slice], Pixels]]] = {}
    # The outputs' masks start all False (allocate_outputs) and each chunk writes only the box
    # of each band that may be valid: the rest of its window stays masked (an NPY's data there
    # is zeroed before it is sent, other formats' data starts at 0).
    pending: deque[tuple[ChunkFuture, int, int, PixelGrid]] = deque()

    def drain_one() -> tuple[int, int] | None:
        """Copies the oldest chunk in; the band of rows it completes, if it ends a chunk row."""
        future, row, col, sub = pending[0]
        chunk = _wait(future)
        pending.popleft()
        window = (slice(row, row + sub.height), slice(col, col + sub.width))
        for i, (out, part) in enumerate(zip(outputs, chunk, strict=True)):
            if part.pixels.rank:
                array_parts.setdefault(i, []).append((window, part.full()))
                continue
            if part.box is None:
                continue
            rows, cols = part.box
            box = (
                slice(row + rows.start, row + rows.stop),
                slice(col + cols.start, col + cols.stop),
            )
            out.data[box] = part.pixels.data
            if zero_masked:
                if not part.pixels.valid.all():
                    np.copyto(out.data[box], 0, where=~part.pixels.valid)
                continue
            out.valid[box] = part.pixels.valid
            if part.pixels.weight is not None:
                # The first chunk with a fraction gives the band its weights (1 elsewhere).
                if out.weight is None:
                    out = outputs[i] = replace(out, weight=np.ones(grid.shape, np.float32))
                assert out.weight is not None
                out.weight[box] = part.pixels.weight
        return (row, row + sub.height) if col + sub.width == grid.width else None

    try:
        for row, col, sub in grid.chunks(chunk_size):
            deadline.check()
            if len(pending) >= max_in_flight and (rows := drain_one()) is not None:
                yield rows
            pending.append(
                (executor.submit(compute_chunk_boxed, tuple(sources), sub), row, col, sub)
            )
        while pending:
            if (rows := drain_one()) is not None:
                yield rows
    finally:
        for future, *_ in pending:
            future.cancel()
    for i, parts in array_parts.items():
        outputs[i] = merge_chunks(grid.shape, parts, sources[i].dtype)
