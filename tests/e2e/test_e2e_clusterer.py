"""Unsupervised classification through the stock client: image.sample(...) ->
ee.Clusterer.wekaKMeans(k).train(samples) -> image.cluster / samples.cluster.

Oracle: scikit-learn's KMeans fitted in the test on the same samples with the same
initialisation and seed, and the k-means fixed-point property checked in numpy (every sample is
nearest to its own cluster's mean)."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from oracle import Grid
from sklearn.cluster import KMeans

pytestmark = pytest.mark.e2e

IMAGE_ID = "COPERNICUS/S2_SR_HARMONIZED/S2A_33TWM_20230815_0_L2A"
BANDS = ["B2", "B4", "B8"]
CRS = "EPSG:32633"
GRID = Grid(CRS, Affine(120.0, 0, 530_020, 0, -120.0, 5_140_020), 30, 20)


@pytest.fixture(scope="module")
def image(ee_api):
    return ee_api.Image(IMAGE_ID).select(BANDS).multiply(1e-4)


@pytest.fixture(scope="module")
def samples(ee_api, image):
    region = ee_api.Geometry.Rectangle([530_020, 5_137_620, 533_620, 5_140_020], CRS, False)
    return image.sample(region, 120)


@pytest.fixture(scope="module")
def x(samples) -> np.ndarray:
    rows = [f["properties"] for f in samples.getInfo()["features"]]
    assert len(rows) == 600
    return np.array([[r[b] for b in BANDS] for r in rows], dtype=np.float64)


@pytest.mark.parametrize(("init", "sk_init"), [(0, "random"), (1, "k-means++")])
def test_k_means_partition_matches_sklearn(ee_api, samples, x, init, sk_init) -> None:
    ee = ee_api
    clusterer = ee.Clusterer.wekaKMeans(4, init, seed=5).train(samples, BANDS)
    got = np.array(
        [f["properties"]["c"] for f in samples.cluster(clusterer, "c").getInfo()["features"]]
    )
    oracle = KMeans(4, init=sk_init, n_init=1, max_iter=1000, random_state=5).fit(x)
    np.testing.assert_array_equal(got, oracle.labels_)
    # A k-means fixed point: every sample is nearest to the mean of its own cluster.
    means = np.stack([x[got == k].mean(axis=0) for k in range(4)])
    nearest = np.argmin(((x[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
    assert np.mean(nearest == got) > 0.99
    assert clusterer.schema().getInfo() == BANDS


def test_image_cluster_matches_sklearn_predict(ee_api, image, samples, x) -> None:
    ee = ee_api
    clusterer = ee.Clusterer.wekaKMeans(3).train(samples)  # inputs: the sampled bands
    got = ee.data.computePixels(
        {
            "expression": image.cluster(clusterer),
            "fileFormat": "NUMPY_NDARRAY",
            "grid": GRID.to_pixel_grid(),
        }
    )
    assert got.dtype.names == ("cluster",)
    pixels = ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": GRID.to_pixel_grid()}
    )
    stack = np.stack([np.asarray(pixels[b], dtype=np.float64) for b in BANDS], axis=-1)
    oracle = KMeans(3, init="random", n_init=1, max_iter=1000, random_state=10).fit(x)
    expected = oracle.predict(stack.reshape(-1, len(BANDS))).reshape(stack.shape[:2])
    np.testing.assert_array_equal(np.asarray(got["cluster"]), expected)


def _calinski_harabasz(x: np.ndarray, labels: np.ndarray) -> float:
    """(tr B / (k-1)) / (tr W / (n-k)), from the scatter matrices' traces."""
    k, n = len(np.unique(labels)), len(x)
    overall = x - x.mean(axis=0)
    total = np.trace(overall.T @ overall)
    within = sum(
        np.trace((x[labels == c] - x[labels == c].mean(axis=0)).T
                 @ (x[labels == c] - x[labels == c].mean(axis=0)))
        for c in np.unique(labels)
    )  # fmt: skip
    return ((total - within) / (k - 1)) / (within / (n - k))


def test_cascade_k_means_picks_the_best_calinski_harabasz_k(ee_api, samples, x) -> None:
    ee = ee_api
    clusterer = ee.Clusterer.wekaCascadeKMeans(2, 6, 3).train(samples, BANDS)
    got = np.array(
        [f["properties"]["cluster"] for f in samples.cluster(clusterer).getInfo()["features"]]
    )
    fits = {
        k: KMeans(k, init="random", n_init=3, max_iter=1000, random_state=0).fit(x)
        for k in range(2, 7)
    }
    scores = {k: _calinski_harabasz(x, m.labels_) for k, m in fits.items()}
    best = max(scores, key=lambda k: (scores[k], -k))
    assert len(np.unique(got)) == best
    np.testing.assert_array_equal(got, fits[best].labels_)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda ee, s: ee.Clusterer.wekaKMeans(0), "nClusters"),
        (lambda ee, s: ee.Clusterer.wekaKMeans(3, 2), "init 2 is not supported"),
        (lambda ee, s: ee.Clusterer.wekaKMeans(3, distanceFunction="Manhattan"), "Manhattan"),
        (lambda ee, s: ee.Clusterer.wekaKMeans(3).train(s, ["B9"]), "Property 'B9'"),
        (lambda ee, s: s.cluster(ee.Clusterer.wekaKMeans(3)), "not been trained"),
        (lambda ee, s: ee.Clusterer.wekaKMeans(5000).train(s), "5000 clusters"),
        (lambda ee, s: ee.Clusterer.wekaCascadeKMeans(5, 3), "maxClusters"),
        (lambda ee, s: ee.Clusterer.wekaCascadeKMeans(manual=True), "Manual"),
    ],
)
def test_bad_arguments_are_clean_errors(ee_api, samples, build, message) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match=message):
        ee.data.computeValue(build(ee, samples))


def _blobs(centres: list[tuple[float, float]], n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(c, 0.8, (n, 2)) for c in centres])
    return x, np.repeat(np.arange(len(centres)), n)


def _xmeans_labels(ee, x: np.ndarray, **kwargs) -> np.ndarray:
    fc = ee.FeatureCollection([ee.Feature(None, {"a": a, "b": b}) for a, b in x.tolist()])
    clusterer = ee.Clusterer.wekaXMeans(**kwargs).train(fc, ["a", "b"])
    return np.array(
        [f["properties"]["c"] for f in fc.cluster(clusterer, "c").getInfo()["features"]]
    )


def test_x_means_finds_the_number_of_separated_blobs(ee_api) -> None:
    ee = ee_api
    # Oracle: the partition the samples were drawn from (four Gaussian blobs 10 sigma apart).
    x, truth = _blobs([(0, 0), (10, 0), (0, 10), (10, 10)])
    got = _xmeans_labels(ee, x, minClusters=2, maxClusters=8)
    pairs = set(zip(got.tolist(), truth.tolist(), strict=True))
    assert len(pairs) == len(set(got.tolist())) == 4
    # maxClusters caps the splits; one Gaussian blob is not split (its BIC does not improve).
    capped = _xmeans_labels(ee, x, minClusters=2, maxClusters=3)
    assert len(set(capped.tolist())) == 3
    single, _ = _blobs([(5, 5)], 60)
    assert set(_xmeans_labels(ee, single, minClusters=1).tolist()) == {0}
