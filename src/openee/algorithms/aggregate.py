"""Reducing columns of values (Collection.reduceColumns, List.reduce, aggregate_*) with a Reducer.

`reduce_columns(reducer, columns)` takes one list per reducer input (the rows are the elements)
and returns the named outputs. The kernels are on the reducers' specs (openee.reducers.lists and
.matrix); this module walks combinators and repeated reducers.
"""

from __future__ import annotations

from typing import Any

from openee.errors import InvalidArgumentError
from openee.reducers.lists import Columns
from openee.reducers.registry import aggregate_spec
from openee.values.reducer import Reducer

__all__ = ["Columns", "evaluate", "reduce_columns"]


def reduce_columns(reducer: Reducer, columns: Columns) -> dict[str, Any]:
    """The reducer's named outputs over the rows of `columns` (one column per input)."""
    expected = reducer.num_inputs()
    if len(columns) != expected:
        raise InvalidArgumentError(
            f"The reducer takes {expected} inputs but {len(columns)} were given."
        )
    values = evaluate(reducer, columns)
    return dict(zip(reducer.outputs, values, strict=True))


def evaluate(reducer: Reducer, columns: Columns) -> list[Any]:
    """The reducer's output values, in the order of its outputs."""
    found = aggregate_spec(reducer.name)
    if found.split is not None:
        return [
            value
            for part, inputs in found.split(reducer)
            for value in evaluate(part, [columns[i] for i in inputs])
        ]
    if found.walk is not None:
        return found.walk(reducer, columns, evaluate)
    kernel = found.aggregate
    assert kernel is not None  # AGGREGATE: a kernel, a split or a walk
    n = reducer.inputs
    copies = [kernel(columns[i * n : (i + 1) * n], reducer) for i in range(reducer.repeat)]
    if reducer.repeat == 1:
        return copies[0]
    # A repeated reducer's outputs are lists, one value per copy.
    return [[copy[j] for copy in copies] for j in range(len(copies[0]))]
