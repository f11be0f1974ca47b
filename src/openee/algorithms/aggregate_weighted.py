"""Weighted inputs of reducers over columns: Collection.reduceColumns' `weightSelectors`.

Earth Engine documents weightSelectors as "a selector for each weighted input of the reducer".
The weighted inputs here are those of `mean`, `sum`, `variance` and `stdDev` (the reducers
`Reducer.splitWeights` accepts), also under `repeat`, `forEach` and `combine`; every other input
is reduced unweighted. A row with a null value or a null weight is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openee.algorithms.aggregate import Columns, evaluate
from openee.algorithms.aggregate_matrix import weighted
from openee.reducers.registry import Context, runs_in
from openee.values.reducer import Reducer

# One weight column per reducer input; None for an unweighted input.
Weights = Sequence[Sequence[Any] | None]


def weighted_inputs(reducer: Reducer) -> list[bool]:
    """For each input of the reducer, whether it takes a weight."""
    name = reducer.name
    if name == "combine":
        first, second = (weighted_inputs(r) for r in reducer.parts)
        if reducer.option("sharedInputs"):
            return [a or b for a, b in zip(first, second, strict=True)]
        return first + second
    if name == "forEach":
        return weighted_inputs(reducer.parts[0]) * reducer.repeat
    takes = runs_in(reducer, Context.WEIGHTED) and reducer.inputs == 1 and not reducer.parts
    return [takes] * reducer.num_inputs()


def evaluate_weighted(reducer: Reducer, columns: Columns, weights: Weights) -> list[Any]:
    """The reducer's outputs, each weighted input reduced with its weight column."""
    name = reducer.name
    if name == "combine":
        first, second = reducer.parts
        if reducer.option("sharedInputs"):
            # Each part weights only the inputs it takes weights for.
            return _part(first, columns, weights) + _part(second, columns, weights)
        n = first.num_inputs()
        return evaluate_weighted(first, columns[:n], weights[:n]) + evaluate_weighted(
            second, columns[n:], weights[n:]
        )
    if name == "forEach":
        child = reducer.parts[0]
        n = child.num_inputs()
        out: list[Any] = []
        for i in range(reducer.repeat):
            part = slice(i * n, (i + 1) * n)
            out.extend(evaluate_weighted(child, columns[part], weights[part]))
        return out
    present = [w for w in weights if w is not None]
    if len(present) != len(weights):  # an unweighted reducer (its inputs all lack weights)
        return evaluate(reducer, columns)
    split = Reducer("splitWeights", reducer.outputs, inputs=2, parts=(reducer,))
    copies = [weighted([columns[i], present[i]], split) for i in range(reducer.repeat)]
    if reducer.repeat == 1:
        return copies[0]
    # A repeated reducer's outputs are lists, one value per copy.
    return [[copy[j] for copy in copies] for j in range(len(copies[0]))]


def _part(reducer: Reducer, columns: Columns, weights: Weights) -> list[Any]:
    own = weighted_inputs(reducer)
    return evaluate_weighted(
        reducer, columns, [w if takes else None for w, takes in zip(weights, own, strict=True)]
    )
