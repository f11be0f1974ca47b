"""Clusterers as data: a kind, its settings and (once trained) its samples, fitted with
scikit-learn on first use and cached on the (frozen, hashable) value."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from openee.errors import InvalidArgumentError
from openee.values.classifier import FIT_LOCK, Training


@dataclass(frozen=True)
class Clusterer:
    kind: str
    settings: tuple[tuple[str, Any], ...]
    training: Training | None = None

    def trained(self) -> Training:
        if self.training is None:
            raise InvalidArgumentError("The clusterer has not been trained.")
        return self.training

    def info(self) -> dict[str, Any]:
        return {"type": "Clusterer", "name": self.kind}

    @cached_property
    def model(self) -> Any:
        with FIT_LOCK:
            if "model" in self.__dict__:  # fitted by another thread meanwhile
                return self.__dict__["model"]
            return self._fit()

    def _fit(self) -> Any:
        from sklearn.cluster import KMeans  # imported on first use: slow to import

        training = self.trained()
        x = np.asarray(training.x, dtype=np.float64)
        settings = dict(self.settings)
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
