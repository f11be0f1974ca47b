"""What algorithms may reach during one evaluation: the catalog, the calling project, and where
pixel chunks run (algorithms that read pixels, such as Image.reduceRegion)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from openee.catalog.roots import Roots
from openee.catalog.store import CatalogStore
from openee.compute.executors import ChunkExecutor
from openee.errors import InternalError


@dataclass(frozen=True)
class EvalContext:
    catalog: CatalogStore
    project: str
    # Where chunks run (the server's thread pool or Dask client); None runs them inline.
    executor: ChunkExecutor | None = None
    chunk_size: int = 1024
    # Where files named in an expression (Image.loadGeoTIFF) may come from; None allows none.
    roots: Roots | None = None


_CURRENT: ContextVar[EvalContext | None] = ContextVar("openee_eval_context", default=None)


def current() -> EvalContext:
    ctx = _CURRENT.get()
    if ctx is None:
        raise InternalError("No evaluation context is set.")
    return ctx


@contextmanager
def evaluation_context(ctx: EvalContext) -> Iterator[None]:
    token = _CURRENT.set(ctx)
    try:
        yield
    finally:
        _CURRENT.reset(token)
