"""Weighted inputs of reducers over columns: Collection.reduceColumns' `weightSelectors`.

Earth Engine documents weightSelectors as "a selector for each weighted input of the reducer".
The weighted inputs here are those of the reducers with a weighted statistic on their spec (the
reducers `Reducer.splitWeights` accepts), also under `repeat`, `forEach` and `combine`; every
other input is reduced unweighted. A row with a null value or a null weight is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openee.algorithms.aggregate import Columns, evaluate
from openee.reducers.matrix import weighted
from openee.reducers.registry import spec, split, takes_weights
from openee.values.reducer import Reducer

# One weight column per reducer input; None for an unweighted input.
Weights = Sequence[Sequence[Any] | None]


def weighted_inputs(reducer: Reducer) -> list[bool]:
    """For each input of the reducer, whether it takes a weight."""
    parts = split(reducer)
    if parts is not None:
        # Parts sharing inputs (combine with sharedInputs) weight an input if either does.
        takes = [False] * reducer.num_inputs()
        for part, inputs in parts:
            for i, own in zip(inputs, weighted_inputs(part), strict=True):
                takes[i] = takes[i] or own
        return takes
    return [takes_weights(reducer)] * reducer.num_inputs()


def evaluate_weighted(reducer: Reducer, columns: Columns, weights: Weights) -> list[Any]:
    """The reducer's outputs, each weighted input reduced with its weight column."""
    parts = split(reducer)
    if parts is not None:
        out: list[Any] = []
        for part, inputs in parts:
            # Each part weights only the inputs it takes weights for.
            own = weighted_inputs(part)
            out.extend(
                evaluate_weighted(
                    part,
                    [columns[i] for i in inputs],
                    [weights[i] if t else None for i, t in zip(inputs, own, strict=True)],
                )
            )
        return out
    present = [w for w in weights if w is not None]
    if len(present) != len(weights):  # an unweighted reducer (its inputs all lack weights)
        return evaluate(reducer, columns)
    statistic = spec(reducer.name).weighted
    assert statistic is not None  # a weighted input: weighted_inputs said so
    copies = [weighted([columns[i], present[i]], reducer, statistic) for i in range(reducer.repeat)]
    if reducer.repeat == 1:
        return copies[0]
    # A repeated reducer's outputs are lists, one value per copy.
    return [[copy[j] for copy in copies] for j in range(len(copies[0]))]
