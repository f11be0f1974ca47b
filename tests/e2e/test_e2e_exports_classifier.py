"""`Export.classifier.toAsset` then `ee.Classifier.load`, through the stock client, as Earth
Engine's samples write it (samples/python/apidocs/export_classifier_toasset.py,
samples/python/guides/classification03.py): train on sample points of the demo Sentinel-2
image, export, wait for the task, load, classify.

Oracles: the original in-memory classifier's output (computed from the training, independently
of the stored document) pixel for pixel and feature for feature, its `explain()`; for CART also
scikit-learn's DecisionTreeClassifier fitted in the test on the same samples.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np
import pytest
from affine import Affine
from oracle import Grid
from shapely.geometry import box
from sklearn import tree

pytestmark = pytest.mark.e2e

IMAGE_ID = "COPERNICUS/S2_SR_HARMONIZED/S2A_33TWM_20230815_0_L2A"
BANDS = ["B2", "B3", "B4", "B8"]
CRS = "EPSG:32633"
FIELDS = {0: box(520_010, 5_130_010, 521_210, 5_131_210),
          1: box(540_010, 5_150_010, 541_210, 5_151_210),
          2: box(560_010, 5_120_010, 561_210, 5_121_210)}  # fmt: skip
# 25.6 km x 19.2 km at 200 m over the three fields: 12,288 pixels of varied land cover.
GRID = Grid(CRS, Affine(200.0, 0, 518_000, 0, -200.0, 5_152_000), 128, 96)
DONE = ("COMPLETED", "FAILED", "CANCELLED")


def wait_done(task: Any, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = task.status()
        if status["state"] in DONE:
            return status
        time.sleep(0.2)
    raise AssertionError(f"task still {task.status()['state']} after {timeout} s")


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


SVM_SCALE = 1e-4


def scaled(ee, features):
    return features.map(
        lambda f: f.set({b: ee.Number(f.get(b)).multiply(SVM_SCALE) for b in BANDS})
    )


def _asset(server) -> str:
    return f"projects/{server.project}/assets/clf_{uuid.uuid4().hex[:8]}"


def _export(ee, classifier, asset: str, **kwargs: Any) -> dict[str, Any]:
    task = ee.batch.Export.classifier.toAsset(classifier, "clf_export", asset, **kwargs)
    task.start()
    return wait_done(task)


def _classified(ee, image, classifier) -> np.ndarray:
    got = ee.data.computePixels(
        {
            "expression": image.classify(classifier, "c"),
            "fileFormat": "NUMPY_NDARRAY",
            "grid": GRID.to_pixel_grid(),
        }
    )
    return np.asarray(got["c"])


def _table(training, classifier) -> list[float]:
    return [f["properties"]["c"] for f in training.classify(classifier, "c").getInfo()["features"]]


def test_random_forest_saved_and_loaded_classifies_as_the_original(
    ee_api, server, image, training
) -> None:
    ee = ee_api
    original = ee.Classifier.smileRandomForest(10, None, 1, 0.5, None, 7).train(
        training, "class", BANDS
    )
    asset = _asset(server)
    status = _export(ee, original, asset)
    assert status["state"] == "COMPLETED", status
    assert status["task_type"] == "EXPORT_CLASSIFIER"
    assert status["destination_uris"] == [asset]
    metadata = ee.data.getOperation(status["name"])["metadata"]
    assert (metadata["state"], metadata["type"]) == ("SUCCEEDED", "EXPORT_CLASSIFIER")
    assert metadata["description"] == "clf_export" and metadata["progress"] == 1.0
    loaded = ee.Classifier.load(asset)
    expected, got = _classified(ee, image, original), _classified(ee, image, loaded)
    assert expected.shape == (96, 128)
    assert len(np.unique(expected)) == 3  # the forest tells the three classes apart here
    np.testing.assert_array_equal(got, expected)
    assert _table(training, loaded) == _table(training, original)
    assert loaded.explain().getInfo() == original.explain().getInfo()
    assert loaded.schema().getInfo() == BANDS
    # The asset, as ee.data.getAsset and listAssets see it.
    info = ee.data.getAsset(asset)
    assert info["type"] == "CLASSIFIER"
    assert info["name"] == asset
    assert info["id"] == asset
    listed = ee.data.listAssets({"parent": f"projects/{server.project}/assets"})["assets"]
    assert {"name": asset, "type": "CLASSIFIER"}.items() <= next(
        a for a in listed if a["name"] == asset
    ).items()


def test_cart_loaded_matches_sklearn_and_overwrite_is_honoured(
    ee_api, server, image, training
) -> None:
    ee = ee_api
    rows = [f["properties"] for f in training.getInfo()["features"]]
    x = np.array([[r[b] for b in BANDS] for r in rows], dtype=np.float64)
    y = np.array([r["class"] for r in rows])
    pixels = ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": GRID.to_pixel_grid()}
    )
    stacked = np.stack([np.asarray(pixels[b], dtype=np.float64) for b in BANDS], axis=-1)
    oracle = tree.DecisionTreeClassifier(random_state=0).fit(x, y)
    expected = oracle.predict(stacked.reshape(-1, len(BANDS))).reshape(stacked.shape[:2])

    asset = _asset(server)
    forest = ee.Classifier.smileRandomForest(3).train(training, "class", BANDS)
    assert _export(ee, forest, asset)["state"] == "COMPLETED"
    cart = ee.Classifier.smileCart().train(training, "class", BANDS)
    # Without overwrite the existing asset stops the start, as for image and table exports.
    with pytest.raises(ee.EEException, match="already exists"):
        ee.batch.Export.classifier.toAsset(cart, "clf_export", asset).start()
    assert ee.Classifier.load(asset).explain().getInfo()["classifier"] == "smileRandomForest"
    assert _export(ee, cart, asset, overwrite=True)["state"] == "COMPLETED"
    loaded = ee.Classifier.load(asset)
    got = _classified(ee, image, loaded)
    np.testing.assert_array_equal(got, _classified(ee, image, cart))
    # The source's nodata (0) masks a few pixels at the tile's edge: classify masks them too.
    valid = (stacked > 0).all(axis=-1)
    assert 0 < (~valid).sum() < 100
    np.testing.assert_array_equal(got[valid], expected[valid])
    assert loaded.explain().getInfo() == cart.explain().getInfo()


@pytest.mark.parametrize(
    "build",
    [
        lambda ee, t: ee.Classifier.smileNaiveBayes().train(t, "class", BANDS),
        lambda ee, t: ee.Classifier.minimumDistance("mahalanobis").train(t, "class", BANDS),
        lambda ee, t: ee.Classifier.smileKNN(5).train(t, "class", BANDS),
        lambda ee, t: ee.Classifier.smileGradientTreeBoost(5).train(t, "class", BANDS),
        # Reflectances scaled to order 1, so that libsvm converges quickly (see scaled()).
        lambda ee, t: ee.Classifier.libsvm(kernelType="RBF", gamma=0.5).train(
            scaled(ee, t), "class", BANDS
        ),
        lambda ee, t: (
            ee.Classifier.smileRandomForest(5)
            .setOutputMode("REGRESSION")
            .train(t, "B8", ["B2", "B3", "B4"])
        ),
        lambda ee, t: (
            ee.Classifier.smileCart()
            .setOutputMode("PROBABILITY")
            .train(t.map(lambda f: f.set("is2", ee.Number(f.get("class")).eq(2))), "is2", BANDS)
        ),
        lambda ee, t: ee.Classifier.decisionTree(
            ee.Classifier.smileCart(4).train(t, "class", BANDS).explain().get("tree")
        ),
        lambda ee, t: ee.Classifier.spectralRegion(
            [[[0, 0], [2000, 0], [2000, 2000], [0, 2000]]], ["B2", "B3"]
        ),
    ],
    ids=[
        "naiveBayes",
        "minimumDistance",
        "knn",
        "gradientTreeBoost",
        "libsvm",
        "forestRegression",
        "cartProbability",
        "decisionTree",
        "spectralRegion",
    ],
)
def test_every_kind_round_trips(ee_api, server, image, training, build, request) -> None:
    ee = ee_api
    original = build(ee, training)
    if request.node.callspec.id == "libsvm":
        image, training = image.multiply(SVM_SCALE), scaled(ee, training)
    asset = _asset(server)
    status = _export(ee, original, asset)
    assert status["state"] == "COMPLETED", status
    loaded = ee.Classifier.load(asset)
    np.testing.assert_array_equal(_classified(ee, image, loaded), _classified(ee, image, original))
    assert _table(training, loaded) == _table(training, original)
    assert loaded.mode().getInfo() == original.mode().getInfo()


def test_untrained_and_non_classifiers_fail_with_a_message(ee_api, server) -> None:
    ee = ee_api
    status = _export(ee, ee.Classifier.smileCart(), _asset(server))
    assert status["state"] == "FAILED"
    assert "smileCart classifier has not been trained" in status["error_message"]
    status = _export(ee, ee.Image(1), _asset(server))
    assert status["state"] == "FAILED"
    assert "Export.classifier needs a Classifier, got Image" in status["error_message"]


def test_delete_and_wrong_asset_types(ee_api, server, training) -> None:
    ee = ee_api
    asset = _asset(server)
    classifier = ee.Classifier.minimumDistance().train(training, "class", BANDS)
    assert _export(ee, classifier, asset)["state"] == "COMPLETED"
    assert ee.Classifier.load(asset).mode().getInfo() == "CLASSIFICATION"
    with pytest.raises(ee.EEException, match="is not an Image"):
        ee.Image(asset).bandNames().getInfo()
    image_asset = f"projects/{server.project}/assets/img_{uuid.uuid4().hex[:8]}"
    ee.data.createAsset({"type": "FOLDER"}, image_asset)
    with pytest.raises(ee.EEException, match="is not a Classifier"):
        ee.Classifier.load(image_asset).mode().getInfo()
    # Copied and moved like any asset: the copy and the moved asset load the same classifier.
    copy, moved = f"{asset}_copy", f"{asset}_moved"
    ee.data.copyAsset(asset, copy)
    ee.data.renameAsset(asset, moved)
    expected = _table(training, classifier)
    assert _table(training, ee.Classifier.load(copy)) == expected
    assert _table(training, ee.Classifier.load(moved)) == expected
    with pytest.raises(ee.EEException, match="not found"):
        ee.Classifier.load(asset).mode().getInfo()
    ee.data.deleteAsset(moved)
    assert ee.data.getAsset(copy)["type"] == "CLASSIFIER"
    with pytest.raises(ee.EEException, match="not found"):
        ee.Classifier.load(moved).mode().getInfo()


def test_a_request_without_a_destination_is_refused_before_any_operation(
    authed_session, server, ee_api
) -> None:
    ee = ee_api
    classifier = ee.Classifier.smileCart().train(
        ee.FeatureCollection([ee.Feature(None, {"a": 1, "class": 0})]), "class", ["a"]
    )
    before = len(ee.data.listOperations())
    r = authed_session.post(
        f"{server.base_url}/v1/projects/{server.project}/classifier:export",
        json={"expression": ee.serializer.encode(classifier, for_cloud_api=True)},
    )
    assert r.status_code == 400
    assert r.json()["error"]["message"] == (
        "assetExportOptions.earthEngineDestination.name is required."
    )
    assert len(ee.data.listOperations()) == before
