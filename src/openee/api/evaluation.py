"""Evaluating a request's expression as its caller: the one place every compute route uses.

The caller must have a role in the project it computes in, and the catalog it evaluates against
hides the assets it may not read, so a private asset in an expression fails exactly like a
missing one.
"""

from __future__ import annotations

from typing import Any

from openee.algorithms.context import EvalContext, evaluation_context
from openee.api.state import AppState
from openee.auth import Principal
from openee.auth.iam import Iam, ReadableCatalog
from openee.catalog.access import FileAccess
from openee.errors import InvalidArgumentError
from openee.graph.evaluate import evaluate


def file_access(state: AppState, principal: Principal) -> FileAccess:
    """The files `principal` may read by path (`catalog/access.py`)."""
    readable = ReadableCatalog(state.catalog, Iam(state.auth), principal)
    return FileAccess(state.roots, state.catalog, readable.readable)


def evaluate_as(state: AppState, principal: Principal, project: str, expression: Any) -> Any:
    """Evaluates `expression` for `principal` in `project`, with the server's chunk executor."""
    if expression is None:
        raise InvalidArgumentError("The request has no 'expression'.")
    iam = Iam(state.auth)
    iam.authorize(principal, "compute", project)
    catalog = ReadableCatalog(state.catalog, iam, principal)
    ctx = EvalContext(
        catalog,
        project,
        state.executor,
        state.settings.chunk_size,
        roots=state.roots,
        files=file_access(state, principal),
    )
    with evaluation_context(ctx):
        return evaluate(expression, state.registry)
