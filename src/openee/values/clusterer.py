"""Clusterers as data: a kind, its settings and (once trained) its samples, fitted with
scikit-learn on first use and cached on the (frozen, hashable) value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from openee.errors import InvalidArgumentError
from openee.values.classifier import FittedOnce, Training
from openee.values.xmeans import xmeans


@dataclass(frozen=True)
class Clusterer(FittedOnce):
    kind: str
    settings: tuple[tuple[str, Any], ...]
    training: Training | None = None

    def trained(self) -> Training:
        if self.training is None:
            raise InvalidArgumentError("The clusterer has not been trained.")
        return self.training

    def info(self) -> dict[str, Any]:
        return {"type": "Clusterer", "name": self.kind}

    def _fit(self) -> Any:
        from sklearn.cluster import KMeans  # imported on first use: slow to import

        training = self.trained()
        x = np.asarray(training.x, dtype=np.float64)
        settings = dict(self.settings)
        if self.kind == "wekaCascadeKMeans":
            return _cascade(x, settings)
        if self.kind == "wekaXMeans":
            return xmeans(x, settings)
        k = int(settings["nClusters"])
        if k > len(x):
            raise InvalidArgumentError(f"Cannot make {k} clusters from {len(x)} training samples.")
        return KMeans(
            n_clusters=k,
            init="k-means++" if settings["init"] == 1 else "random",
            n_init=1,
            max_iter=int(settings.get("maxIterations") or 1000),
            random_state=int(settings["seed"]),
        ).fit(x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The cluster number (0 .. nClusters-1) of each row of `x`."""
        if x.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self.model.predict(x), dtype=np.int64)


def calinski_harabasz(x: np.ndarray, labels: np.ndarray) -> float:
    """Between-cluster over within-cluster dispersion, each divided by its degrees of freedom:
    (tr B / (k - 1)) / (tr W / (n - k))."""
    clusters = np.unique(labels)
    k, n = clusters.size, len(x)
    centre = x.mean(axis=0)
    between = within = 0.0
    for c in clusters:
        members = x[labels == c]
        mean = members.mean(axis=0)
        between += len(members) * float(np.sum((mean - centre) ** 2))
        within += float(np.sum((members - mean) ** 2))
    if k < 2 or n == k:
        return 0.0
    return float("inf") if within == 0 else (between / (k - 1)) / (within / (n - k))


def _cascade(x: np.ndarray, settings: dict[str, Any]) -> Any:
    """k-means for each k from minClusters to maxClusters (best of `restarts` runs each); the k
    with the largest Calinski-Harabasz score wins (the smaller k on a tie)."""
    from sklearn.cluster import KMeans

    low = int(settings["minClusters"])
    high = min(int(settings["maxClusters"]), len(x))
    if low > high:
        raise InvalidArgumentError(f"Cannot make {low} clusters from {len(x)} training samples.")
    best, best_score = None, -1.0
    for k in range(low, high + 1):
        model = KMeans(
            n_clusters=k,
            init="k-means++" if settings["init"] else "random",
            n_init=int(settings["restarts"]),
            max_iter=int(settings.get("maxIterations") or 1000),
            random_state=0,
        ).fit(x)
        score = calinski_harabasz(x, model.labels_)
        if score > best_score:
            best, best_score = model, score
    return best
