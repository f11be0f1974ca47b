"""Unsupervised classification: Clusterer.wekaKMeans, wekaCascadeKMeans, wekaXMeans, train and
schema; Image.cluster and FeatureCollection.cluster.

k-means is scikit-learn's (Lloyd's algorithm from one initialisation drawn with `seed`), not
Weka's: the clusters are a k-means partition of the same samples, but their numbering and, for
unlucky seeds, the local optimum found can differ from Earth Engine's.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from openee.algorithms.classifier import default_inputs, number_property, training_rows
from openee.algorithms.registry import algorithm
from openee.errors import BandNotFoundError, InvalidArgumentError
from openee.raster.classify import ClassifiedBand
from openee.raster.image import Image
from openee.values.classifier import Training
from openee.values.clusterer import Clusterer
from openee.values.feature import Feature, FeatureCollection


def _check_k_means(distanceFunction: str, maxIterations: int | None) -> None:
    """The k-means settings every Weka clusterer here shares and supports."""
    if distanceFunction != "Euclidean":
        raise InvalidArgumentError(
            f"distanceFunction '{distanceFunction}' is not supported; use 'Euclidean'."
        )
    if maxIterations is not None and maxIterations < 1:
        raise InvalidArgumentError(f"maxIterations must be positive, got {maxIterations!r}.")


@algorithm("Clusterer.wekaKMeans")
def weka_k_means(
    nClusters: int,
    init: int = 0,
    canopies: bool = False,
    maxCandidates: int = 100,
    periodicPruning: int = 10000,
    minDensity: int = 2,
    t1: float = -1.5,
    t2: float = -1.0,
    distanceFunction: str = "Euclidean",
    maxIterations: int | None = None,
    preserveOrder: bool = False,
    fast: bool = False,
    seed: int = 10,
) -> Clusterer:
    """Cluster data using the k-means algorithm: nClusters centres, initialised from the training
    samples, moved to the mean of the samples nearest to them until they no longer change; each
    sample or pixel gets the number of its nearest centre.

    Args:
        nClusters: Number of clusters.
        init: Initialization method to use: 0 = random, 1 = k-means++ (canopy and farthest
            first, 2 and 3, are not supported).
        canopies: Use canopies to reduce the number of distance calculations; not supported
            (must be false).
        maxCandidates: Maximum number of candidate canopies to retain in memory at any one
            time when using canopy clustering (unused here).
        periodicPruning: How often to prune low density canopies when using canopy clustering
            (unused here).
        minDensity: Minimum canopy density, when using canopy clustering (unused here).
        t1: The T1 distance to use when using canopy clustering (unused here).
        t2: The T2 distance to use when using canopy clustering (unused here).
        distanceFunction: Distance function to use; only 'Euclidean' is supported.
        maxIterations: Maximum number of iterations; 1000 if unspecified.
        preserveOrder: Preserve order of instances (the result does not depend on it here).
        fast: Enables faster distance calculations (the result does not depend on it here).
        seed: The randomization seed.
    """
    if isinstance(nClusters, bool) or nClusters < 1:
        raise InvalidArgumentError(f"nClusters must be a positive integer, got {nClusters!r}.")
    if init not in (0, 1):
        raise InvalidArgumentError(f"init {init} is not supported; use 0 (random) or 1.")
    if canopies:
        raise InvalidArgumentError("Canopy clustering is not supported.")
    _check_k_means(distanceFunction, maxIterations)
    settings = (
        ("nClusters", nClusters),
        ("init", init),
        ("maxIterations", maxIterations),
        ("seed", int(seed)),
    )
    return Clusterer("wekaKMeans", settings)


@algorithm("Clusterer.wekaCascadeKMeans")
def weka_cascade_k_means(
    minClusters: int = 2,
    maxClusters: int = 10,
    restarts: int = 10,
    manual: bool = False,
    init: bool = False,
    distanceFunction: str = "Euclidean",
    maxIterations: int | None = None,
) -> Clusterer:
    """Cascade simple k-means selects the best k according to the Calinski-Harabasz criterion:
    k-means is run for every k from minClusters to maxClusters (the best of `restarts` runs, by
    within-cluster sum of squares, with initialisations drawn from a fixed seed), and the k with
    the largest (tr B / (k - 1)) / (tr W / (n - k)) wins, the smaller k on a tie.

    Args:
        minClusters: Min number of clusters.
        maxClusters: Max number of clusters (at most the number of training samples).
        restarts: Number of restarts.
        manual: Manually select the number of clusters; not supported (must be false).
        init: Set whether to initialize using the probabilistic farthest first like method of
            the k-means++ algorithm (rather than the standard random selection of initial
            cluster centers).
        distanceFunction: Distance function to use; only 'Euclidean' is supported.
        maxIterations: Maximum number of iterations for k-means; 1000 if unspecified.
    """
    if isinstance(minClusters, bool) or minClusters < 2:
        raise InvalidArgumentError(f"minClusters must be at least 2, got {minClusters!r}.")
    if maxClusters < minClusters:
        raise InvalidArgumentError("maxClusters must not be less than minClusters.")
    if restarts < 1:
        raise InvalidArgumentError(f"restarts must be positive, got {restarts!r}.")
    if manual:
        raise InvalidArgumentError("Manual selection of the number of clusters is not supported.")
    _check_k_means(distanceFunction, maxIterations)
    settings = (
        ("minClusters", minClusters),
        ("maxClusters", maxClusters),
        ("restarts", restarts),
        ("init", bool(init)),
        ("maxIterations", maxIterations),
    )
    return Clusterer("wekaCascadeKMeans", settings)


@algorithm("Clusterer.wekaXMeans")
def weka_x_means(
    minClusters: int = 2,
    maxClusters: int = 8,
    maxIterations: int = 3,
    maxKMeans: int = 1000,
    maxForChildren: int = 1000,
    useKD: bool = False,
    cutoffFactor: float = 0.0,
    distanceFunction: str = "Euclidean",
    seed: int = 10,
) -> Clusterer:
    """X-Means is K-Means with an efficient estimation of the number of clusters (Pelleg and
    Moore, ICML 2000): starting from minClusters, each cluster is split in two where the
    split improves the Bayesian Information Criterion, up to maxClusters (ADR 0032).

    Args:
        minClusters: Minimum number of clusters.
        maxClusters: Maximum number of clusters.
        maxIterations: Maximum number of overall iterations.
        maxKMeans: The maximum number of iterations to perform in KMeans.
        maxForChildren: The maximum number of iterations in KMeans that is performed on the
            child centers.
        useKD: Use a KDTree (the result does not depend on it here).
        cutoffFactor: Takes the given percentage of the split centroids if none of the
            children win; only 0 is supported.
        distanceFunction: Distance function to use; only 'Euclidean' is supported.
        seed: The randomization seed.
    """
    if isinstance(minClusters, bool) or minClusters < 1:
        raise InvalidArgumentError(f"minClusters must be a positive integer, got {minClusters!r}.")
    if maxClusters < minClusters:
        raise InvalidArgumentError("maxClusters must not be less than minClusters.")
    if min(maxIterations, maxKMeans, maxForChildren) < 1:
        raise InvalidArgumentError("maxIterations, maxKMeans and maxForChildren must be positive.")
    if cutoffFactor != 0:
        raise InvalidArgumentError("cutoffFactor is not supported; use 0.")
    _check_k_means(distanceFunction, None)
    settings = (
        ("minClusters", minClusters),
        ("maxClusters", maxClusters),
        ("maxIterations", maxIterations),
        ("maxKMeans", maxKMeans),
        ("maxForChildren", maxForChildren),
        ("seed", int(seed)),
    )
    return Clusterer("wekaXMeans", settings)


@algorithm("Clusterer.train")
def train(
    clusterer: Clusterer,
    features: FeatureCollection,
    inputProperties: list[str] | None = None,
    subsampling: float = 1.0,
    subsamplingSeed: int = 0,
) -> Clusterer:
    """Trains the clusterer on a collection of features, using the specified numeric properties
    of each feature as training data. The geometry of the features is ignored.

    Args:
        clusterer: An input clusterer.
        features: The collection to train on.
        inputProperties: The list of property names to include as training data. Each feature
            must have all these properties, and their values must be numeric. Defaults to the
            collection's 'band_order' property if it has one, else to the numeric properties of
            its first feature other than system properties.
        subsampling: An optional subsampling factor, within (0, 1].
        subsamplingSeed: A randomization seed to use for subsampling.
    """
    if clusterer.training is not None:
        raise InvalidArgumentError("The clusterer has already been trained.")
    inputs = inputProperties or default_inputs(features, "")
    rows = training_rows(features, inputs, subsampling, subsamplingSeed)
    x = tuple(tuple(number_property(f, name) for name in inputs) for f in rows)
    trained = replace(clusterer, training=Training(tuple(inputs), x, ()))
    _ = trained.model  # fit now, so that bad training data is reported by train
    return trained


@algorithm("Clusterer.schema")
def schema(clusterer: Clusterer) -> list[str]:
    """Returns the names of the inputs used by this clusterer, or null if this clusterer has not
    had any training data added yet.

    Args:
        clusterer: The clusterer.
    """
    return list(clusterer.training.inputs) if clusterer.training else None  # type: ignore[return-value]


@algorithm("Image.cluster")
def image_cluster(image: Image, clusterer: Clusterer, outputName: str = "cluster") -> Image:
    """Applies a clusterer to an image: an integer band of cluster numbers, computed at each
    pixel from the bands named by the clusterer's schema; masked where any of them is masked.

    Args:
        image: The input image; it must contain all the bands named in the clusterer's schema.
        clusterer: The (trained) clusterer to use.
        outputName: The name of the output band.
    """
    training = clusterer.trained()
    missing = [n for n in training.inputs if n not in image.band_names]
    if missing:
        raise BandNotFoundError(f"Band '{missing[0]}' not found; the clusterer needs it.")
    sources = tuple(image.band(n).source for n in training.inputs)
    first = image.band(training.inputs[0])
    band = ClassifiedBand(clusterer, sources, "int32")
    return Image((replace(first, name=outputName, source=band),), properties=image.properties)


@algorithm("FeatureCollection.cluster")
def feature_collection_cluster(
    features: FeatureCollection, clusterer: Clusterer, outputName: str = "cluster"
) -> FeatureCollection:
    """Clusters each feature in a collection, adding a new column with the cluster number.

    Args:
        features: The collection of features to cluster. Each feature must contain all the
            properties in the clusterer's schema.
        clusterer: The clusterer to use.
        outputName: The name of the output property to be added.
    """
    training = clusterer.trained()
    rows = [f for f in features.features if isinstance(f, Feature)]
    x = np.array([[number_property(f, n) for n in training.inputs] for f in rows])
    labels = clusterer.predict(x.reshape(len(rows), len(training.inputs)).astype(np.float64))
    out = [
        replace(f, properties={**f.properties, outputName: int(v)})
        for f, v in zip(rows, labels.tolist(), strict=True)
    ]
    return replace(features, features=tuple(out))
