"""Reducer: constructors, and reducing lists of values (Collection.reduceColumns)."""

from __future__ import annotations

import math
import statistics
from typing import Any

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values.reducer import Reducer, simple


@algorithm("Reducer.toList")
def to_list(tupleSize: int | None = None, numOptional: int = 0) -> Reducer:
    """Creates a reducer that collects its inputs into a list.

    Args:
        tupleSize: The size of each tuple, or null to collect single values.
        numOptional: How many trailing tuple elements may be null.
    """
    return Reducer("toList", ("list",))


@algorithm("Reducer.repeat")
def repeat(reducer: Reducer, count: int) -> Reducer:
    """Creates a reducer that applies the given reducer to `count` inputs independently.

    Args:
        reducer: The reducer to repeat.
        count: The number of inputs.
    """
    if count < 1:
        raise InvalidArgumentError("Reducer.repeat: count must be at least 1.")
    return Reducer(reducer.name, reducer.outputs, count)


def _simple_reducer(name: str, doc: str) -> None:
    def make() -> Reducer:
        return simple(name)

    make.__doc__ = doc
    algorithm(f"Reducer.{name}")(make)


for _name, _doc in {
    "mean": "Creates a reducer that computes the (unweighted) mean of its inputs.",
    "sum": "Creates a reducer that computes the sum of its inputs.",
    "count": "Creates a reducer that counts its non-null inputs.",
    "first": "Creates a reducer that returns the first of its inputs.",
    "last": "Creates a reducer that returns the last of its inputs.",
    "stdDev": "Creates a reducer that computes the population standard deviation of its inputs.",
    "variance": "Creates a reducer that computes the population variance of its inputs.",
}.items():
    _simple_reducer(_name, _doc)


@algorithm("Reducer.median")
def median(
    maxBuckets: int | None = None, minBucketWidth: float | None = None, maxRaw: int | None = None
) -> Reducer:
    """Creates a reducer that computes the median of its inputs (exactly, here).

    Args:
        maxBuckets: Accepted for compatibility; the median is computed exactly.
        minBucketWidth: Accepted for compatibility; the median is computed exactly.
        maxRaw: Accepted for compatibility; the median is computed exactly.
    """
    return simple("median")


@algorithm("Reducer.min")
def min_(numInputs: int = 1) -> Reducer:
    """Creates a reducer that computes the minimum of its inputs.

    Args:
        numInputs: The number of inputs; only 1 is supported.
    """
    if numInputs != 1:
        raise InvalidArgumentError("Reducer.min: only numInputs=1 is supported.")
    return simple("min")


@algorithm("Reducer.max")
def max_(numInputs: int = 1) -> Reducer:
    """Creates a reducer that computes the maximum of its inputs.

    Args:
        numInputs: The number of inputs; only 1 is supported.
    """
    if numInputs != 1:
        raise InvalidArgumentError("Reducer.max: only numInputs=1 is supported.")
    return simple("max")


def reduce_values(reducer: Reducer, values: list[Any]) -> Any:
    """Reduce one column of values; nulls are skipped, as Earth Engine skips masked inputs."""
    present = [v for v in values if v is not None]
    name = reducer.name
    if name == "toList":
        return list(values)
    if name == "count":
        return len(present)
    if name == "first":
        return present[0] if present else None
    if name == "last":
        return present[-1] if present else None
    numbers = [v for v in present if isinstance(v, int | float)]
    if len(numbers) != len(present):
        raise InvalidArgumentError(f"Reducer.{name}: inputs must be numbers.")
    if not numbers:
        return None
    if name == "sum":
        return sum(numbers)
    if name == "mean":
        return math.fsum(numbers) / len(numbers)
    if name == "median":
        return statistics.median(numbers)
    if name == "min":
        return min(numbers)
    if name == "max":
        return max(numbers)
    if name == "variance":
        return statistics.pvariance(numbers)
    if name == "stdDev":
        return statistics.pstdev(numbers)
    raise InvalidArgumentError(f"Reducer.{name} cannot reduce a list of values yet.")
