"""ConfusionMatrix and Collection.errorMatrix through the stock client.

Oracles: scikit-learn's metrics (confusion_matrix, accuracy_score, precision/recall, fbeta_score,
cohen_kappa_score) on the same label lists."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

pytestmark = pytest.mark.e2e

ACTUAL = [0, 0, 1, 1, 1, 2, 2, 2, 2, 0, 1, 2, 0, 0, 3]
PREDICTED = [0, 1, 1, 1, 2, 2, 2, 0, 2, 0, 1, 1, 0, 2, 3]
MATRIX = [[32, 0, 0, 0, 1, 0], [0, 5, 0, 0, 1, 0], [0, 0, 1, 3, 0, 0],
          [0, 1, 4, 26, 8, 0], [0, 0, 0, 7, 15, 0], [0, 0, 0, 1, 0, 5]]  # fmt: skip


def _collection(ee, actual, predicted):
    return ee.FeatureCollection(
        [ee.Feature(None, {"truth": a, "guess": p}) for a, p in zip(actual, predicted, strict=True)]
    )


def _labels_of(matrix):
    """The (actual, predicted) label lists a matrix of counts stands for."""
    actual, predicted = [], []
    for i, row in enumerate(matrix):
        for j, n in enumerate(row):
            actual += [i] * n
            predicted += [j] * n
    return actual, predicted


def test_error_matrix_counts_actual_rows_predicted_columns(ee_api) -> None:
    ee = ee_api
    cm = _collection(ee, ACTUAL, PREDICTED).errorMatrix("truth", "guess")
    got = ee.Dictionary(
        {"array": cm.array(), "order": cm.order(), "info": cm, "accuracy": cm.accuracy()}
    ).getInfo()
    expected = metrics.confusion_matrix(ACTUAL, PREDICTED, labels=[0, 1, 2, 3]).tolist()
    assert got["array"] == expected
    assert got["info"] == expected
    assert got["order"] == [0, 1, 2, 3]
    assert got["accuracy"] == pytest.approx(metrics.accuracy_score(ACTUAL, PREDICTED))


def test_error_matrix_with_order_keeps_only_listed_values(ee_api) -> None:
    ee = ee_api
    cm = _collection(ee, ACTUAL, PREDICTED).errorMatrix("truth", "guess", [2, 0, 3])
    got = ee.Dictionary({"array": cm.array(), "order": cm.order()}).getInfo()
    assert got["order"] == [2, 0, 3]
    assert got["array"] == metrics.confusion_matrix(ACTUAL, PREDICTED, labels=[2, 0, 3]).tolist()


def test_matrix_statistics_match_sklearn(ee_api) -> None:
    ee = ee_api
    cm = ee.ConfusionMatrix(MATRIX)
    got = ee.Dictionary(
        {
            "accuracy": cm.accuracy(),
            "kappa": cm.kappa(),
            "consumers": cm.consumersAccuracy(),
            "producers": cm.producersAccuracy(),
            "f1": cm.fscore(),
            "f2": cm.fscore(2),
            "order": cm.order(),
        }
    ).getInfo()
    actual, predicted = _labels_of(MATRIX)
    labels = list(range(6))
    assert got["accuracy"] == pytest.approx(metrics.accuracy_score(actual, predicted))
    assert got["kappa"] == pytest.approx(metrics.cohen_kappa_score(actual, predicted))
    precision = metrics.precision_score(actual, predicted, labels=labels, average=None)
    recall = metrics.recall_score(actual, predicted, labels=labels, average=None)
    assert np.asarray(got["consumers"]).shape == (1, 6)
    assert np.asarray(got["consumers"])[0] == pytest.approx(precision)
    assert np.asarray(got["producers"]).shape == (6, 1)
    assert np.asarray(got["producers"])[:, 0] == pytest.approx(recall)
    f1 = metrics.fbeta_score(actual, predicted, beta=1, labels=labels, average=None)
    f2 = metrics.fbeta_score(actual, predicted, beta=2, labels=labels, average=None)
    assert got["f1"] == pytest.approx(f1)
    assert got["f2"] == pytest.approx(f2)
    assert got["order"] == labels


def test_constructor_order_and_rewrap(ee_api) -> None:
    ee = ee_api
    cm = ee.ConfusionMatrix([[3, 1], [2, 4]], [5, 9])
    again = ee.ConfusionMatrix(cm.array(), cm.order())
    got = ee.Dictionary({"order": again.order(), "array": again.array()}).getInfo()
    assert got == {"order": [5, 9], "array": [[3, 1], [2, 4]]}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda ee: ee.ConfusionMatrix([[1, 2, 3], [4, 5, 6]]).accuracy(), "square"),
        (lambda ee: ee.ConfusionMatrix([[1, -2], [3, 4]]).accuracy(), "non-negative"),
        (lambda ee: ee.ConfusionMatrix([[1, 2], [3, 4]], [0, 1, 2]).accuracy(), "order has 3"),
        (lambda ee: ee.ConfusionMatrix("abc").accuracy(), "square"),
        (
            lambda ee: (
                ee.FeatureCollection([ee.Feature(None, {"a": 1})]).errorMatrix("a", "b").accuracy()
            ),
            "Property 'b' is missing",
        ),
        (
            lambda ee: (
                ee.FeatureCollection([ee.Feature(None, {"a": 1, "b": "x"})])
                .errorMatrix("a", "b")
                .accuracy()
            ),
            "must be a number",
        ),
        (
            lambda ee: (
                ee.FeatureCollection([ee.Feature(None, {"a": -1, "b": 0})])
                .errorMatrix("a", "b")
                .accuracy()
            ),
            "non-negative",
        ),
    ],
)
def test_bad_arguments_are_clean_errors(ee_api, build, message) -> None:
    with pytest.raises(ee_api.EEException, match=message):
        build(ee_api).getInfo()
