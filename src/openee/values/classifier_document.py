"""A trained classifier as a JSON document: what `Export.classifier.toAsset` stores and
`Classifier.load` reads back (docs/decisions/0043).

JSON, never pickle: reading a stored asset must not run code. The document holds what defines
the classifier value (kind, settings, output mode and its training samples), so the value read
back equals the one exported and its model is fitted by the same code on the same samples. A
fingerprint of the fitted model (its trees' nodes, and its continuous outputs on probe points:
the training rows and the midpoints of consecutive rows) is stored beside them and checked on
load: a model fitted differently (another scikit-learn, another openee) is refused, never used
silently.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import numpy as np

from openee.errors import FailedPreconditionError, InvalidArgumentError
from openee.values.classifier import MODES, Classifier, MinimumDistanceModel, Training
from openee.values.tree_text import TextTree

FORMAT = "openee.classifier"
VERSION = 1
# The kinds a document can hold: every classifier openee builds. Anything else is refused by
# name rather than saved in a form that would not read back as the same classifier.
KINDS = frozenset(
    {
        "smileCart",
        "smileRandomForest",
        "smileNaiveBayes",
        "smileKNN",
        "smileGradientTreeBoost",
        "libsvm",
        "minimumDistance",
        "decisionTree",
        "spectralRegion",
    }
)
# The fingerprint covers at most this many training rows (and as many midpoints).
MAX_PROBE_ROWS = 5000
_TEXT_TREES = "textTrees"


def _encode_setting(kind: str, name: str, value: Any) -> Any:
    if isinstance(value, tuple) and value and all(isinstance(v, TextTree) for v in value):
        return {_TEXT_TREES: [[list(node) for node in tree.nodes] for tree in value]}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgumentError(
                f"Export.classifier: the {kind} classifier's setting '{name}' is not finite."
            )
        return value
    if isinstance(value, tuple | list):
        return [_encode_setting(kind, name, v) for v in value]
    raise InvalidArgumentError(
        f"Export.classifier: the {kind} classifier's setting '{name}' cannot be saved."
    )


def _decode_setting(value: Any) -> Any:
    if isinstance(value, dict):
        trees = value.get(_TEXT_TREES)
        if set(value) != {_TEXT_TREES} or not isinstance(trees, list):
            raise _corrupt("a setting is not a value")
        return tuple(TextTree(tuple(_node(n) for n in tree)) for tree in trees)
    if isinstance(value, list):
        return tuple(_decode_setting(v) for v in value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise _corrupt("a setting is not a value")


def _node(raw: Any) -> tuple[int, str | None, str, float, float, bool]:
    if not isinstance(raw, list) or len(raw) != 6:
        raise _corrupt("a tree node is malformed")
    number, name, op, threshold, yval, leaf = raw
    if (
        not isinstance(number, int)
        or not (name is None or isinstance(name, str))
        or not isinstance(op, str)
        or not isinstance(leaf, bool)
    ):
        raise _corrupt("a tree node is malformed")
    return number, name, op, float(threshold), float(yval), leaf


def _corrupt(why: str) -> FailedPreconditionError:
    return FailedPreconditionError(f"Classifier.load: the stored classifier is invalid ({why}).")


def _probes(training: Training) -> np.ndarray:
    x = np.asarray(training.x, dtype=np.float64).reshape(len(training.x), len(training.inputs))
    x = x[:MAX_PROBE_ROWS]
    return np.concatenate([x, (x[:-1] + x[1:]) / 2]) if len(x) > 1 else x


def _model_arrays(model: Any, probes: np.ndarray) -> list[np.ndarray]:
    """What identifies a fitted model: its trees' nodes (split inputs, thresholds, children,
    leaf values) when it has trees, and its continuous outputs on the probe points
    (probabilities, decision values, distances or regression values), which move with any
    change of the model that a class label could hide."""
    if isinstance(model, MinimumDistanceModel):
        return [model.distances(probes)]
    trees = (
        [model] if hasattr(model, "tree_") else list(np.ravel(getattr(model, "estimators_", [])))
    )
    arrays = [
        np.asarray(getattr(t.tree_, name))
        for t in trees
        for name in ("children_left", "children_right", "feature", "threshold", "value")
    ]
    for method in ("predict_proba", "decision_function", "predict"):
        if hasattr(model, method):
            arrays.append(np.asarray(getattr(model, method)(probes)))
            break
    return arrays


def fingerprint(classifier: Classifier) -> str:
    """SHA-256 of what identifies the fitted model (empty for a classifier without training
    samples: decisionTree and spectralRegion are wholly defined by their settings)."""
    training = classifier.trained()
    digest = hashlib.sha256()
    if training.x:
        for array in _model_arrays(classifier.model, _probes(training)):
            digest.update(str(array.shape).encode())
            digest.update(np.ascontiguousarray(array, dtype="<f8").tobytes())
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    """The versions whose code fits the models (shown when a stored model no longer matches)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("openee", "scikit-learn"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            continue
    return out


def to_document(classifier: Classifier) -> dict[str, Any]:
    """The document of a trained classifier; InvalidArgumentError naming what cannot be saved."""
    if classifier.kind not in KINDS:
        raise InvalidArgumentError(
            f"Export.classifier: classifiers of kind '{classifier.kind}' cannot be saved."
        )
    if classifier.training is None:
        raise InvalidArgumentError(
            f"Export.classifier: the {classifier.kind} classifier has not been trained."
        )
    training = classifier.training
    for row in (*training.x, training.y):
        if not all(math.isfinite(v) for v in row):
            raise InvalidArgumentError(
                f"Export.classifier: the {classifier.kind} classifier's training data holds "
                "non-finite values."
            )
    return {
        "format": FORMAT,
        "version": VERSION,
        "kind": classifier.kind,
        "mode": classifier.mode,
        "settings": [
            [name, _encode_setting(classifier.kind, name, value)]
            for name, value in classifier.settings
        ],
        "training": {
            "inputs": list(training.inputs),
            "x": [list(row) for row in training.x],
            "y": list(training.y),
        },
        "fingerprint": fingerprint(classifier),
        "fittedWith": _versions(),
    }


def dumps(document: dict[str, Any]) -> str:
    """The document's text (floats written exactly, no NaN)."""
    return json.dumps(document, allow_nan=False, separators=(",", ":"))


def _numbers(row: Any, width: int | None) -> tuple[float, ...]:
    if not isinstance(row, list) or (width is not None and len(row) != width):
        raise _corrupt("the training rows are malformed")
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in row):
        raise _corrupt("the training data holds a non-number")
    return tuple(row)


def from_document(text: str) -> Classifier:
    """The classifier a document holds, checked against its fingerprint.

    Raises:
        FailedPreconditionError: the document is not a classifier document, or the model fitted
            now classifies differently from the one exported.
    """
    try:
        doc = json.loads(text)
    except ValueError:
        raise _corrupt("not JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _corrupt("not a classifier document")
    if doc.get("version") != VERSION:
        raise _corrupt(f"unknown version {str(doc.get('version'))[:20]}")
    kind, mode = doc.get("kind"), doc.get("mode")
    if kind not in KINDS or mode not in MODES:
        raise _corrupt("unknown kind or mode")
    settings = doc.get("settings")
    if not isinstance(settings, list) or not all(
        isinstance(s, list) and len(s) == 2 and isinstance(s[0], str) for s in settings
    ):
        raise _corrupt("the settings are malformed")
    raw = doc.get("training")
    if not isinstance(raw, dict) or not isinstance(raw.get("inputs"), list):
        raise _corrupt("the training data is malformed")
    inputs = tuple(raw["inputs"])
    if not inputs or not all(isinstance(n, str) for n in inputs):
        raise _corrupt("the inputs are malformed")
    if not isinstance(raw.get("x"), list):
        raise _corrupt("the training rows are malformed")
    x = tuple(_numbers(row, len(inputs)) for row in raw["x"])
    y = _numbers(raw.get("y"), len(x))
    classifier = Classifier(
        kind,
        tuple((name, _decode_setting(value)) for name, value in settings),
        mode,
        Training(inputs, x, y),
    )
    if fingerprint(classifier) != doc.get("fingerprint"):
        fitted = ", ".join(f"{k} {v}" for k, v in (doc.get("fittedWith") or {}).items())
        raise FailedPreconditionError(
            f"Classifier.load: the {kind} classifier fitted here does not classify as the one "
            f"exported (fitted with {fitted or 'unknown versions'}); export it again."
        )
    return classifier
