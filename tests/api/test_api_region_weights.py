"""Weighted region reductions in process (ADR 0054), through value:compute as the stock client
sends it, on images made of numbers (no file): Image.pixelCoordinates gives each pixel its
centre, Image.constant(1) its weight. The oracle intersects each pixel's square with the polygon
by shapely, one pixel at a time, and takes Earth Engine's 8-bit weight floor(fraction * 255) /
255."""

from __future__ import annotations

import math
from typing import Any

import pytest
import shapely.affinity
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from openee.settings import DEFAULT_PROJECT

URL = f"/v1/projects/{DEFAULT_PROJECT}/value:compute"
CRS = "EPSG:32633"
# 30 m pixels with their corners on multiples of 30.
TRANSFORM = [30.0, 0.0, 500_010.0, 0.0, -30.0, 5_100_000.0]
FIELD = shapely.affinity.rotate(
    Polygon(
        [(500_333, 5_099_411), (501_171, 5_099_502), (501_044, 5_098_703), (500_412, 5_098_650)]
    ),
    -14,
)

Node = dict[str, Any]


def _node(value: Any) -> Node:
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)).endswith("Value"):
        return value
    return {"constantValue": value}


def _call(name: str, **arguments: Any) -> Node:
    args = {k: _node(v) for k, v in arguments.items()}
    return {"functionInvocationValue": {"functionName": name, "arguments": args}}


def _projection() -> Node:
    return _call("Projection", crs=CRS, transform=TRANSFORM)


def _region(polygon: Polygon) -> Node:
    ring = [list(p) for p in polygon.exterior.coords]
    crs = _call("Projection", crs=CRS)  # in metres (a transform would scale the coordinates)
    return _call("GeometryConstructors.Polygon", coordinates=[ring], crs=crs, geodesic=False)


def _reduce(
    client: TestClient, image: Node, reducer: Node, geometry: Node | None = None
) -> dict[str, Any]:
    expression = _call(
        "Image.reduceRegion",
        image=image,
        reducer=reducer,
        geometry=geometry if geometry is not None else _region(FIELD),
        crs=_projection(),
        crsTransform=TRANSFORM,
    )
    response = client.post(URL, json={"expression": {"result": "0", "values": {"0": expression}}})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


def _pixels(field: BaseGeometry = FIELD) -> list[tuple[float, float, float, bool]]:
    """(centre x, centre y, weight, centre inside) of every pixel the field's bounds touch."""
    a, _, c, _, e, f = TRANSFORM
    xmin, ymin, xmax, ymax = field.bounds
    out = []
    for row in range(math.floor((ymax - f) / e), math.ceil((ymin - f) / e)):
        for col in range(math.floor((xmin - c) / a), math.ceil((xmax - c) / a)):
            x, y = c + col * a, f + row * e
            fraction = box(x, y + e, x + a, y).intersection(field).area / (a * -e)
            centre = (x + a / 2, y + e / 2)
            inside = field.contains(shapely.geometry.Point(centre))
            out.append((*centre, math.floor(fraction * 255 + 1e-6) / 255, inside))
    return out


def test_weighted_sum_of_ones_is_the_quantized_area(client: TestClient) -> None:
    result = _reduce(client, _call("Image.constant", value=1), _call("Reducer.sum"))
    weights = [w for _, _, w, _ in _pixels()]
    assert result["constant"] == pytest.approx(math.fsum(weights), rel=1e-12)
    assert result["constant"] == pytest.approx(FIELD.area / 900, rel=2e-3)  # the field's area


def test_weighted_and_unweighted_means_of_the_centres(client: TestClient) -> None:
    image = _call("Image.pixelCoordinates", projection=_call("Projection", crs=CRS))  # metres
    mean = _call("Reducer.mean")
    weighted = _reduce(client, image, mean)
    unweighted = _reduce(client, image, _call("Reducer.unweighted", reducer=mean))
    pixels = _pixels()
    total = math.fsum(w for _, _, w, _ in pixels)
    inside = [(x, y) for x, y, _, i in pixels if i]
    assert weighted["x"] == pytest.approx(
        math.fsum(x * w for x, _, w, _ in pixels) / total, abs=1e-6
    )
    assert weighted["y"] == pytest.approx(
        math.fsum(y * w for _, y, w, _ in pixels) / total, abs=1e-6
    )
    assert unweighted["x"] == pytest.approx(math.fsum(x for x, _ in inside) / len(inside), abs=1e-6)
    assert unweighted["y"] == pytest.approx(math.fsum(y for _, y in inside) / len(inside), abs=1e-6)
    assert abs(weighted["x"] - unweighted["x"]) > 0.01


def test_weighted_mode_counts_each_pixel_by_its_weight(client: TestClient) -> None:
    """The mode of the pixels' y: the row the field weighs most in (weighted), the row with
    the most centres inside (unweighted)."""
    image = _call(
        "Image.select",
        input=_call("Image.pixelCoordinates", projection=_call("Projection", crs=CRS)),
        bandSelectors=["y"],
    )
    mode = _call("Reducer.mode")
    weighted = _reduce(client, image, mode)["y"]
    unweighted = _reduce(client, image, _call("Reducer.unweighted", reducer=mode))["y"]
    rows: dict[float, float] = {}
    centres: dict[float, int] = {}
    for _, y, w, inside in _pixels():
        rows[y] = rows.get(y, 0.0) + w
        centres[y] = centres.get(y, 0) + inside
    heaviest = sorted(rows, key=lambda y: (-rows[y], y))
    most = sorted(centres, key=lambda y: (-centres[y], y))
    assert rows[heaviest[0]] > rows[heaviest[1]]  # no tie
    assert weighted == heaviest[0]
    assert unweighted == most[0]


def _weighted_mean_y() -> float:
    pixels = _pixels()
    return math.fsum(y * w for _, y, w, _ in pixels) / math.fsum(w for _, _, w, _ in pixels)


def _y_image() -> Node:
    return _call(
        "Image.select",
        input=_call("Image.pixelCoordinates", projection=_call("Projection", crs=CRS)),
        bandSelectors=["y"],
    )


def test_for_each_band_of_one_band_keeps_the_weights(client: TestClient) -> None:
    """Reducer.forEachBand over a one-band image is that band's reducer: weighted."""
    image = _y_image()
    reducer = _call("Reducer.forEachBand", reducer=_call("Reducer.mean"), image=image)
    result = _reduce(client, image, reducer)
    assert result["y"] == pytest.approx(_weighted_mean_y(), abs=1e-6)


def _clip_box() -> Polygon:
    """A box over the field's west half, its edges off the pixel lines."""
    xmin, ymin, xmax, ymax = FIELD.bounds
    return box(xmin - 7.0, ymin - 11.0, (xmin + xmax) / 2 + 13.0, ymax + 5.0)


def test_clipped_image_weighs_the_smaller_of_clip_and_region(client: TestClient) -> None:
    """A clip's edge fraction is the pixel's mask; a weighted reducer takes min(mask, cover)."""
    clip = _clip_box()
    image = _call("Image.clip", input=_call("Image.constant", value=1), geometry=_region(clip))
    result = _reduce(client, image, _call("Reducer.sum"))
    a, _, _, _, e, _ = TRANSFORM
    expected = 0.0
    for x, y, w, _ in _pixels():
        square = box(x - a / 2, y + e / 2, x + a / 2, y - e / 2)
        mask = math.floor(square.intersection(clip).area / (a * -e) * 255 + 1e-6) / 255
        expected += min(w, mask)
    # A mask is float32 (Pixels.weight): its levels k/255 carry float32's rounding.
    assert result["constant"] == pytest.approx(expected, rel=1e-7)


def test_clip_to_the_region_changes_no_weight(client: TestClient) -> None:
    image = _call("Image.clip", input=_call("Image.constant", value=1), geometry=_region(FIELD))
    result = _reduce(client, image, _call("Reducer.sum"))
    assert result["constant"] == pytest.approx(math.fsum(w for _, _, w, _ in _pixels()), rel=1e-12)


def test_unweighted_combined_mean_and_std_dev_take_the_centres(client: TestClient) -> None:
    """geemap's stretch: mean().combine(stdDev(), sharedInputs=True).unweighted()."""
    combined = _call(
        "Reducer.combine",
        reducer1=_call("Reducer.mean"),
        reducer2=_call("Reducer.stdDev"),
        sharedInputs=True,
    )
    result = _reduce(client, _y_image(), _call("Reducer.unweighted", reducer=combined))
    centres = [y for _, y, _, inside in _pixels() if inside]
    mean = math.fsum(centres) / len(centres)
    std = math.sqrt(math.fsum((y - mean) ** 2 for y in centres) / len(centres))
    assert result["y_mean"] == pytest.approx(mean, abs=1e-6)
    assert result["y_stdDev"] == pytest.approx(std, rel=1e-9)


def test_a_multipolygon_of_overlapping_parts_weighs_their_union(client: TestClient) -> None:
    """Earth Engine takes such geometries (drawn or imported shapes often are invalid); the
    centroid rule's rasterization burns the parts' union, and so do the weights."""
    xmin, ymin, xmax, ymax = FIELD.bounds
    parts = [
        shapely.affinity.rotate(box(xmin, ymin, xmax - 200.0, ymax - 150.0), 9),
        shapely.affinity.rotate(box(xmin + 300.0, ymin + 250.0, xmax, ymax), -7),
    ]
    assert parts[0].intersects(parts[1])
    crs = _call("Projection", crs=CRS)
    rings = [[[list(p) for p in part.exterior.coords]] for part in parts]
    geometry = _call(
        "GeometryConstructors.MultiPolygon", coordinates=rings, crs=crs, geodesic=False
    )
    result = _reduce(client, _call("Image.constant", value=1), _call("Reducer.sum"), geometry)
    union = shapely.union_all(parts)
    weights = [w for _, _, w, _ in _pixels(union)]
    assert result["constant"] == pytest.approx(math.fsum(weights), rel=1e-12)
    count = _reduce(client, _call("Image.constant", value=1), _call("Reducer.count"), geometry)
    assert count["constant"] == sum(inside for *_, inside in _pixels(union))
    assert MultiPolygon(parts).is_valid is False


def test_a_clip_to_overlapping_parts_keeps_their_union(client: TestClient) -> None:
    xmin, ymin, xmax, ymax = FIELD.bounds
    parts = [
        box(xmin - 100.0, ymin - 100.0, (xmin + xmax) / 2 + 37.0, ymax + 100.0),
        shapely.affinity.rotate(box(xmin + 200.0, ymin + 100.0, xmax - 50.0, ymax - 60.0), 11),
    ]
    crs = _call("Projection", crs=CRS)
    rings = [[[list(p) for p in part.exterior.coords]] for part in parts]
    clip = _call("GeometryConstructors.MultiPolygon", coordinates=rings, crs=crs, geodesic=False)
    image = _call("Image.clip", input=_call("Image.constant", value=1), geometry=clip)
    result = _reduce(client, image, _call("Reducer.sum"))
    union = shapely.union_all(parts)
    a, _, _, _, e, _ = TRANSFORM
    expected = 0.0
    for x, y, w, _ in _pixels():
        square = box(x - a / 2, y + e / 2, x + a / 2, y - e / 2)
        mask = math.floor(square.intersection(union).area / (a * -e) * 255 + 1e-6) / 255
        expected += min(w, mask)
    assert result["constant"] == pytest.approx(expected, rel=1e-7)
