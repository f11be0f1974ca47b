"""Image.medialAxis through the stock client, against a brute-force evaluation of its stated
definition (nearest boundary pixel by exhaustive search, the integer-medial-axis rule of
Hesselink & Roerdink with exact fractions, coverage from Python sets)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from affine import Affine
from oracle import Grid

SCALE = 0.125  # binary fractions: pixel centres and shape edges never tie
GRID = Grid("EPSG:4326", Affine(SCALE, 0, 0.0, 0, -SCALE, 4.0), 40, 28)
NEIGHBORHOOD = 5


def input_values(pad: int) -> tuple[np.ndarray, np.ndarray]:
    """The input's values and mask on GRID grown by `pad` pixels."""
    rows, cols = np.mgrid[-pad : GRID.height + pad, -pad : GRID.width + pad] + 0.5
    lon, lat = cols * SCALE, 4.0 - rows * SCALE
    rect = (lon > 0.5) & (lon < 2.25) & (lat > 1.0) & (lat < 3.0)
    disc = (lon - 3.5625) ** 2 + (lat - 2.0625) ** 2 < 1.3
    value = np.where(rect | disc, 0, 1)
    valid = ~((lat > 0.25) & (lat < 0.5))  # a masked stripe counts as zero-valued
    return value, valid


def input_image(ee):
    ll = ee.Image.pixelLonLat()
    lon, lat = ll.select("longitude"), ll.select("latitude")
    rect = lon.gt(0.5).And(lon.lt(2.25)).And(lat.gt(1.0)).And(lat.lt(3.0))
    disc = lon.subtract(3.5625).pow(2).add(lat.subtract(2.0625).pow(2)).lt(1.3)
    value = rect.Or(disc).Not()
    return value.updateMask(lat.gt(0.25).And(lat.lt(0.5)).Not())


def oracle(n: int) -> dict[str, np.ndarray]:
    pad = n + 2
    value, valid_in = input_values(pad)
    boundary = valid_in & (value != 0)
    h, w = boundary.shape
    by, bx = np.nonzero(boundary)
    feature: dict[tuple[int, int], tuple[int, int]] = {}
    dist2 = np.full((h, w), -1)
    for r in range(h):
        for c in range(w):
            d2 = (by - r) ** 2 + (bx - c) ** 2
            best = int(d2.min())
            if best > n * n:
                continue
            dy, dx = min(zip(by[d2 == best] - r, bx[d2 == best] - c, strict=True))
            feature[(r, c)] = (r + int(dy), c + int(dx))
            dist2[r, c] = best
    zero = {p for p in feature if not boundary[p]}
    medial: set[tuple[int, int]] = set()
    for p in zero:
        for q in ((p[0], p[1] + 1), (p[0] + 1, p[1])):
            if q not in zero:
                continue
            fp, fq = feature[p], feature[q]
            if (fp[0] - fq[0]) ** 2 + (fp[1] - fq[1]) ** 2 <= 1:
                continue
            mid = (Fraction(fp[0] + fq[0], 2), Fraction(fp[1] + fq[1], 2))
            v = (fp[0] - fq[0], fp[1] - fq[1])
            dp = abs(v[0] * (p[0] - mid[0]) + v[1] * (p[1] - mid[1]))
            dq = abs(v[0] * (q[0] - mid[0]) + v[1] * (q[1] - mid[1]))
            if dp <= dq:
                medial.add(p)
            if dq <= dp:
                medial.add(q)
    out = {k: np.zeros((h, w)) for k in ("medial", "coverage", "xlabel", "ylabel")}
    out["valid"] = np.zeros((h, w), dtype=bool)
    for (r, c), (fr, fc) in feature.items():
        out["valid"][r, c] = True
        out["xlabel"][r, c] = fc - c
        out["ylabel"][r, c] = fr - r
    for r, c in medial:
        out["medial"][r, c] = np.sqrt(dist2[r, c])
        near = {(r + a, c + b) for a in (-1, 0, 1) for b in (-1, 0, 1)} & zero
        out["coverage"][r, c] = len({feature[p] for p in near})
    crop = (slice(pad, pad + GRID.height), slice(pad, pad + GRID.width))
    return {k: a[crop] for k, a in out.items()}


def test_medial_axis_matches_its_definition(ee_api) -> None:
    ee = ee_api
    image = input_image(ee).medialAxis(NEIGHBORHOOD)
    assert image.bandNames().getInfo() == ["medial", "coverage", "xlabel", "ylabel"]
    arr = ee.data.computePixels(
        {
            "expression": image.addBands(image.select("xlabel").mask().rename("m")),
            "fileFormat": "NUMPY_NDARRAY",
            "grid": GRID.to_pixel_grid(),
        }
    )
    want = oracle(NEIGHBORHOOD)
    assert want["valid"].any() and not want["valid"].all()
    assert (want["medial"] > 0).sum() > 20
    np.testing.assert_array_equal(arr["m"] == 1, want["valid"])
    valid = want["valid"]
    for name in ("xlabel", "ylabel", "coverage"):
        np.testing.assert_array_equal(arr[name][valid], want[name][valid], err_msg=name)
    np.testing.assert_allclose(arr["medial"][valid], want["medial"][valid], rtol=1e-12)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda img: img.medialAxis(256, "meters"), "only units 'pixels'"),
        (lambda img: img.medialAxis(5000), "neighborhood must be between"),
    ],
)
def test_medial_axis_bad_arguments_are_clean_errors(ee_api, make, message: str) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match=message):
        make(ee.Image(1)).bandNames().getInfo()
