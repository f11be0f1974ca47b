"""X-means (Pelleg and Moore, "X-means: Extending K-means with Efficient Estimation of the
Number of Clusters", ICML 2000), as Earth Engine's Clusterer.wekaXMeans describes it.

Start from k-means with `minClusters` centres; then, `maxIterations` times at most: split every
cluster into two children by a 2-means of its own samples, and keep the children where their
Bayesian Information Criterion (the paper's, under identical spherical Gaussians) beats the
parent's; stop when no split wins or `maxClusters` is reached; refit k-means on all samples from
the surviving centres. k-means here is scikit-learn's (k-means++ starts drawn from `seed`), not
Weka's, so the numbering and, on ambiguous data, the number of clusters can differ from Earth
Engine's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def bic(x: np.ndarray, labels: np.ndarray, centres: np.ndarray) -> float:
    """The BIC of a k-means model in the paper's form: its log-likelihood under identical
    spherical Gaussians (one variance per dimension pooled over the clusters, with R - K
    degrees of freedom) minus half its parameter count times log R."""
    r, m = x.shape
    k = len(centres)
    if r <= k:
        return -math.inf
    variance = float(np.sum((x - centres[labels]) ** 2)) / (m * (r - k))
    if variance <= 0:
        return math.inf
    loglik = 0.0
    for j in range(k):
        rn = int(np.sum(labels == j))
        if rn == 0:
            continue
        loglik += (
            rn * math.log(rn / r) - rn * m / 2 * math.log(2 * math.pi * variance) - (rn - 1) * m / 2
        )
    params = (k - 1) + m * k + 1
    return loglik - params / 2 * math.log(r)


def xmeans(x: np.ndarray, settings: dict[str, Any]) -> Any:
    """The fitted scikit-learn KMeans of the chosen number of clusters."""
    from sklearn.cluster import KMeans

    seed = int(settings["seed"])
    low = min(int(settings["minClusters"]), len(x))
    high = min(int(settings["maxClusters"]), len(x))

    def fit(data: np.ndarray, k: int, iterations: int, init: Any = "k-means++") -> Any:
        return KMeans(k, init=init, n_init=1, max_iter=iterations, random_state=seed).fit(data)

    model = fit(x, low, int(settings["maxKMeans"]))
    centres = model.cluster_centers_
    for _ in range(int(settings["maxIterations"])):
        labels = model.predict(x)
        kept: list[np.ndarray] = []
        count = len(centres)  # clusters there will be, counting the splits kept so far
        for j, centre in enumerate(centres):
            members = x[labels == j]
            if count < high and len(members) >= 4:
                children = fit(members, 2, int(settings["maxForChildren"]))
                parent = bic(members, np.zeros(len(members), dtype=np.int64), centre[None])
                if bic(members, children.labels_, children.cluster_centers_) > parent:
                    kept.append(children.cluster_centers_)
                    count += 1
                    continue
            kept.append(centre[None])
        if count == len(centres):
            break
        model = fit(x, count, int(settings["maxKMeans"]), init=np.concatenate(kept))
        centres = model.cluster_centers_
    return model
