"""What algorithms may reach during one evaluation: the catalog, the calling project, and where
pixel chunks run (algorithms that read pixels, such as Image.reduceRegion)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from openee.catalog.access import FileAccess
from openee.catalog.roots import Roots
from openee.catalog.store import CatalogStore
from openee.engine.executors import ChunkExecutor
from openee.errors import InternalError, InvalidArgumentError


@dataclass(frozen=True)
class EvalContext:
    catalog: CatalogStore
    project: str
    # Where chunks run (the server's thread pool or Dask client); None runs them inline.
    executor: ChunkExecutor | None = None
    chunk_size: int = 1024
    # Where files named in an expression (Image.loadGeoTIFF) may come from; None allows none.
    roots: Roots | None = None
    # Which of those files the caller may read (tenant isolation); None: the roots alone decide
    # (a trusted evaluation, with no caller).
    files: FileAccess | None = None

    def check_file(self, uri: str) -> str:
        """The confined path of a file an expression names, if the caller may read it."""
        if self.files is not None:
            return self.files.check(uri)
        return self.file_roots.check(uri)

    @property
    def file_roots(self) -> Roots:
        """The roots confining files: the caller's access's, else the evaluation's own."""
        roots = self.files.roots if self.files is not None else self.roots
        if roots is None:
            raise InvalidArgumentError("this server reads no files by path.")
        return roots


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
