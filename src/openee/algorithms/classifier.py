"""Supervised classification: Classifier constructors, train, classify (images and tables) and
the trained classifier's accessors.

Models are scikit-learn's (see `openee.values.classifier`): Earth Engine's SMILE models are not
reproduced tree for tree, so a forest grown here differs from Earth Engine's for the same seed;
minimumDistance is exact. Array-valued output modes (MULTIPROBABILITY, RAW, RAW_REGRESSION,
kNearest > 1) are rejected with an error.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from openee.algorithms.registry import algorithm
from openee.errors import BandNotFoundError, InvalidArgumentError
from openee.raster.classify import ClassifiedBand
from openee.raster.image import Image
from openee.values.classifier import (
    KNN_METRICS,
    KNN_SEARCH,
    LOSSES,
    MODES,
    SVM_KERNELS,
    SVM_TYPES,
    Classifier,
    MinimumDistanceModel,
    Training,
)
from openee.values.confusion import ConfusionMatrix
from openee.values.feature import Feature, FeatureCollection
from openee.values.tree_text import TextTree, sklearn_tree_text

METRICS = ("euclidean", "cosine", "mahalanobis", "manhattan")
MAX_SAMPLES = 1_000_000


def _positive_int(value: Any, name: str, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{name} must be a positive integer, got {value!r}.")
    return value


@algorithm("Classifier.smileCart")
def smile_cart(maxNodes: int | None = None, minLeafPopulation: int = 1) -> Classifier:
    """Creates an empty CART (classification and regression tree) classifier: a decision tree
    grown with Gini impurity (squared error in REGRESSION mode), best-first when maxNodes limits
    its leaves.

    Args:
        maxNodes: The maximum number of leaf nodes in the tree. If unspecified, defaults to no
            limit.
        minLeafPopulation: Only create nodes whose training set contains at least this many
            points.
    """
    if maxNodes is not None and (isinstance(maxNodes, bool) or maxNodes < 2):
        raise InvalidArgumentError(f"maxNodes must be at least 2, got {maxNodes!r}.")
    _positive_int(minLeafPopulation, "minLeafPopulation")
    settings = (("maxNodes", maxNodes), ("minLeafPopulation", minLeafPopulation))
    return Classifier("smileCart", settings)


@algorithm("Classifier.smileRandomForest")
def smile_random_forest(
    numberOfTrees: int,
    variablesPerSplit: int | None = None,
    minLeafPopulation: int = 1,
    bagFraction: float = 0.5,
    maxNodes: int | None = None,
    seed: int = 0,
) -> Classifier:
    """Creates an empty Random Forest classifier: numberOfTrees decision trees, each grown on a
    bootstrap sample of bagFraction of the training set and trying variablesPerSplit inputs at
    each split; the trees vote (average in REGRESSION mode).

    Args:
        numberOfTrees: The number of decision trees to create.
        variablesPerSplit: The number of variables per split. If unspecified, uses the square
            root of the number of variables.
        minLeafPopulation: Only create nodes whose training set contains at least this many
            points.
        bagFraction: The fraction of input to bag per tree.
        maxNodes: The maximum number of leaf nodes in each tree. If unspecified, defaults to no
            limit.
        seed: The randomization seed.
    """
    _positive_int(numberOfTrees, "numberOfTrees")
    _positive_int(variablesPerSplit, "variablesPerSplit", allow_none=True)
    _positive_int(minLeafPopulation, "minLeafPopulation")
    if not 0 < bagFraction <= 1:
        raise InvalidArgumentError(f"bagFraction must be in (0, 1], got {bagFraction!r}.")
    if maxNodes is not None and (isinstance(maxNodes, bool) or maxNodes < 2):
        raise InvalidArgumentError(f"maxNodes must be at least 2, got {maxNodes!r}.")
    settings = (
        ("numberOfTrees", numberOfTrees),
        ("variablesPerSplit", variablesPerSplit),
        ("minLeafPopulation", minLeafPopulation),
        ("bagFraction", float(bagFraction)),
        ("maxNodes", maxNodes),
        ("seed", int(seed)),
    )
    return Classifier("smileRandomForest", settings)


@algorithm("Classifier.smileNaiveBayes")
def smile_naive_bayes(lambda_: float = 1e-06) -> Classifier:
    """Creates an empty Naive Bayes classifier (multinomial). This classifier assumes that the
    feature vector consists of positive integers, and negative inputs are discarded (taken as 0).

    Args:
        lambda_: A smoothing lambda (additive smoothing of the per-class feature counts). Used
            to avoid assigning zero probability to classes not seen during training.
    """
    if not lambda_ > 0:
        raise InvalidArgumentError(f"lambda must be positive, got {lambda_!r}.")
    return Classifier("smileNaiveBayes", (("lambda", float(lambda_)),))


@algorithm("Classifier.minimumDistance")
def minimum_distance(metric: str = "euclidean", kNearest: int = 1) -> Classifier:
    """Creates a minimum distance classifier for the given distance metric. In CLASSIFICATION
    mode, the nearest class is returned. In REGRESSION mode, the distance to the nearest class
    center is returned.

    Args:
        metric: The distance metric to use: 'euclidean' (Euclidean distance from the
            unnormalized class mean), 'cosine' (spectral angle, in radians, from the
            unnormalized class mean), 'mahalanobis' (Mahalanobis distance from the class mean,
            with the class's own sample covariance) or 'manhattan' (Manhattan distance from the
            unnormalized class mean).
        kNearest: Must be 1 here: larger values give arrays of the k nearest classes or
            distances, which are not supported.
    """
    if metric not in METRICS:
        raise InvalidArgumentError(f"Unknown metric '{metric}'; use one of {', '.join(METRICS)}.")
    if kNearest != 1:
        raise InvalidArgumentError("kNearest > 1 gives array outputs, which are not supported.")
    return Classifier("minimumDistance", (("metric", metric), ("kNearest", kNearest)))


def _trees(texts: list[str]) -> Classifier:
    if not texts:
        raise InvalidArgumentError("No decision tree was given.")
    trees = tuple(TextTree.parse(t) for t in texts)
    inputs: list[str] = []
    for tree in trees:
        inputs += [n for n in tree.inputs() if n not in inputs]
    if not inputs:
        raise InvalidArgumentError("The tree has no split: nothing to classify on.")
    return Classifier("decisionTree", (("trees", trees),), training=Training(tuple(inputs), (), ()))


@algorithm("Classifier.decisionTree")
def decision_tree(treeString: str) -> Classifier:
    """Creates a classifier that applies the given decision tree: from the root, each input goes
    to the child whose split condition holds, and takes the value (yval) of the leaf it reaches.
    The schema is the split variables, in order of appearance.

    Args:
        treeString: The decision tree, specified in the text format generated by R's rpart and
            other similar tools: lines `node) split n loss yval [(probabilities)] [*]`, node k's
            children being 2k and 2k+1, `*` marking leaves and splits written `name<value`,
            `name<=value`, `name>value` or `name>=value`.
    """
    return _trees([treeString])


@algorithm("Classifier.decisionTreeEnsemble")
def decision_tree_ensemble(treeStrings: list[str]) -> Classifier:
    """Creates a classifier that applies the given decision trees: their majority vote (the
    smaller class on a tie) in CLASSIFICATION mode, their mean in REGRESSION mode.

    Args:
        treeStrings: The decision trees, specified in the text format generated by R's rpart
            and other similar tools (see Classifier.decisionTree).
    """
    return _trees(list(treeStrings))


@algorithm("Classifier.spectralRegion")
def spectral_region(coordinates: list[Any], schema: list[str] | None = None) -> Classifier:
    """Creates a classifier that tests if its inputs lie within a polygon defined by a set of
    coordinates in an arbitrary 2D coordinate system. Each input to be classified must have 2
    values (e.g.: images must have 2 bands). The result will be 1 wherever the input values are
    contained within the given polygon (an odd number of its edges must be crossed to get
    outside; points on an edge are outside) and 0 otherwise. It needs no training.

    Args:
        coordinates: The coordinates of the polygon, as a list of rings. Each ring is a list of
            coordinate pairs (e.g. [u1, v1, u2, v2, ..., uN, vN]), or a list of [u, v] pairs.
            No edge may intersect any other edge.
        schema: The classifier's schema: the two band or property names that the classifier
            will operate on. Defaults to ['u', 'v'].
    """
    inputs = tuple(schema) if schema is not None else ("u", "v")
    if len(inputs) != 2:
        raise InvalidArgumentError(f"The schema must name 2 inputs, got {len(inputs)}.")
    rings = []
    for ring in coordinates if isinstance(coordinates, list) else [None]:
        if not isinstance(ring, list):
            raise InvalidArgumentError("coordinates must be a list of rings.")
        flat = [v for pair in ring for v in pair] if ring and isinstance(ring[0], list) else ring
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in flat):
            raise InvalidArgumentError("A ring's coordinates must be numbers.")
        if len(flat) % 2 or len(flat) < 6:
            raise InvalidArgumentError("Each ring needs at least 3 coordinate pairs.")
        rings.append(tuple(zip(map(float, flat[0::2]), map(float, flat[1::2]), strict=True)))
    if not rings:
        raise InvalidArgumentError("coordinates must hold at least one ring.")
    settings = (("rings", tuple(rings)),)
    return Classifier("spectralRegion", settings, training=Training(inputs, (), ()))


def _choice(value: str, choices: Any, name: str) -> str:
    if value not in choices:
        raise InvalidArgumentError(f"Unknown {name} '{value}'; use one of {', '.join(choices)}.")
    return value


@algorithm("Classifier.smileKNN")
def smile_knn(k: int = 1, searchMethod: str = "AUTO", metric: str = "EUCLIDEAN") -> Classifier:
    """Creates an empty k-NN classifier: the majority class of the k nearest training samples
    (ties to the smaller class value); in REGRESSION mode, their mean.

    Args:
        k: The number of neighbors for classification.
        searchMethod: Search method: AUTO, LINEAR_SEARCH, KD_TREE or COVER_TREE (a ball tree
            here). The neighbours found are the same whatever the method.
        metric: The distance metric to use: EUCLIDEAN, MAHALANOBIS (with the covariance of all
            training samples), MANHATTAN or BRAYCURTIS.
    """
    _positive_int(k, "k")
    _choice(searchMethod, KNN_SEARCH, "searchMethod")
    _choice(metric, KNN_METRICS, "metric")
    return Classifier("smileKNN", (("k", k), ("searchMethod", searchMethod), ("metric", metric)))


@algorithm("Classifier.libsvm")
def libsvm(
    decisionProcedure: str = "Voting",
    svmType: str = "C_SVC",
    kernelType: str = "LINEAR",
    shrinking: bool = True,
    degree: int | None = None,
    gamma: float | None = None,
    coef0: float | None = None,
    cost: float | None = None,
    nu: float | None = None,
    terminationEpsilon: float | None = None,
    lossEpsilon: float | None = None,
    oneClass: int | None = None,
) -> Classifier:
    """Creates an empty Support Vector Machine classifier (libsvm, through scikit-learn's SVC,
    NuSVC, SVR and NuSVR). Multi-class problems are decided by one-vs-one voting.

    Args:
        decisionProcedure: The decision procedure to use for classification; only 'Voting' is
            supported here.
        svmType: The SVM type: C_SVC, NU_SVC, EPSILON_SVR or NU_SVR (the last two with the
            REGRESSION output mode). ONE_CLASS is not supported.
        kernelType: The kernel type: LINEAR (u'v), POLY ((gamma u'v + coef0)^degree), RBF
            (exp(-gamma |u-v|^2)) or SIGMOID (tanh(gamma u'v + coef0)).
        shrinking: Whether to use shrinking heuristics.
        degree: The degree of polynomial; 3 by default. Valid for POLY kernels.
        gamma: The gamma value in the kernel function; 1 / the number of inputs by default.
            Valid for POLY, RBF and SIGMOID kernels.
        coef0: The coef0 value in the kernel function; 0 by default. Valid for POLY and SIGMOID
            kernels.
        cost: The cost (C) parameter; 1 by default. Valid for C_SVC, EPSILON_SVR and NU_SVR.
        nu: The nu parameter; 0.5 by default. Valid for NU_SVC and NU_SVR.
        terminationEpsilon: The termination criterion tolerance (e); 0.001 by default.
        lossEpsilon: The epsilon in the loss function (p); 0.1 by default. Valid for
            EPSILON_SVR.
        oneClass: The class of the training data on which to train in a one-class SVM; one-class
            SVMs are not supported here.
    """
    if decisionProcedure != "Voting":
        raise InvalidArgumentError(f"decisionProcedure '{decisionProcedure}' is not supported.")
    _choice(svmType, SVM_TYPES, "svmType")
    _choice(kernelType, SVM_KERNELS, "kernelType")
    if oneClass is not None:
        raise InvalidArgumentError("One-class SVMs are not supported.")
    for name, value in (("cost", cost), ("nu", nu), ("gamma", gamma)):
        if value is not None and not value > 0:
            raise InvalidArgumentError(f"{name} must be positive, got {value!r}.")
    if nu is not None and nu > 1:
        raise InvalidArgumentError(f"nu must be in (0, 1], got {nu!r}.")
    settings = (
        ("svmType", svmType),
        ("kernelType", kernelType),
        ("shrinking", bool(shrinking)),
        ("degree", degree),
        ("gamma", gamma),
        ("coef0", coef0),
        ("cost", cost),
        ("nu", nu),
        ("terminationEpsilon", terminationEpsilon),
        ("lossEpsilon", lossEpsilon),
    )
    return Classifier("libsvm", settings)


@algorithm("Classifier.smileGradientTreeBoost")
def smile_gradient_tree_boost(
    numberOfTrees: int,
    shrinkage: float = 0.005,
    samplingRate: float = 0.7,
    maxNodes: int | None = None,
    loss: str = "LeastAbsoluteDeviation",
    seed: int = 0,
) -> Classifier:
    """Creates an empty Gradient Tree Boost classifier: numberOfTrees regression trees fitted in
    turn to the gradient of the loss (log-loss when classifying), each on a random samplingRate
    fraction of the training set, and added with weight shrinkage.

    Args:
        numberOfTrees: The number of decision trees to create.
        shrinkage: The shrinkage parameter in (0, 1] controls the learning rate of procedure.
        samplingRate: The sampling rate for stochastic tree boosting.
        maxNodes: The maximum number of leaf nodes in each tree. If unspecified, defaults to no
            limit.
        loss: Loss function for regression: LeastSquares, LeastAbsoluteDeviation or Huber.
        seed: The randomization seed.
    """
    _positive_int(numberOfTrees, "numberOfTrees")
    if not 0 < shrinkage <= 1:
        raise InvalidArgumentError(f"shrinkage must be in (0, 1], got {shrinkage!r}.")
    if not 0 < samplingRate <= 1:
        raise InvalidArgumentError(f"samplingRate must be in (0, 1], got {samplingRate!r}.")
    if maxNodes is not None and (isinstance(maxNodes, bool) or maxNodes < 2):
        raise InvalidArgumentError(f"maxNodes must be at least 2, got {maxNodes!r}.")
    _choice(loss, LOSSES, "loss")
    settings = (
        ("numberOfTrees", numberOfTrees),
        ("shrinkage", float(shrinkage)),
        ("samplingRate", float(samplingRate)),
        ("maxNodes", maxNodes),
        ("loss", loss),
        ("seed", int(seed)),
    )
    return Classifier("smileGradientTreeBoost", settings)


def number_property(feature: Feature, name: str) -> float:
    value = feature.get(name)
    if value is None:
        raise InvalidArgumentError(f"Property '{name}' is missing from a feature.")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(f"Property '{name}' must be a number, got {value!r}.")
    return float(value)


def training_rows(
    features: FeatureCollection, inputs: list[str], subsampling: float, seed: int
) -> list[Feature]:
    """The features a classifier or clusterer trains on: checked, and subsampled with `seed`."""
    if not 0 < subsampling <= 1:
        raise InvalidArgumentError(f"subsampling must be in (0, 1], got {subsampling!r}.")
    if not inputs:
        raise InvalidArgumentError("No input properties to train on.")
    rows = [f for f in features.features if isinstance(f, Feature)]
    if len(rows) > MAX_SAMPLES:
        raise InvalidArgumentError(f"More than {MAX_SAMPLES} training features.")
    if subsampling < 1:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(rows), round(len(rows) * subsampling), replace=False))
        rows = [rows[i] for i in keep]
    if not rows:
        raise InvalidArgumentError("The training collection is empty.")
    return rows


def default_inputs(collection: FeatureCollection, classProperty: str) -> list[str]:
    order = collection.get("band_order")
    if isinstance(order, list) and order:
        return [str(v) for v in order]
    for feature in collection.features:
        if isinstance(feature, Feature):
            return [
                k
                for k, v in feature.properties.items()
                if k != classProperty
                and not k.startswith("system:")
                and isinstance(v, int | float)
                and not isinstance(v, bool)
            ]
    return []


@algorithm("Classifier.train")
def train(
    classifier: Classifier,
    features: FeatureCollection,
    classProperty: str,
    inputProperties: list[str] | None = None,
    subsampling: float = 1.0,
    subsamplingSeed: int = 0,
) -> Classifier:
    """Trains the classifier on a collection of features, using the specified numeric
    properties of each feature as training data. The geometry of the features is ignored.

    Args:
        classifier: An input classifier.
        features: The collection to train on.
        classProperty: The name of the property containing the class value. Each feature must
            have this property, and its value must be numeric.
        inputProperties: The list of property names to include as training data. Each feature
            must have all these properties, and their values must be numeric. Defaults to the
            collection's 'band_order' property if it has one, else to the numeric properties of
            its first feature other than classProperty and system properties.
        subsampling: An optional subsampling factor, within (0, 1].
        subsamplingSeed: A randomization seed to use for subsampling.
    """
    if classifier.training is not None:
        raise InvalidArgumentError("The classifier has already been trained.")
    inputs = inputProperties or default_inputs(features, classProperty)
    rows = training_rows(features, inputs, subsampling, subsamplingSeed)
    x = tuple(tuple(number_property(f, name) for name in inputs) for f in rows)
    y = tuple(number_property(f, classProperty) for f in rows)
    trained = replace(classifier, training=Training(tuple(inputs), x, y))
    _ = trained.model  # fit now, so that bad training data is reported by train
    return trained


def _output_dtype(classifier: Classifier) -> str:
    if classifier.mode != "CLASSIFICATION":
        return "float64"
    model = classifier.model
    classes = getattr(model, "classes_", getattr(model, "classes", None))
    if classes is None:
        return "float64"
    low, high = int(np.min(classes)), int(np.max(classes))
    for name in ("uint8", "int16", "int32"):
        info = np.iinfo(name)
        if info.min <= low and high <= info.max:
            return name
    return "int64"


@algorithm("Image.classify")
def image_classify(
    image: Image, classifier: Classifier, outputName: str = "classification"
) -> Image:
    """Classifies an image: the classifier's output at each pixel from the bands named by its
    schema (the training input properties); masked where any of them is masked.

    Args:
        image: The image to classify. Bands are extracted from this image by name, and it must
            contain all the bands named in the classifier's schema.
        classifier: The (trained) classifier to use.
        outputName: The name of the band to be added.
    """
    training = classifier.trained()
    names = image.band_names
    missing = [n for n in training.inputs if n not in names]
    if missing:
        raise BandNotFoundError(f"Band '{missing[0]}' not found; the classifier needs it.")
    sources = tuple(image.band(n).source for n in training.inputs)
    band = ClassifiedBand(classifier, sources, _output_dtype(classifier))
    first = image.band(training.inputs[0])
    return Image((replace(first, name=outputName, source=band),), properties=image.properties)


@algorithm("FeatureCollection.classify")
def feature_collection_classify(
    features: FeatureCollection, classifier: Classifier, outputName: str = "classification"
) -> FeatureCollection:
    """Classifies each feature in a collection: adds the classifier's output, computed from the
    properties named by its schema, as property outputName.

    Args:
        features: The collection of features to classify. Each feature must contain all the
            properties in the classifier's schema.
        classifier: The classifier to use.
        outputName: The name of the output property to be added.
    """
    training = classifier.trained()
    rows = [f for f in features.features if isinstance(f, Feature)]
    x = np.array([[number_property(f, n) for n in training.inputs] for f in rows], dtype=np.float64)
    predicted = classifier.predict(x.reshape(len(rows), len(training.inputs)))
    integral = classifier.mode == "CLASSIFICATION"
    out = [
        replace(f, properties={**f.properties, outputName: int(v) if integral else float(v)})
        for f, v in zip(rows, predicted.tolist(), strict=True)
    ]
    return replace(features, features=tuple(out))


@algorithm("Classifier.confusionMatrix")
def confusion_matrix(classifier: Classifier) -> ConfusionMatrix:
    """Computes a 2D confusion matrix for a classifier based on its training data (ie:
    resubstitution error). Axis 0 of the matrix correspond to the input classes, and axis 1 to
    the output classes. The rows and columns start at class 0 and increase sequentially up to
    the maximum class value.

    Args:
        classifier: The classifier to use.
    """
    training = classifier.trained()
    if classifier.mode != "CLASSIFICATION":
        raise InvalidArgumentError("A confusion matrix needs the CLASSIFICATION output mode.")
    if not training.y:
        raise InvalidArgumentError("The classifier has no training data.")
    actual = np.asarray(training.y).astype(np.int64)
    predicted = classifier.predict(np.asarray(training.x, dtype=np.float64)).astype(np.int64)
    if actual.min() < 0 or predicted.min() < 0:
        raise InvalidArgumentError("Class values must be non-negative integers.")
    size = int(max(actual.max(), predicted.max())) + 1
    counts = np.zeros((size, size), dtype=np.int64)
    np.add.at(counts, (actual, predicted), 1)
    return ConfusionMatrix(tuple(tuple(int(v) for v in row) for row in counts), tuple(range(size)))


@algorithm("Classifier.explain")
def explain(classifier: Classifier) -> dict[str, Any]:
    """Describes the results of a trained classifier: its kind, output mode, inputs and
    classes; the inputs' impurity-based importance for tree models (plus numberOfNodes for CART,
    numberOfTrees for forests and boosting, and for CART its 'tree' in the text format that
    Classifier.decisionTree reads), the class means for minimumDistance.

    Args:
        classifier: The classifier to describe.
    """
    training = classifier.trained()
    model = classifier.model
    out: dict[str, Any] = {
        "classifier": classifier.kind,
        "outputMode": classifier.mode,
        "inputs": list(training.inputs),
    }
    if isinstance(model, MinimumDistanceModel):
        out["classes"] = model.classes.tolist()
        out["classMeans"] = model.means.tolist()
        return out
    if hasattr(model, "classes_"):
        out["classes"] = model.classes_.tolist()
    if hasattr(model, "feature_importances_"):
        out["importance"] = dict(
            zip(training.inputs, model.feature_importances_.tolist(), strict=True)
        )
    if classifier.kind == "smileCart":
        out["numberOfNodes"] = int(model.tree_.node_count)
        classes = getattr(model, "classes_", None)
        out["tree"] = sklearn_tree_text(model, training.inputs, classes)
    if classifier.kind in ("smileRandomForest", "smileGradientTreeBoost"):
        out["numberOfTrees"] = len(model.estimators_)
    return out


@algorithm("Classifier.setOutputMode")
def set_output_mode(classifier: Classifier, mode: str) -> Classifier:
    """Sets the output format of a classifier: CLASSIFICATION (the class number), REGRESSION
    (the result of regression; trees and forests are then trained as regressors) or PROBABILITY
    (for two classes, the probability of the larger class value; for more, the probability of
    the predicted class). MULTIPROBABILITY, RAW and RAW_REGRESSION give arrays, which classify
    rejects.

    Args:
        classifier: An input classifier.
        mode: The output mode. One of CLASSIFICATION, REGRESSION, PROBABILITY,
            MULTIPROBABILITY, RAW or RAW_REGRESSION.
    """
    if mode not in MODES:
        raise InvalidArgumentError(f"Unknown output mode '{mode}'; use one of {', '.join(MODES)}.")
    return replace(classifier, mode=mode)


@algorithm("Classifier.schema")
def schema(classifier: Classifier) -> list[str]:
    """Returns the names of the inputs used by this classifier, or null if this classifier has
    not had any training data added yet.

    Args:
        classifier: The classifier.
    """
    return list(classifier.training.inputs) if classifier.training else None  # type: ignore[return-value]


@algorithm("Classifier.mode")
def mode(classifier: Classifier) -> str:
    """Returns the classifier mode: CLASSIFICATION, REGRESSION, PROBABILITY, MULTIPROBABILITY,
    RAW or RAW_REGRESSION.

    Args:
        classifier: The classifier.
    """
    return classifier.mode


# Earth Engine's older (hidden) names for the same models.
algorithm("Classifier.svm")(libsvm)
algorithm("Classifier.naiveBayes")(smile_naive_bayes)
