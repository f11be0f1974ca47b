"""Pixels to features through the stock client: reduceToVectors, sampleRectangle and
stratifiedSample, against the band file read directly with rasterio (a window of its native
120 m grid) and objects labelled by scipy.ndimage."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import rasterio
import rasterio.windows
import shapely.geometry
import shapely.ops
from pyproj import Transformer
from scipy import ndimage
from test_e2e_kernel import item

CRS = "EPSG:32633"
# A 24 x 18 pixel window of the file's native grid (origin 499980, 5100000; 120 m pixels).
COL0, ROW0, WIDTH, HEIGHT = 300, 400, 24, 18
X0 = 499_980.0 + 120.0 * COL0
Y1 = 5_100_000.0 - 120.0 * ROW0
X1, Y0 = X0 + 120.0 * WIDTH, Y1 - 120.0 * HEIGHT
NATIVE = [120.0, 0.0, 499_980.0, 0.0, -120.0, 5_100_000.0]  # the file's grid


def window() -> np.ndarray:
    with rasterio.open(item().band_path("B4")) as ds:
        return ds.read(1, window=rasterio.windows.Window(COL0, ROW0, WIDTH, HEIGHT))


def region(ee, inset: float = 0.0):
    return ee.Geometry.Rectangle([X0 + inset, Y0 + inset, X1 - inset, Y1 - inset], CRS, False)


def test_reduce_to_vectors_outlines_the_objects(ee_api) -> None:
    ee = ee_api
    b4 = ee.Image(item().image_id).select("B4")
    classes = b4.divide(150).int()  # whole classes (divide itself is floating point)
    fc = classes.addBands(b4).reduceToVectors(
        reducer=ee.Reducer.mean(),
        geometry=region(ee),
        crs=CRS,
        crsTransform=NATIVE,
        geometryInNativeProjection=True,
    )
    got = fc.getInfo()["features"]
    counts = classes.reduceToVectors(
        geometry=region(ee), crs=CRS, crsTransform=NATIVE, labelProperty="cls"
    ).getInfo()["features"]

    v = window().astype(np.int64)
    assert (v > 0).all()
    lv = v // 150
    objects = []  # (class, pixel count, mean B4) of each 8-connected object
    for value in np.unique(lv):
        lab, n = ndimage.label(lv == value, structure=np.ones((3, 3)))
        for i in range(1, n + 1):
            members = lab == i
            objects.append((int(value), int(members.sum()), float(v[members].mean())))
    assert len(objects) > 3
    want = sorted(objects)
    have = sorted(
        (
            f["properties"]["label"],
            round(shapely.geometry.shape(f["geometry"]).area / 14_400),
            f["properties"]["mean"],
        )
        for f in got
    )
    assert [(a, b) for a, b, _ in have] == [(a, b) for a, b, _ in want]
    np.testing.assert_allclose([m for *_, m in have], [m for *_, m in want], rtol=1e-12)
    # Default reducer: countEvery, a 'count' property; the label under the chosen name.
    assert sorted((f["properties"]["cls"], f["properties"]["count"]) for f in counts) == sorted(
        (a, b) for a, b, _ in want
    )
    streaming = classes.reduceToVectorsStreaming(
        geometry=region(ee), crs=CRS, crsTransform=NATIVE, labelProperty="cls"
    ).getInfo()["features"]
    assert [f["properties"] for f in streaming] == [f["properties"] for f in counts]
    # Geometries default to EPSG:4326: the polygons lie around the window's centre.
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(
        (X0 + X1) / 2, (Y0 + Y1) / 2
    )
    union = shapely.ops.unary_union([shapely.geometry.shape(f["geometry"]) for f in counts])
    assert union.bounds[0] < lon < union.bounds[2] and union.bounds[1] < lat < union.bounds[3]


def test_reduce_to_vectors_geometry_types(ee_api) -> None:
    ee = ee_api
    classes = ee.Image(item().image_id).select("B4").divide(150).int()
    args = {
        "geometry": region(ee),
        "crs": CRS,
        "crsTransform": NATIVE,
        "geometryInNativeProjection": True,
    }
    boxes = classes.reduceToVectors(geometryType="bb", **args).getInfo()["features"]
    points = classes.reduceToVectors(geometryType="centroid", **args).getInfo()["features"]
    lv = window().astype(np.int64) // 150
    expected_boxes, expected_centres = [], []
    for value in np.unique(lv):
        lab, n = ndimage.label(lv == value, structure=np.ones((3, 3)))
        for box in ndimage.find_objects(lab):
            expected_boxes.append(
                (X0 + 120.0 * box[1].start, Y1 - 120.0 * box[0].stop,
                 X0 + 120.0 * box[1].stop, Y1 - 120.0 * box[0].start)
            )  # fmt: skip
        for r, c in ndimage.center_of_mass(np.ones_like(lab), lab, range(1, n + 1)):
            expected_centres.append((X0 + 120.0 * (c + 0.5), Y1 - 120.0 * (r + 0.5)))
    got_boxes = sorted(shapely.geometry.shape(f["geometry"]).bounds for f in boxes)
    np.testing.assert_allclose(got_boxes, sorted(expected_boxes), atol=1e-6)
    got_points = sorted(tuple(f["geometry"]["coordinates"]) for f in points)
    np.testing.assert_allclose(got_points, sorted(expected_centres), atol=1e-6)


def test_sample_rectangle_returns_the_pixel_block(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select(["B4", "B8"])
    feature = img.sampleRectangle(region(ee, inset=1.0)).getInfo()
    with rasterio.open(item().band_path("B8")) as ds:
        b8 = ds.read(1, window=rasterio.windows.Window(COL0, ROW0, WIDTH, HEIGHT))
    np.testing.assert_array_equal(np.array(feature["properties"]["B4"]), window())
    np.testing.assert_array_equal(np.array(feature["properties"]["B8"]), b8)
    # Masked pixels need a default value: west of the tile everything is masked.
    west = ee.Geometry.Rectangle([499_000, Y0, 500_460, Y1], CRS, False)
    masked = img.select("B4").sampleRectangle(west, defaultValue=-1).getInfo()
    block = np.array(masked["properties"]["B4"])
    assert (block[:, 0] == -1).all() and (block[:, -1] > 0).all()
    try:
        img.select("B4").sampleRectangle(west).getInfo()
    except ee.EEException as err:
        assert "defaultValue" in str(err)
    else:
        raise AssertionError("masked pixels without defaultValue must fail")


def test_stratified_sample_draws_per_class(ee_api) -> None:
    ee = ee_api
    b4 = ee.Image(item().image_id).select("B4")
    image = b4.divide(150).int().rename("cls").addBands(b4)
    fc = image.stratifiedSample(
        numPoints=4,
        region=region(ee, inset=1.0),
        projection=ee.Projection(CRS, NATIVE),
        seed=7,
        classValues=[2],
        classPoints=[6],
        geometries=True,
    )
    features = fc.getInfo()["features"]
    v = window().astype(np.int64)
    available = Counter((v // 150).ravel().tolist())
    drawn = Counter(f["properties"]["cls"] for f in features)
    for cls, n in available.items():
        assert drawn[cls] == min(n, 6 if cls == 2 else 4), cls
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    seen = set()
    for f in features:
        x, y = to_utm.transform(*f["geometry"]["coordinates"])
        col, row = int((x - X0) // 120), int((Y1 - y) // 120)
        assert (row, col) not in seen
        seen.add((row, col))
        assert f["properties"]["B4"] == v[row, col]
        assert f["properties"]["cls"] == v[row, col] // 150
    # The same seed draws the same pixels.
    again = [f["geometry"]["coordinates"] for f in fc.getInfo()["features"]]
    assert again == [f["geometry"]["coordinates"] for f in features]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda ee, img: img.toFloat().glcmTexture(), "integer"),
        (lambda ee, img: img.fastDistanceTransform(8, "pixels", "cosine"), "metric"),
        (lambda ee, img: img.connectedPixelCount(0), "maxSize"),
        (lambda ee, img: img.connectedComponents(ee.Kernel.plus(1), 5000), "maxSize"),
        (lambda ee, img: img.reduceConnectedComponents(ee.Reducer.toList()), "Reducer"),
        (lambda ee, img: img.displace(img), "two bands"),
        (lambda ee, img: img.directionalDistanceTransform(0, 5000), "maxDistance"),
        (lambda ee, img: img.cumulativeCost(img.addBands(img), 1000), "one band"),
        (lambda ee, img: ee.Algorithms.Image.Segmentation.seedGrid(5, "triangle"), "gridType"),
    ],
)
def test_bad_spatial_arguments_are_clean_errors(ee_api, bad, message: str) -> None:
    img = ee_api.Image(item().image_id).select("B4")
    grid = {
        "dimensions": {"width": 8, "height": 8},
        "affineTransform": {"scaleX": 120.0, "shearX": 0.0, "translateX": X0,
                            "shearY": 0.0, "scaleY": -120.0, "translateY": Y1},
        "crsCode": CRS,
    }  # fmt: skip
    with pytest.raises(ee_api.EEException, match=message):
        ee_api.data.computePixels(
            {"expression": bad(ee_api, img), "fileFormat": "NUMPY_NDARRAY", "grid": grid}
        )


def test_bad_vector_arguments_are_clean_errors(ee_api) -> None:
    ee = ee_api
    img = ee.Image(item().image_id).select("B4")
    with pytest.raises(ee.EEException, match="geometryType"):
        img.reduceToVectors(geometry=region(ee), scale=120, geometryType="hull").getInfo()
    with pytest.raises(ee.EEException, match="too many pixels"):
        big = ee.Geometry.Rectangle([500_000, 5_000_000, 600_000, 5_090_000], CRS, False)
        img.sampleRectangle(big).getInfo()
    with pytest.raises(ee.EEException, match="classPoints"):
        img.stratifiedSample(5, region=region(ee), scale=120, classValues=[1]).getInfo()


def test_displacement_recovers_a_known_shift(ee_api) -> None:
    ee = ee_api
    ref = ee.Image(item().image_id).select("B4")
    moved = ref.translate(240, -120)  # content 2 px east, 1 px south
    disp = moved.displacement(ref, 360, None, 600)
    aligned = moved.displace(disp, "nearest")
    grid = {
        "dimensions": {"width": WIDTH, "height": HEIGHT},
        "affineTransform": {"scaleX": 120.0, "shearX": 0.0, "translateX": X0,
                            "shearY": 0.0, "scaleY": -120.0, "translateY": Y1},
        "crsCode": CRS,
    }  # fmt: skip
    got = ee.data.computePixels(
        {
            "expression": disp.addBands(aligned.rename("aligned")),
            "fileFormat": "NUMPY_NDARRAY",
            "grid": grid,
        }
    )
    # Registering `moved` to the reference needs the shift itself: 240 m east, 120 m south.
    hits = (got["dx"] == 240.0) & (got["dy"] == -120.0)
    assert hits.mean() > 0.95
    # Displacing by it gives the reference back wherever the shift was found.
    np.testing.assert_array_equal(got["aligned"][hits], window()[hits])
