"""Where chunks run: a local thread pool, or a Dask cluster (dask.distributed).

`materialize` needs only `submit(fn, *args)` returning a future with `.result()` and `.cancel()`:
both `concurrent.futures.ThreadPoolExecutor` and `distributed.Client` provide exactly that, so the
same chunk function runs in threads locally and as Dask tasks on a cluster.

A server with a cluster keeps both (`Executors`): a grid whose estimated cost (output pixels x
source files read, `cost`) reaches `OPENEE_DASK_THRESHOLD` runs its chunks on the cluster, a
cheaper one in the server's threads, where a map tile does not pay a scheduler round trip per
chunk (docs/decisions/0047-deployment-for-a-team.md). Exports always use the cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from openee.raster.grid import PixelGrid
from openee.raster.sources import BandSource, file_leaves


class ChunkFuture(Protocol):
    def result(self, timeout: float | None = None) -> Any: ...

    def cancel(self) -> Any: ...


class ChunkExecutor(Protocol):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> ChunkFuture: ...


ALLOCATOR_PLUGIN = "openee-allocator"


@dataclass(frozen=True)
class Executors:
    """The server's thread pool and, when one is configured, its Dask cluster's client.

    As a ChunkExecutor it is the thread pool; `for_cost` picks by a grid's cost, `heavy` is
    where batch work (exports) runs."""

    local: ThreadPoolExecutor
    cluster: Any = None  # a distributed.Client
    threshold: int = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> ChunkFuture:
        return self.local.submit(fn, *args, **kwargs)

    def for_cost(self, cost: int) -> ChunkExecutor:
        if self.cluster is not None and cost >= self.threshold:
            cluster: ChunkExecutor = self.cluster
            return cluster
        return self.local

    @property
    def heavy(self) -> ChunkExecutor:
        executor: ChunkExecutor = self.cluster if self.cluster is not None else self.local
        return executor

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.close()
        self.local.shutdown(wait=False, cancel_futures=True)


def cost(sources: Sequence[BandSource], grid: PixelGrid) -> int:
    """A grid's estimated cost: its pixels times the source files read for them (decoding and
    warping the sources is what a chunk spends its time on)."""
    return grid.width * grid.height * max(1, len(file_leaves(sources)))


def route(executor: ChunkExecutor, sources: Sequence[BandSource], grid: PixelGrid) -> ChunkExecutor:
    """Where the chunks of `grid` run: by cost when `executor` is the server's `Executors`,
    else `executor` itself (an export's cluster, a test's pool)."""
    if isinstance(executor, Executors):
        return executor.for_cost(cost(sources, grid))
    return executor


def make_executor(workers: int, dask_scheduler: str | None, threshold: int = 0) -> Executors:
    """A thread pool of `workers`, and a client of the Dask scheduler at `dask_scheduler`
    ('tcp://host:port') if given, whose workers (present and future) get the allocator setting
    of `openee serve`; grids of `threshold` cost or more run there."""
    local = ThreadPoolExecutor(workers, thread_name_prefix="openee-chunk")
    if not dask_scheduler:
        return Executors(local)
    from distributed import Client, WorkerPlugin

    from openee.engine.allocator import tune_allocator

    class AllocatorSetting(WorkerPlugin):
        def setup(self, worker: Any) -> None:
            tune_allocator()

    client = Client(dask_scheduler, set_as_default=False)
    client.register_plugin(AllocatorSetting(), name=ALLOCATOR_PLUGIN)
    return Executors(local, client, threshold)
