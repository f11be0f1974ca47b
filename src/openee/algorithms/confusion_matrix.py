"""ConfusionMatrix and Collection.errorMatrix: accuracy assessment of classifications.

Rows are the actual classes and columns the predicted ones, as in Earth Engine. Arrays travel as
nested lists (getInfo's shape of an Earth Engine Array). A ratio whose denominator is zero (a
class that never occurs) is NaN, which getInfo shows as null.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from openee.algorithms.array_value import ArrayValue
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values.confusion import ConfusionMatrix
from openee.values.feature import Feature, FeatureCollection


def _count(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _order(order: list[Any] | None, size: int) -> tuple[int, ...]:
    if order is None:
        return tuple(range(size))
    values = []
    for v in order:
        if isinstance(v, bool) or not isinstance(v, int | float) or not float(v).is_integer():
            raise InvalidArgumentError(f"The order must be a list of integers, got {v!r}.")
        values.append(int(v))
    if len(set(values)) != len(values):
        raise InvalidArgumentError("The order must not repeat a value.")
    return tuple(values)


def _ratios(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


@algorithm("ConfusionMatrix")
def confusion_matrix(array: Any, order: list[int] | None = None) -> ConfusionMatrix:
    """Creates a confusion matrix. Axis 0 (the rows) of the matrix correspond to the actual
    values, and Axis 1 (the columns) to the predicted values.

    Args:
        array: A square, 2D array of non-negative counts, representing the confusion matrix.
        order: The row and column size and order, for non-contiguous or non-zero based
            matrices; defaults to 0 .. n-1.
    """
    if isinstance(array, ConfusionMatrix):
        counts = array.array()
    else:
        if isinstance(array, ArrayValue):  # ee.ConfusionMatrix(ee.Array(...)), the samples' form
            array = array.info()
        try:
            counts = np.asarray(array, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidArgumentError("The array must be a square 2D array of numbers.") from None
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise InvalidArgumentError(
            f"The array must be square and 2D; its shape is {list(counts.shape)}."
        )
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise InvalidArgumentError("The array must hold non-negative finite counts.")
    size = counts.shape[0]
    resolved = _order(order, size)
    if len(resolved) != size:
        raise InvalidArgumentError(
            f"The order has {len(resolved)} values but the matrix is {size}x{size}."
        )
    rows = tuple(tuple(_count(v) for v in row) for row in counts)
    return ConfusionMatrix(rows, resolved)


def _class_value(feature: Feature, name: str) -> int:
    value = feature.get(name)
    if value is None:
        raise InvalidArgumentError(f"Property '{name}' is missing from a feature.")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(f"Property '{name}' must be a number, got {value!r}.")
    return int(value)


@algorithm("Collection.errorMatrix")
def error_matrix(
    collection: FeatureCollection, actual: str, predicted: str, order: list[int] | None = None
) -> ConfusionMatrix:
    """Computes a 2D error matrix for a collection by comparing two columns of a collection:
    one containing the actual values, and one containing predicted values. The values are
    expected to be small contiguous integers, starting from 0. Axis 0 (the rows) of the matrix
    correspond to the actual values, and Axis 1 (the columns) to the predicted values.

    Args:
        collection: The input collection.
        actual: The name of the property containing the actual value.
        predicted: The name of the property containing the predicted value.
        order: A list of the expected values. If this argument is not specified, the values are
            assumed to be contiguous and span the range 0 to maxValue. If specified, only values
            matching this list are used, and the matrix will have dimensions and order matching
            this list.
    """
    pairs: list[tuple[int, int]] = []
    for feature in collection.features:
        if not isinstance(feature, Feature):
            continue
        pairs.append((_class_value(feature, actual), _class_value(feature, predicted)))
    if order is None:
        if any(a < 0 or p < 0 for a, p in pairs):
            raise InvalidArgumentError(
                "Class values must be non-negative integers (give an order for others)."
            )
        size = max((max(a, p) for a, p in pairs), default=-1) + 1
        resolved = tuple(range(size))
    else:
        resolved = _order(order, 0)
    index = {v: i for i, v in enumerate(resolved)}
    counts = np.zeros((len(resolved), len(resolved)), dtype=np.int64)
    for a, p in pairs:
        if a in index and p in index:
            counts[index[a], index[p]] += 1
    return ConfusionMatrix(tuple(tuple(int(v) for v in row) for row in counts), resolved)


@algorithm("ConfusionMatrix.array")
def array(confusionMatrix: ConfusionMatrix) -> list[list[float]]:
    """Returns a confusion matrix as an Array.

    Args:
        confusionMatrix: The confusion matrix.
    """
    return confusionMatrix.info()


@algorithm("ConfusionMatrix.order")
def order(confusionMatrix: ConfusionMatrix) -> list[int]:
    """Returns the name and order of the rows and columns of the matrix.

    Args:
        confusionMatrix: The confusion matrix.
    """
    return list(confusionMatrix.order)


@algorithm("ConfusionMatrix.accuracy")
def accuracy(confusionMatrix: ConfusionMatrix) -> float:
    """Computes the overall accuracy of a confusion matrix defined as correct / total.

    Args:
        confusionMatrix: The confusion matrix.
    """
    counts = confusionMatrix.array()
    total = counts.sum()
    return float(np.trace(counts) / total) if total > 0 else float("nan")


@algorithm("ConfusionMatrix.consumersAccuracy")
def consumers_accuracy(confusionMatrix: ConfusionMatrix) -> list[list[float]]:
    """Computes the consumer's accuracy (reliability, user's accuracy) of a confusion matrix:
    for each predicted class, the correct predictions divided by all predictions of that class
    (the column total). A 1 x n array.

    Args:
        confusionMatrix: The confusion matrix.
    """
    counts = confusionMatrix.array()
    return [_ratios(np.diag(counts), counts.sum(axis=0)).tolist()]


@algorithm("ConfusionMatrix.producersAccuracy")
def producers_accuracy(confusionMatrix: ConfusionMatrix) -> list[list[float]]:
    """Computes the producer's accuracy of a confusion matrix: for each actual class, the
    correct predictions divided by the samples of that class (the row total). An n x 1 array.

    Args:
        confusionMatrix: The confusion matrix.
    """
    counts = confusionMatrix.array()
    return [[v] for v in _ratios(np.diag(counts), counts.sum(axis=1)).tolist()]


@algorithm("ConfusionMatrix.kappa")
def kappa(confusionMatrix: ConfusionMatrix) -> float:
    """Computes the Kappa statistic for the confusion matrix: (po - pe) / (1 - pe), with po
    the overall accuracy and pe the agreement expected by chance, the sum over classes of the
    products of row and column totals divided by the squared total.

    Args:
        confusionMatrix: The confusion matrix.
    """
    counts = confusionMatrix.array()
    total = counts.sum()
    if total <= 0:
        return float("nan")
    observed = np.trace(counts) / total
    expected = float(np.sum(counts.sum(axis=0) * counts.sum(axis=1))) / total**2
    return float((observed - expected) / (1 - expected)) if expected != 1 else float("nan")


@algorithm("ConfusionMatrix.fscore")
def fscore(confusionMatrix: ConfusionMatrix, beta: float = 1.0) -> list[float]:
    """Computes the Fbeta-score of each class: (1 + beta^2) * precision * recall /
    (beta^2 * precision + recall), with precision the consumer's accuracy and recall the
    producer's accuracy of the class. A 1D array, one score per class.

    Args:
        confusionMatrix: The confusion matrix.
        beta: A factor indicating how much more important recall is than precision; 1 gives
            the F1 score.
    """
    if not beta >= 0:
        raise InvalidArgumentError(f"beta must be non-negative, got {beta}.")
    counts = confusionMatrix.array()
    correct = np.diag(counts)
    precision = _ratios(correct, counts.sum(axis=0))
    recall = _ratios(correct, counts.sum(axis=1))
    b2 = float(beta) ** 2
    result: list[float] = _ratios((1 + b2) * precision * recall, b2 * precision + recall).tolist()
    return result
