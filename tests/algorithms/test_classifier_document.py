"""The JSON document of a trained classifier (Export.classifier.toAsset / Classifier.load):
what reads back is the same classifier; what was altered or is not a classifier is refused."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from openee.errors import FailedPreconditionError, InvalidArgumentError
from openee.values.classifier import Classifier, Training
from openee.values.classifier_document import dumps, from_document, to_document
from openee.values.tree_text import TextTree

RNG = np.random.default_rng(3)
X = RNG.normal(size=(60, 3)) * 1000 + 2000
Y = (X[:, 0] > 2000).astype(float) + (X[:, 1] > 2500)
TRAINING = Training(("a", "b", "c"), tuple(map(tuple, X.tolist())), tuple(Y.tolist()))
FOREST = Classifier(
    "smileRandomForest",
    (
        ("numberOfTrees", 7),
        ("variablesPerSplit", None),
        ("minLeafPopulation", 1),
        ("bagFraction", 0.5),
        ("maxNodes", None),
        ("seed", 4),
    ),
    training=TRAINING,
)
TREE_TEXT = """1) root 60 30 0
  2) a<=2000.5 30 5 0 *
  3) a>2000.5 30 10 1 *"""


def _round_trip(classifier: Classifier) -> Classifier:
    return from_document(dumps(to_document(classifier)))


@pytest.mark.parametrize(
    "classifier",
    [
        FOREST,
        replace(FOREST, mode="PROBABILITY"),
        Classifier(
            "minimumDistance", (("metric", "mahalanobis"), ("kNearest", 1)), training=TRAINING
        ),
        Classifier("smileNaiveBayes", (("lambda", 1e-6),), training=TRAINING),
        Classifier(
            "decisionTree",
            (("trees", (TextTree.parse(TREE_TEXT),)),),
            training=Training(("a",), (), ()),
        ),
        Classifier(
            "spectralRegion",
            (("rings", (((0.0, 0.0), (1.0, 0.0), (1.0, 1.0)),)),),
            training=Training(("u", "v"), (), ()),
        ),
    ],
    ids=["forest", "probability", "minimumDistance", "naiveBayes", "decisionTree", "region"],
)
def test_the_classifier_read_back_is_the_one_saved(classifier: Classifier) -> None:
    loaded = _round_trip(classifier)
    assert loaded == classifier
    probes = RNG.normal(size=(500, len(classifier.trained().inputs))) * 1500 + 2000
    np.testing.assert_array_equal(loaded.predict(probes), classifier.predict(probes))


def test_a_model_that_would_classify_differently_is_refused() -> None:
    document = to_document(FOREST)
    # As if the forest were grown differently now: same samples, the fingerprint of another.
    document["fingerprint"] = to_document(replace(FOREST, settings=(("numberOfTrees", 3),)))[
        "fingerprint"
    ]
    with pytest.raises(FailedPreconditionError, match="does not classify as the one exported"):
        from_document(dumps(document))
    document = to_document(FOREST)
    document["training"]["y"][0] = (document["training"]["y"][0] + 1) % 3
    with pytest.raises(FailedPreconditionError, match="does not classify as the one exported"):
        from_document(dumps(document))


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"format": "pickle", "version": 1}),
        json.dumps({**to_document(FOREST), "version": 2}),
        json.dumps({**to_document(FOREST), "kind": "os.system"}),
        json.dumps({**to_document(FOREST), "settings": [["seed", {"py/object": "os.system"}]]}),
        json.dumps({**to_document(FOREST), "training": {"inputs": ["a"], "x": [[1, 2]], "y": [0]}}),
        json.dumps({**to_document(FOREST), "training": {"inputs": ["a"], "x": [["1"]], "y": [0]}}),
    ],
)
def test_what_is_not_a_classifier_document_is_refused(text: str) -> None:
    with pytest.raises(FailedPreconditionError, match="stored classifier is invalid"):
        from_document(text)


def test_what_cannot_be_saved_is_named() -> None:
    with pytest.raises(InvalidArgumentError, match="kind 'wekaJ48' cannot be saved"):
        to_document(replace(FOREST, kind="wekaJ48"))
    with pytest.raises(InvalidArgumentError, match="smileCart classifier has not been trained"):
        to_document(Classifier("smileCart", (("maxNodes", None),)))
    nan = Training(("a",), ((float("nan"),), (1.0,)), (0.0, 1.0))
    with pytest.raises(InvalidArgumentError, match="non-finite"):
        to_document(replace(FOREST, training=nan))
    with pytest.raises(InvalidArgumentError, match="setting 'seed' cannot be saved"):
        to_document(replace(FOREST, settings=(("seed", object()),)))
