"""Where chunks run: a local thread pool, or a Dask cluster (dask.distributed).

`materialize` needs only `submit(fn, *args)` returning a future with `.result()` and `.cancel()`:
both `concurrent.futures.ThreadPoolExecutor` and `distributed.Client` provide exactly that, so the
same chunk function runs in threads locally and as Dask tasks on a cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol


class ChunkFuture(Protocol):
    def result(self, timeout: float | None = None) -> Any: ...

    def cancel(self) -> Any: ...


class ChunkExecutor(Protocol):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> ChunkFuture: ...


ALLOCATOR_PLUGIN = "openee-allocator"


def make_executor(workers: int, dask_scheduler: str | None) -> ChunkExecutor:
    """A thread pool, or a client of the Dask scheduler at `dask_scheduler` ('tcp://host:port')
    whose workers (present and future) get the allocator setting of `openee serve`."""
    if dask_scheduler:
        from distributed import Client, WorkerPlugin

        from openee.engine.allocator import tune_allocator

        class AllocatorSetting(WorkerPlugin):
            def setup(self, worker: Any) -> None:
                tune_allocator()

        client = Client(dask_scheduler, set_as_default=False)
        client.register_plugin(AllocatorSetting(), name=ALLOCATOR_PLUGIN)
        executor: ChunkExecutor = client
        return executor
    return ThreadPoolExecutor(workers, thread_name_prefix="openee-chunk")
