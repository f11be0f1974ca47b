"""Chunked evaluation: the output grid is cut into chunks, each a pure function of
(band sources, chunk grid). Locally a thread pool runs them; the same function can run as a
Dask task because its inputs are picklable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from concurrent.futures import Executor, Future

import numpy as np

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource


def compute_chunk(sources: Sequence[BandSource], grid: PixelGrid) -> list[Pixels]:
    """The pixels of each band source on one chunk grid."""
    return [source.read(grid) for source in sources]


def materialize(
    sources: Sequence[BandSource],
    grid: PixelGrid,
    executor: Executor,
    chunk_size: int,
    max_in_flight: int = 4,
) -> list[Pixels]:
    """Pixels of every band on the whole grid, assembled from chunks computed by `executor`.

    Output arrays are allocated once; each chunk is copied in as it completes and then dropped,
    so peak memory is the output plus at most `max_in_flight` chunks, whatever the grid size.
    """
    outputs = [
        Pixels(np.zeros(grid.shape, dtype=s.dtype), np.zeros(grid.shape, dtype=bool))
        for s in sources
    ]
    pending: deque[tuple[Future[list[Pixels]], int, int, PixelGrid]] = deque()

    def drain_one() -> None:
        future, row, col, sub = pending.popleft()
        chunk = future.result()
        window = (slice(row, row + sub.height), slice(col, col + sub.width))
        for out, part in zip(outputs, chunk, strict=True):
            out.data[window] = part.data
            out.valid[window] = part.valid

    for row, col, sub in grid.chunks(chunk_size):
        if len(pending) >= max_in_flight:
            drain_one()
        pending.append((executor.submit(compute_chunk, tuple(sources), sub), row, col, sub))
    while pending:
        drain_one()
    return outputs
