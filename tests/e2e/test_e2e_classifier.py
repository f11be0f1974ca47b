"""Supervised classification through the stock client, the way users write it:
image.sampleRegions(...) -> ee.Classifier.X().train(training, 'class', bands) ->
image.classify(classifier) / training.classify(classifier) -> confusionMatrix / explain.

On the demo Sentinel-2 item. Oracles, fitted in the test on the same samples: scikit-learn's
DecisionTreeClassifier (random_state 0), MultinomialNB and predict_proba for the deterministic
models, class means and distances in numpy for minimumDistance, and accuracy-level checks for
the random forest."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from oracle import Grid
from shapely.geometry import box
from sklearn import ensemble, metrics, naive_bayes, neighbors, svm, tree

pytestmark = pytest.mark.e2e

IMAGE_ID = "COPERNICUS/S2_SR_HARMONIZED/S2A_33TWM_20230815_0_L2A"
BANDS = ["B2", "B3", "B4", "B8"]
CRS = "EPSG:32633"
# Three 1.2 km fields (100 pixels each at 120 m), one class each; no pixel centre on an edge.
FIELDS = {0: box(520_010, 5_130_010, 521_210, 5_131_210),
          1: box(540_010, 5_150_010, 541_210, 5_151_210),
          2: box(560_010, 5_120_010, 561_210, 5_121_210)}  # fmt: skip
GRID = Grid(CRS, Affine(120.0, 0, 519_900, 0, -120.0, 5_131_500), 24, 16)


@pytest.fixture(scope="module")
def image(ee_api):
    return ee_api.Image(IMAGE_ID).select(BANDS)


@pytest.fixture(scope="module")
def training(ee_api, image):
    ee = ee_api
    fields = ee.FeatureCollection(
        [
            ee.Feature(ee.Geometry.Polygon([list(map(list, f.exterior.coords))], CRS, False),
                       {"class": c})
            for c, f in FIELDS.items()
        ]
    )  # fmt: skip
    return image.sampleRegions(fields, ["class"], 120)


@pytest.fixture(scope="module")
def samples(training) -> tuple[np.ndarray, np.ndarray]:
    rows = [f["properties"] for f in training.getInfo()["features"]]
    assert len(rows) == 300
    x = np.array([[r[b] for b in BANDS] for r in rows], dtype=np.float64)
    return x, np.array([r["class"] for r in rows])


@pytest.fixture(scope="module")
def pixels(ee_api, image) -> np.ndarray:
    got = ee_api.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": GRID.to_pixel_grid()}
    )
    return np.stack([np.asarray(got[b], dtype=np.float64) for b in BANDS], axis=-1)


def _classified(ee, image, classifier, name="classification") -> np.ndarray:
    got = ee.data.computePixels(
        {
            "expression": image.classify(classifier, name),
            "fileFormat": "NUMPY_NDARRAY",
            "grid": GRID.to_pixel_grid(),
        }
    )
    assert got.dtype.names == (name,)
    return np.asarray(got[name])


def test_cart_image_and_table_classification_match_sklearn(
    ee_api, image, training, samples, pixels
) -> None:
    ee = ee_api
    x, y = samples
    oracle = tree.DecisionTreeClassifier(random_state=0).fit(x, y)
    classifier = ee.Classifier.smileCart().train(training, "class", BANDS)
    got = _classified(ee, image, classifier)
    expected = oracle.predict(pixels.reshape(-1, len(BANDS))).reshape(pixels.shape[:2])
    np.testing.assert_array_equal(got, expected)
    table = training.classify(classifier, "predicted").getInfo()["features"]
    assert [f["properties"]["predicted"] for f in table] == oracle.predict(x).tolist()
    info = ee.Dictionary(
        {
            "matrix": classifier.confusionMatrix().array(),
            "explain": classifier.explain(),
            "schema": classifier.schema(),
            "mode": classifier.mode(),
        }
    ).getInfo()
    assert info["matrix"] == metrics.confusion_matrix(y, oracle.predict(x)).tolist()
    importance = info["explain"]["importance"]
    assert [importance[b] for b in BANDS] == pytest.approx(oracle.feature_importances_.tolist())
    assert info["explain"]["numberOfNodes"] == oracle.tree_.node_count
    assert info["schema"] == BANDS
    assert info["mode"] == "CLASSIFICATION"


def test_cart_limits_and_default_inputs(ee_api, training, samples) -> None:
    ee = ee_api
    x, y = samples
    oracle = tree.DecisionTreeClassifier(max_leaf_nodes=3, min_samples_leaf=5, random_state=0).fit(
        x, y
    )
    # Without inputProperties: the numeric properties of the samples other than the class.
    classifier = ee.Classifier.smileCart(3, 5).train(training, "class")
    table = training.classify(classifier).getInfo()["features"]
    assert [f["properties"]["classification"] for f in table] == oracle.predict(x).tolist()


def _distances(x, means, covariances, metric):
    out = np.empty((len(x), len(means)))
    for i, v in enumerate(x):
        for k, m in enumerate(means):
            d = v - m
            if metric == "euclidean":
                out[i, k] = np.linalg.norm(d)
            elif metric == "manhattan":
                out[i, k] = np.abs(d).sum()
            elif metric == "cosine":
                out[i, k] = np.arccos(np.clip(v @ m / np.linalg.norm(v) / np.linalg.norm(m), -1, 1))
            else:
                out[i, k] = np.sqrt(d @ np.linalg.solve(covariances[k], d))
    return out


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine", "mahalanobis"])
def test_minimum_distance_matches_class_means(ee_api, training, samples, metric) -> None:
    ee = ee_api
    x, y = samples
    classes = np.unique(y)
    means = [x[y == c].mean(axis=0) for c in classes]
    covariances = [np.cov(x[y == c].T) for c in classes]
    distances = _distances(x, means, covariances, metric)
    classifier = ee.Classifier.minimumDistance(metric).train(training, "class", BANDS)
    table = training.classify(classifier).getInfo()["features"]
    assert [f["properties"]["classification"] for f in table] == classes[
        distances.argmin(axis=1)
    ].tolist()
    nearest = training.classify(classifier.setOutputMode("REGRESSION"), "d").getInfo()
    got = [f["properties"]["d"] for f in nearest["features"]]
    np.testing.assert_allclose(got, distances.min(axis=1), rtol=1e-6)


@pytest.mark.parametrize("name", ["smileNaiveBayes", "naiveBayes"])
def test_naive_bayes_matches_multinomial_nb(ee_api, image, training, samples, pixels, name) -> None:
    ee = ee_api
    x, y = samples
    oracle = naive_bayes.MultinomialNB(alpha=0.5).fit(x, y)
    classifier = getattr(ee.Classifier, name)(0.5).train(training, "class", BANDS)
    got = _classified(ee, image, classifier)
    expected = oracle.predict(pixels.reshape(-1, len(BANDS))).reshape(pixels.shape[:2])
    np.testing.assert_array_equal(got, expected)


def test_probability_of_a_binary_tree(ee_api, training, samples) -> None:
    ee = ee_api
    x, y = samples
    binary = (y == 2).astype(int)
    oracle = tree.DecisionTreeClassifier(min_samples_leaf=20, random_state=0).fit(x, binary)
    relabelled = training.map(lambda f: f.set("is2", ee.Number(f.get("class")).eq(2)))
    classifier = (
        ee.Classifier.smileCart(None, 20)
        .setOutputMode("PROBABILITY")
        .train(relabelled, "is2", BANDS)
    )
    table = relabelled.classify(classifier, "p").getInfo()["features"]
    got = [f["properties"]["p"] for f in table]
    np.testing.assert_allclose(got, oracle.predict_proba(x)[:, 1])
    assert classifier.mode().getInfo() == "PROBABILITY"


def test_random_forest_learns_the_fields(ee_api, image, training, samples, pixels) -> None:
    ee = ee_api
    x, y = samples
    classifier = ee.Classifier.smileRandomForest(10, None, 1, 0.5, None, 7).train(
        training, "class", BANDS
    )
    accuracy = classifier.confusionMatrix().accuracy().getInfo()
    # A forest of the same size and bagging, grown by scikit-learn in the test, fits the training
    # set about as well (the trees themselves depend on the random draws).
    oracle = ensemble.RandomForestClassifier(10, max_samples=0.5, random_state=1).fit(x, y)
    assert accuracy > 0.85
    assert abs(accuracy - metrics.accuracy_score(y, oracle.predict(x))) < 0.06
    explained = classifier.explain().getInfo()
    assert explained["numberOfTrees"] == 10
    assert sum(explained["importance"].values()) == pytest.approx(1.0)
    # Pixels inside each field are classified as that field's class.
    got = _classified(ee, image, classifier)
    rows, cols = np.mgrid[0:16, 0:24]
    cx, cy = 519_900 + (cols + 0.5) * 120, 5_131_500 - (rows + 0.5) * 120
    field0 = (cx > 520_010) & (cx < 521_210) & (cy > 5_130_010) & (cy < 5_131_210)
    assert field0.sum() == 100
    assert np.mean(got[field0] == 0) > 0.85
    # REGRESSION: a forest of regression trees on a continuous target (B8 from the others).
    regression = (
        ee.Classifier.smileRandomForest(20)
        .setOutputMode("REGRESSION")
        .train(training, "B8", ["B2", "B3", "B4"])
    )
    predicted = training.classify(regression, "b8").getInfo()["features"]
    estimate = np.array([f["properties"]["b8"] for f in predicted])
    r2 = 1 - np.sum((estimate - x[:, 3]) ** 2) / np.sum((x[:, 3] - x[:, 3].mean()) ** 2)
    assert r2 > 0.8


@pytest.mark.parametrize("metric", ["EUCLIDEAN", "MANHATTAN", "MAHALANOBIS", "BRAYCURTIS"])
def test_knn_matches_sklearn(ee_api, training, samples, metric) -> None:
    ee = ee_api
    x, y = samples
    params = {"VI": np.linalg.inv(np.cov(x.T))} if metric == "MAHALANOBIS" else None
    oracle = neighbors.KNeighborsClassifier(
        5, algorithm="brute", metric=metric.lower(), metric_params=params
    ).fit(x, y)
    classifier = ee.Classifier.smileKNN(5, "AUTO", metric).train(training, "class", BANDS)
    table = training.classify(classifier).getInfo()["features"]
    assert [f["properties"]["classification"] for f in table] == oracle.predict(x).tolist()


def test_libsvm_matches_sklearn_svc(ee_api, image, training, samples, pixels) -> None:
    ee = ee_api
    x, y = samples
    scale = 1e-4  # reflectance units, so that the RBF kernel sees differences of order 1
    scaled = training.map(lambda f: f.set({b: ee.Number(f.get(b)).multiply(scale) for b in BANDS}))
    oracle = svm.SVC(C=10, kernel="rbf", gamma=50.0).fit(x * scale, y)
    classifier = ee.Classifier.libsvm(kernelType="RBF", gamma=50, cost=10).train(
        scaled, "class", BANDS
    )
    got = _classified(ee, image.multiply(scale), classifier)
    expected = oracle.predict(pixels.reshape(-1, len(BANDS)) * scale).reshape(pixels.shape[:2])
    np.testing.assert_array_equal(got, expected)
    linear = ee.Classifier.svm().train(scaled, "class", BANDS)  # the older name of libsvm
    table = scaled.classify(linear).getInfo()["features"]
    default_linear = svm.SVC(kernel="linear").fit(x * scale, y)
    assert [f["properties"]["classification"] for f in table] == default_linear.predict(
        x * scale
    ).tolist()


def test_gradient_tree_boost_learns_the_fields(ee_api, training, samples) -> None:
    ee = ee_api
    x, y = samples
    classifier = ee.Classifier.smileGradientTreeBoost(30, 0.1).train(training, "class", BANDS)
    accuracy = classifier.confusionMatrix().accuracy().getInfo()
    oracle = ensemble.GradientBoostingClassifier(
        n_estimators=30, learning_rate=0.1, subsample=0.7, random_state=3
    ).fit(x, y)
    assert accuracy > 0.9
    assert abs(accuracy - metrics.accuracy_score(y, oracle.predict(x))) < 0.06
    assert classifier.explain().getInfo()["numberOfTrees"] == 30
    regression = (
        ee.Classifier.smileGradientTreeBoost(50, 0.2, 0.7, None, "LeastSquares")
        .setOutputMode("REGRESSION")
        .train(training, "B8", ["B2", "B3", "B4"])
    )
    predicted = training.classify(regression, "b8").getInfo()["features"]
    estimate = np.array([f["properties"]["b8"] for f in predicted])
    r2 = 1 - np.sum((estimate - x[:, 3]) ** 2) / np.sum((x[:, 3] - x[:, 3].mean()) ** 2)
    assert r2 > 0.8


TREE = """n= 300

node), split, n, loss, yval, (yprob)
      * denotes terminal node

1) root 300 200 0 (0.33 0.33 0.33)
  2) B8< 3400 150 50 1 (0.3 0.7 0.0)
    4) B4>=380.5 60 10 2 *
    5) B4< 380.5 90 20 1 *
  3) B8>=3400 150 60 0 (0.6 0.2 0.2) *
"""


def _tree_rule(b4: float, b8: float) -> int:
    if b8 < 3400:
        return 2 if b4 >= 380.5 else 1
    return 0


def test_decision_tree_from_text(ee_api, image, training, samples, pixels) -> None:
    ee = ee_api
    x, _ = samples
    classifier = ee.Classifier.decisionTree(TREE)
    got = _classified(ee, image, classifier)
    b4, b8 = pixels[..., BANDS.index("B4")], pixels[..., BANDS.index("B8")]
    expected = np.vectorize(_tree_rule)(b4, b8)
    assert len(np.unique(expected)) == 3
    np.testing.assert_array_equal(got, expected)
    assert classifier.schema().getInfo() == ["B8", "B4"]
    # An ensemble of the tree, a copy and a constant tree votes like the tree.
    constant = "1) root 300 200 2 *"
    ensemble = ee.Classifier.decisionTreeEnsemble([TREE, TREE, constant])
    table = training.classify(ensemble).getInfo()["features"]
    expected_rows = [_tree_rule(r[BANDS.index("B4")], r[BANDS.index("B8")]) for r in x]
    assert [f["properties"]["classification"] for f in table] == expected_rows
    # In REGRESSION mode the ensemble averages the three trees.
    mean = ensemble.setOutputMode("REGRESSION")
    table = training.classify(mean, "m").getInfo()["features"]
    assert [f["properties"]["m"] for f in table] == pytest.approx(
        [(2 * v + 2) / 3 for v in expected_rows]
    )


def test_cart_tree_text_round_trips(ee_api, image, training) -> None:
    ee = ee_api
    cart = ee.Classifier.smileCart(8).train(training, "class", BANDS)
    text = ee.String(cart.explain().get("tree"))
    rebuilt = ee.Classifier.decisionTree(text)
    np.testing.assert_array_equal(_classified(ee, image, rebuilt), _classified(ee, image, cart))


def _crossings_inside(u: float, v: float, rings) -> int:
    """Even-odd rule by counting the edges a ray towards +u crosses."""
    crossings = 0
    for ring in rings:
        for (u1, v1), (u2, v2) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (v1 > v) != (v2 > v) and u < u1 + (v - v1) * (u2 - u1) / (v2 - v1):
                crossings += 1
    return crossings % 2


def test_spectral_region_is_an_even_odd_polygon_test(ee_api, image, pixels) -> None:
    ee = ee_api
    outer = [(0.0, 0.0), (0.12, 0.0), (0.12, 0.5), (0.0, 0.5)]
    hole = [(0.02, 0.2), (0.06, 0.2), (0.06, 0.3), (0.02, 0.3)]
    flat = [[c for p in ring for c in p] for ring in (outer, hole)]
    classifier = ee.Classifier.spectralRegion(flat, ["B4", "B8"])
    got = _classified(ee, image.multiply(1e-4), classifier)
    b4, b8 = pixels[..., BANDS.index("B4")] * 1e-4, pixels[..., BANDS.index("B8")] * 1e-4
    expected = np.vectorize(lambda u, v: _crossings_inside(u, v, [outer, hole]))(b4, b8)
    assert 0 < expected.sum() < expected.size
    np.testing.assert_array_equal(got, expected)
    assert classifier.schema().getInfo() == ["B4", "B8"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda ee, img, t: ee.Classifier.smileRandomForest(0).train(t, "class"), "numberOfTrees"),
        (lambda ee, img, t: ee.Classifier.minimumDistance("chebyshev").train(t, "class"), "metric"),
        (lambda ee, img, t: ee.Classifier.minimumDistance("euclidean", 3), "kNearest"),
        (lambda ee, img, t: ee.Classifier.smileCart().train(t, "nope"), "Property 'nope'"),
        (lambda ee, img, t: ee.Classifier.smileCart().explain(), "not been trained"),
        (lambda ee, img, t: ee.Classifier.smileCart().setOutputMode("FOO"), "Unknown output"),
        (lambda ee, img, t: ee.Classifier.smileKNN(3, "AUTO", "COSINE"), "Unknown metric"),
        (lambda ee, img, t: ee.Classifier.libsvm(kernelType="CUBIC"), "Unknown kernelType"),
        (lambda ee, img, t: ee.Classifier.libsvm(oneClass=1), "One-class"),
        (lambda ee, img, t: ee.Classifier.spectralRegion([[0, 0, 1, 1]]), "at least 3"),
        (lambda ee, img, t: ee.Classifier.decisionTree("1) root 3 1 0\n2) B4<3 1 0 0 *"), "lacks"),
        (lambda ee, img, t: ee.Classifier.decisionTree("1) root 3 1 0\n  2) B4 ~ 3 *"), "parse"),
        (lambda ee, img, t: ee.Classifier.spectralRegion([[0, 0, 1, 0, 1, 1]], ["a"]), "2 inputs"),
        (
            lambda ee, img, t: ee.Classifier.spectralRegion([[0, 0, 1, 0, 1, 1]]).confusionMatrix(),
            "no training data",
        ),
        (lambda ee, img, t: ee.Classifier.smileGradientTreeBoost(5, 2.0), "shrinkage"),
        (
            lambda ee, img, t: img.select("B2").classify(
                ee.Classifier.smileCart().train(t, "class", BANDS)
            ),
            "Band 'B3' not found",
        ),
        (
            lambda ee, img, t: t.classify(
                ee.Classifier.smileCart().setOutputMode("MULTIPROBABILITY").train(t, "class", BANDS)
            ),
            "not supported",
        ),
    ],
)
def test_bad_arguments_are_clean_errors(ee_api, image, training, build, message) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match=message):
        ee.data.computeValue(build(ee, image, training))


def test_train_test_split_idiom(ee_api, training) -> None:
    """randomColumn split -> train on one part -> classify the other -> errorMatrix, as users
    write accuracy assessment; the oracle fits and scores on the same two parts."""
    ee = ee_api
    split = training.randomColumn("r", 3)
    train_part = split.filter(ee.Filter.lt("r", 0.7))
    test_part = split.filter(ee.Filter.gte("r", 0.7))
    classifier = ee.Classifier.smileCart().train(train_part, "class", BANDS)
    assessed = test_part.classify(classifier).errorMatrix("class", "classification", [0, 1, 2])
    got = ee.Dictionary(
        {"matrix": assessed.array(), "accuracy": assessed.accuracy(), "kappa": assessed.kappa()}
    ).getInfo()

    def rows(fc):
        props = [f["properties"] for f in fc.getInfo()["features"]]
        return np.array([[p[b] for b in BANDS] for p in props]), np.array(
            [p["class"] for p in props]
        )

    x_train, y_train = rows(train_part)
    x_test, y_test = rows(test_part)
    assert 0 < len(y_test) < len(y_train)
    predicted = tree.DecisionTreeClassifier(random_state=0).fit(x_train, y_train).predict(x_test)
    assert got["matrix"] == metrics.confusion_matrix(y_test, predicted, labels=[0, 1, 2]).tolist()
    assert got["accuracy"] == pytest.approx(metrics.accuracy_score(y_test, predicted))
    assert got["kappa"] == pytest.approx(metrics.cohen_kappa_score(y_test, predicted))
