"""What algorithms may reach during one evaluation: the catalog and the calling project."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from openee.catalog.store import CatalogStore
from openee.errors import InternalError


@dataclass(frozen=True)
class EvalContext:
    catalog: CatalogStore
    project: str


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
