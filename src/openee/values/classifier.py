"""Classifiers as data: a kind, its settings, an output mode and (once trained) its samples.

The model is fitted with scikit-learn on first use and cached on the (frozen, hashable) value,
so a trained classifier can travel inside band recipes and is fitted once per process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from openee.errors import InvalidArgumentError
from openee.values.tree_text import TreeEnsembleModel

MODES = ("CLASSIFICATION", "REGRESSION", "PROBABILITY", "MULTIPROBABILITY", "RAW", "RAW_REGRESSION")
# One model is fitted at a time, so that chunks evaluated in parallel share the first fit.
FIT_LOCK = threading.Lock()

# Modes whose output is one number per pixel or feature.
SCALAR_MODES = ("CLASSIFICATION", "REGRESSION", "PROBABILITY")


@dataclass(frozen=True)
class Training:
    """The samples a classifier was trained on: one row of `inputs` values per sample."""

    inputs: tuple[str, ...]
    x: tuple[tuple[float, ...], ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class MinimumDistanceModel:
    """Class means (and covariances, for Mahalanobis) with a distance metric."""

    classes: np.ndarray
    means: np.ndarray
    inverse_covariances: np.ndarray
    metric: str

    def distances(self, x: np.ndarray) -> np.ndarray:
        """(samples, classes) distances from each sample to each class mean."""
        diff = x[:, None, :] - self.means[None, :, :]
        if self.metric == "euclidean":
            return np.sqrt(np.sum(diff**2, axis=2))
        if self.metric == "manhattan":
            return np.sum(np.abs(diff), axis=2)
        if self.metric == "cosine":
            norms = np.linalg.norm(x, axis=1)[:, None] * np.linalg.norm(self.means, axis=1)[None]
            with np.errstate(divide="ignore", invalid="ignore"):
                cos = np.where(norms > 0, (x @ self.means.T) / norms, 1.0)
            return np.arccos(np.clip(cos, -1.0, 1.0))
        quad = np.einsum("nkd,kde,nke->nk", diff, self.inverse_covariances, diff)
        return np.sqrt(np.maximum(quad, 0.0))


@dataclass(frozen=True)
class SpectralRegionModel:
    """Even-odd membership of 2-D inputs in a set of rings (1 inside, 0 outside or on an edge)."""

    rings: tuple[tuple[tuple[float, float], ...], ...]
    classes: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        import shapely

        inside = np.zeros(len(x), dtype=bool)
        for ring in self.rings:
            inside ^= shapely.contains_xy(shapely.Polygon(ring), x[:, 0], x[:, 1])
        return inside.astype(np.int64)


class FittedOnce:
    """A value whose `model` is fitted by `_fit` on first use and cached on the value; one fit
    at a time, so that threads asking at once do not each fit it."""

    @cached_property
    def model(self) -> Any:
        with FIT_LOCK:
            if "model" in self.__dict__:  # fitted by another thread meanwhile
                return self.__dict__["model"]
            return self._fit()

    def _fit(self) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Classifier(FittedOnce):
    """`kind` is the Earth Engine constructor ('smileCart', ...); `settings` its arguments."""

    kind: str
    settings: tuple[tuple[str, Any], ...]
    mode: str = "CLASSIFICATION"
    training: Training | None = None

    def setting(self, name: str) -> Any:
        return dict(self.settings).get(name)

    def trained(self) -> Training:
        if self.training is None:
            raise InvalidArgumentError("The classifier has not been trained.")
        return self.training

    def info(self) -> dict[str, Any]:
        return {"type": "Classifier", "name": self.kind, "mode": self.mode}

    def _fit(self) -> Any:
        """The fitted model (scikit-learn estimator, or MinimumDistanceModel)."""
        if self.kind == "decisionTree":
            return TreeEnsembleModel(self.setting("trees"), self.trained().inputs)
        if self.kind == "spectralRegion":
            return SpectralRegionModel(self.setting("rings"), np.array([0, 1]))
        training = self.trained()
        x, y = np.asarray(training.x, dtype=np.float64), np.asarray(training.y, dtype=np.float64)
        if self.kind == "minimumDistance":
            return _minimum_distance(x, y, str(self.setting("metric")))
        regression = self.mode == "REGRESSION"
        if not regression and not np.all(y == np.round(y)):
            raise InvalidArgumentError(
                "Class values must be integers (set the output mode to REGRESSION for "
                "continuous values)."
            )
        estimator = _estimator(self.kind, dict(self.settings), regression, x)
        if self.kind == "smileNaiveBayes":
            x = np.maximum(x, 0.0)  # negative inputs are discarded
        return estimator.fit(x, y if regression else y.astype(np.int64))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The output for each row of `x` in the classifier's (scalar) output mode."""
        if self.mode not in SCALAR_MODES:
            raise InvalidArgumentError(
                f"Output mode {self.mode} gives arrays, which are not supported; use "
                f"{', '.join(SCALAR_MODES)}."
            )
        model = self.model
        if x.shape[0] == 0:
            return np.zeros(0)
        if self.kind == "smileNaiveBayes":
            x = np.maximum(x, 0.0)
        if isinstance(model, TreeEnsembleModel):
            if self.mode not in ("CLASSIFICATION", "REGRESSION"):
                raise InvalidArgumentError(f"Trees from text have no {self.mode} output.")
            return model.predict(x, self.mode == "REGRESSION")
        if isinstance(model, SpectralRegionModel):
            if self.mode != "CLASSIFICATION":
                raise InvalidArgumentError("spectralRegion has only the CLASSIFICATION output.")
            return model.predict(x)
        if isinstance(model, MinimumDistanceModel):
            distances = model.distances(x)
            if self.mode == "REGRESSION":
                return np.min(distances, axis=1)
            if self.mode == "PROBABILITY":
                raise InvalidArgumentError("minimumDistance has no PROBABILITY output.")
            return model.classes[np.argmin(distances, axis=1)]
        if self.mode == "PROBABILITY":
            if not hasattr(model, "predict_proba"):
                raise InvalidArgumentError(f"{self.kind} has no PROBABILITY output here.")
            proba = model.predict_proba(x)
            if proba.shape[1] == 2:
                return np.asarray(proba[:, 1], dtype=np.float64)
            return np.asarray(np.max(proba, axis=1), dtype=np.float64)
        return np.asarray(model.predict(x))


def _minimum_distance(x: np.ndarray, y: np.ndarray, metric: str) -> MinimumDistanceModel:
    classes = np.unique(y)
    means = np.stack([x[y == c].mean(axis=0) for c in classes])
    inverse = (
        np.stack([np.linalg.pinv(np.atleast_2d(np.cov(x[y == c], rowvar=False))) for c in classes])
        if metric == "mahalanobis"
        else np.zeros((len(classes), 0, 0))
    )
    labels = classes.astype(np.int64) if np.all(classes == np.round(classes)) else classes
    return MinimumDistanceModel(labels, means, inverse, metric)


def _estimator(kind: str, settings: dict[str, Any], regression: bool, x: np.ndarray) -> Any:
    from sklearn import ensemble, naive_bayes, tree  # imported on first use: slow to import

    if kind == "smileKNN":
        return _knn(settings, regression, x)
    if kind == "libsvm":
        return _svm(settings, regression, x)
    if kind == "smileGradientTreeBoost":
        boost = (
            ensemble.GradientBoostingRegressor
            if regression
            else ensemble.GradientBoostingClassifier
        )
        extra = {"loss": LOSSES[settings["loss"]]} if regression else {}
        return boost(
            n_estimators=int(settings["numberOfTrees"]),
            learning_rate=float(settings["shrinkage"]),
            subsample=float(settings["samplingRate"]),
            max_leaf_nodes=settings.get("maxNodes"),
            random_state=int(settings.get("seed") or 0),
            **extra,
        )
    if kind == "smileCart":
        cls = tree.DecisionTreeRegressor if regression else tree.DecisionTreeClassifier
        return cls(
            max_leaf_nodes=settings.get("maxNodes"),
            min_samples_leaf=int(settings.get("minLeafPopulation") or 1),
            random_state=0,
        )
    if kind == "smileRandomForest":
        forest = ensemble.RandomForestRegressor if regression else ensemble.RandomForestClassifier
        per_split = settings.get("variablesPerSplit")
        return forest(
            n_estimators=int(settings["numberOfTrees"]),
            max_features=int(per_split) if per_split else "sqrt",
            min_samples_leaf=int(settings.get("minLeafPopulation") or 1),
            max_samples=float(settings.get("bagFraction") or 0.5),
            max_leaf_nodes=settings.get("maxNodes"),
            bootstrap=True,
            random_state=int(settings.get("seed") or 0),
        )
    if kind == "smileNaiveBayes":
        if regression:
            raise InvalidArgumentError("smileNaiveBayes has no REGRESSION output.")
        return naive_bayes.MultinomialNB(alpha=float(settings["lambda"]))
    raise InvalidArgumentError(f"Unknown classifier {kind}.")


# smileGradientTreeBoost's regression losses, as scikit-learn names them.
LOSSES = {
    "LeastSquares": "squared_error",
    "LeastAbsoluteDeviation": "absolute_error",
    "Huber": "huber",
}
KNN_METRICS = {
    "EUCLIDEAN": "euclidean",
    "MANHATTAN": "manhattan",
    "MAHALANOBIS": "mahalanobis",
    "BRAYCURTIS": "braycurtis",
}
KNN_SEARCH = {
    "AUTO": "auto",
    "LINEAR_SEARCH": "brute",
    "KD_TREE": "kd_tree",
    "COVER_TREE": "ball_tree",
}
SVM_TYPES = ("C_SVC", "NU_SVC", "EPSILON_SVR", "NU_SVR")
SVM_KERNELS = {"LINEAR": "linear", "POLY": "poly", "RBF": "rbf", "SIGMOID": "sigmoid"}


def _knn(settings: dict[str, Any], regression: bool, x: np.ndarray) -> Any:
    from sklearn import neighbors

    metric = KNN_METRICS[settings["metric"]]
    search = KNN_SEARCH[settings["searchMethod"]]
    params: dict[str, Any] = {}
    if metric == "mahalanobis":
        params = {"VI": np.linalg.pinv(np.atleast_2d(np.cov(x, rowvar=False)))}
    if metric in ("mahalanobis", "braycurtis") and search == "kd_tree":
        search = "brute"  # a k-d tree handles Minkowski metrics only; the neighbours are the same
    cls = neighbors.KNeighborsRegressor if regression else neighbors.KNeighborsClassifier
    k = min(int(settings["k"]), len(x))
    return cls(n_neighbors=k, algorithm=search, metric=metric, metric_params=params or None)


def _svm(settings: dict[str, Any], regression: bool, x: np.ndarray) -> Any:
    from sklearn import svm

    kind = settings["svmType"]
    common: dict[str, Any] = {
        "kernel": SVM_KERNELS[settings["kernelType"]],
        "degree": int(settings["degree"]) if settings.get("degree") is not None else 3,
        # libsvm's default gamma is 1 / number of inputs.
        "gamma": float(settings["gamma"]) if settings.get("gamma") is not None else 1 / x.shape[1],
        "coef0": float(settings.get("coef0") or 0.0),
        "shrinking": bool(settings["shrinking"]),
        "tol": float(settings.get("terminationEpsilon") or 0.001),
    }
    cost = float(settings["cost"]) if settings.get("cost") is not None else 1.0
    nu = float(settings["nu"]) if settings.get("nu") is not None else 0.5
    if kind in ("EPSILON_SVR", "NU_SVR") and not regression:
        raise InvalidArgumentError(f"svmType {kind} needs the REGRESSION output mode.")
    if kind == "C_SVC":
        return (svm.SVR if regression else svm.SVC)(C=cost, **common)
    if kind == "NU_SVC":
        return svm.NuSVC(nu=nu, **common)
    if kind == "EPSILON_SVR":
        epsilon = settings.get("lossEpsilon")
        return svm.SVR(C=cost, epsilon=float(epsilon) if epsilon is not None else 0.1, **common)
    return svm.NuSVR(C=cost, nu=nu, **common)
