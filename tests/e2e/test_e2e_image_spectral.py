"""Image.unmix and Image.spectralDistance through the stock client, against numpy/scipy
formulations of the same problems; Image.loadGeoTIFF against rasterio, and its confinement to
the data roots.

Spectra are built from Image.pixelLonLat, so every pixel's input is known from its centre.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from oracle import Grid, load_items, warp_band
from pyproj import Transformer
from scipy.optimize import lsq_linear
from shapely.geometry import box, shape

GRID = Grid.centered("EPSG:4326", 2.0, 0.5, 0.1, 20, 6)  # lon 1.05 .. 2.95, lat 0.25 .. 0.75
ENDMEMBERS = np.array([[0.9, 0.1, 0.3, 0.5], [0.2, 0.8, 0.1, 0.4], [0.1, 0.3, 0.9, 0.2]])


def compute(ee, image, grid: Grid = GRID) -> np.ndarray:
    return ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


def centres(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    t = grid.transform
    return t.c + cols * t.a, t.f + rows * t.e


def fractions_image(ee):
    """Fractions f0 = (lon - 1) / 2 * 0.8, f1 = lat * 0.2, f2 = 1 - f0 - f1 (all in [0, 1])."""
    lonlat = ee.Image.pixelLonLat()
    f0 = lonlat.select("longitude").subtract(1).divide(2).multiply(0.8)
    f1 = lonlat.select("latitude").multiply(0.2)
    return f0, f1, ee.Image(1).subtract(f0).subtract(f1)


def fractions(grid: Grid) -> np.ndarray:
    lon, lat = centres(grid)
    f0, f1 = (lon - 1) / 2 * 0.8, lat * 0.2
    return np.stack([f0, f1, 1 - f0 - f1])


def spectra_image(ee, noise: float):
    """Mixtures of the endmembers, plus (with `noise`) a band-dependent offset that takes the
    pixels off the endmembers' simplex so that the constraints matter."""
    f = fractions_image(ee)
    lon = ee.Image.pixelLonLat().select("longitude")
    bands = []
    for j in range(4):
        band = f[0].multiply(ENDMEMBERS[0, j]).add(f[1].multiply(ENDMEMBERS[1, j]))
        band = band.add(f[2].multiply(ENDMEMBERS[2, j]))
        if noise:
            band = band.add(lon.multiply(noise * (j - 1.5)).add(0.02 * j * j))
        bands.append(band)
    return ee.Image.cat(bands)


def spectra(grid: Grid, noise: float) -> np.ndarray:
    x = np.einsum("kn,khw->nhw", ENDMEMBERS, fractions(grid))
    if noise:
        lon, _ = centres(grid)
        x = x + np.stack([lon * noise * (j - 1.5) + 0.02 * j * j for j in range(4)])
    return x


def test_unmix_recovers_exact_mixtures_in_every_mode(ee_api) -> None:
    ee = ee_api
    image = spectra_image(ee, noise=0)
    modes = [(False, False), (True, False), (False, True), (True, True)]
    stacked = None
    for s, n in modes:
        part = image.unmix(ENDMEMBERS.tolist(), s, n).rename([f"{s}{n}_{i}" for i in range(3)])
        stacked = part if stacked is None else stacked.addBands(part)
    assert image.unmix(ENDMEMBERS.tolist()).bandNames().getInfo() == ["band_0", "band_1", "band_2"]
    arr = compute(ee, stacked)
    want = fractions(GRID)
    for s, n in modes:
        for i in range(3):
            np.testing.assert_allclose(arr[f"{s}{n}_{i}"], want[i], atol=1e-6, err_msg=f"{s}{n}")


def test_unmix_constraints_off_the_simplex(ee_api) -> None:
    ee = ee_api
    image = spectra_image(ee, noise=0.2)
    members = ENDMEMBERS.tolist()
    stacked = ee.Image.cat(
        [
            image.unmix(members).rename(["u0", "u1", "u2"]),
            image.unmix(members, True).rename(["s0", "s1", "s2"]),
            image.unmix(members, False, True).rename(["n0", "n1", "n2"]),
        ]
    )
    arr = compute(ee, stacked)
    x = spectra(GRID, noise=0.2).reshape(4, -1)
    a = ENDMEMBERS.T
    free = np.linalg.lstsq(a, x, rcond=None)[0]
    # Sum to one: substitute f2 = 1 - f0 - f1 and solve the free problem in two unknowns.
    reduced = a[:, :2] - a[:, 2:3]
    two = np.linalg.lstsq(reduced, x - a[:, 2:3], rcond=None)[0]
    summed = np.vstack([two, 1 - two.sum(axis=0)])
    bounded = np.stack([lsq_linear(a, x[:, i], bounds=(0, np.inf)).x for i in range(x.shape[1])], 1)
    assert (free < 0).any(), "the test needs pixels whose free fractions go negative"
    for prefix, want in (("u", free), ("s", summed), ("n", bounded)):
        got = np.stack([arr[f"{prefix}{i}"].ravel() for i in range(3)])
        np.testing.assert_allclose(got, want, atol=1e-6, err_msg=prefix)


def test_spectral_distance_metrics(ee_api) -> None:
    ee = ee_api
    first = spectra_image(ee, noise=0)
    second = spectra_image(ee, noise=0.05)  # spectra stay positive
    stacked = ee.Image.cat(
        [first.spectralDistance(second, m).rename(m) for m in ("sam", "sid", "sed", "emd")]
    )
    assert first.spectralDistance(second).bandNames().getInfo() == ["distance"]
    arr = compute(ee, stacked)
    a, b = spectra(GRID, noise=0), spectra(GRID, noise=0.05)
    cos = (a * b).sum(0) / np.linalg.norm(a, axis=0) / np.linalg.norm(b, axis=0)
    np.testing.assert_allclose(arr["sam"], np.arccos(cos), atol=1e-9)
    p, q = a / a.sum(0), b / b.sum(0)
    np.testing.assert_allclose(arr["sid"], ((p - q) * np.log(p / q)).sum(0), atol=1e-12)
    np.testing.assert_allclose(arr["sed"], ((a - b) ** 2).sum(0), atol=1e-12)
    emd = np.abs(np.cumsum(p - q, axis=0)).sum(0)
    np.testing.assert_allclose(arr["emd"], emd, atol=1e-12)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda ee, img: img.unmix([[1, 2]]), "needs 4 values"),
        (lambda ee, img: img.spectralDistance(img.select([0, 1])), "same number of bands"),
        (lambda ee, img: img.spectralDistance(img, "cosine"), "unknown metric"),
    ],
)
def test_bad_spectral_arguments_are_clean_errors(ee_api, make, message: str) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match=message):
        make(ee, spectra_image(ee, noise=0)).bandNames().getInfo()


# -- Image.loadGeoTIFF ----------------------------------------------------------------------


def demo_band_path() -> str:
    item = next(i for i in load_items() if "33TWL" in i.id and "20230815" in i.id)
    return str(item.band_path("B4"))


def write_geotiff(server) -> str:
    """A two-band GeoTIFF in the server's data dir: the demo B4 (nodata 0) and B4 // 7."""
    with rasterio.open(demo_band_path()) as src:
        data, profile = src.read(1), src.profile
    profile.update(driver="GTiff", count=2, nodata=0, tiled=True, blockxsize=256, blockysize=256)
    path = server.area / "uploads" / "b4.tif"
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.write(data // 7, 2)
    return str(path)


def test_load_geotiff_reads_a_file_inside_the_data_roots(ee_api, server) -> None:
    ee = ee_api
    path = write_geotiff(server)
    image = ee.Image.loadGeoTIFF(path)
    relative = ee.Image.loadGeoTIFF(f"projects/{server.project}/uploads/b4.tif")
    info = image.getInfo()
    with rasterio.open(path) as ds:
        assert [b["id"] for b in info["bands"]] == [f"B{i}" for i in range(ds.count)]
        assert info["bands"][0]["dimensions"] == [ds.width, ds.height]
        assert info["bands"][0]["crs"] == ds.crs.to_string()
        assert info["bands"][0]["crs_transform"] == list(ds.transform)[:6]
        corners = box(*ds.bounds)
        to_wgs84 = Transformer.from_crs(ds.crs.to_string(), "EPSG:4326", always_xy=True)
    footprint = shape(image.geometry().getInfo())
    expected = shapely.transform(
        corners, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1]))
    )
    assert footprint.symmetric_difference(expected).area < 1e-9 * expected.area
    grid = Grid.centered("EPSG:4326", 15.02, 45.6, 0.0015, 48, 32)  # crosses the west edge
    arr = compute(
        ee,
        image.addBands(relative.select("B1").rename("rel")).addBands(
            image.mask().select(0).rename("m")
        ),
        grid,
    )
    expected = warp_band(demo_band_path(), grid)
    valid = expected != 0
    assert valid.any() and not valid.all()
    np.testing.assert_array_equal(arr["m"] == 1, valid)
    np.testing.assert_array_equal(arr["B0"][valid], expected[valid])
    np.testing.assert_array_equal(arr["rel"][valid], expected[valid] // 7)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("/etc/passwd", "outside the allowed roots"),
        ("../../etc/passwd", "'..' is not allowed"),
        ("/vsicurl/http://example.com/x.tif", "virtual file systems"),
        ("https://example.com/x.tif", "not an allow-listed URL"),
    ],
)
def test_load_geotiff_outside_the_roots_is_refused(ee_api, uri: str, message: str) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match=message):
        ee.Image.loadGeoTIFF(uri).getInfo()


def test_load_geotiff_of_a_file_that_is_not_a_geotiff(ee_api, server) -> None:
    ee = ee_api
    stray = server.area / "notes.tif"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_text("not a raster")
    with pytest.raises(ee.EEException, match="cannot read"):
        ee.Image.loadGeoTIFF(str(stray)).getInfo()
    with pytest.raises(ee.EEException, match="is not a GeoTIFF"):
        ee.Image.loadGeoTIFF(demo_band_path()).getInfo()  # JPEG 2000 inside


# -- spectral morphology --------------------------------------------------------------------

MORPH_GRID = Grid("EPSG:4326", Affine(0.001, 0, 10.0, 0, -0.001, 46.0), 14, 9)


def morph_spectra_image(ee):
    lonlat = ee.Image.pixelLonLat()
    x = lonlat.select("longitude").subtract(10).multiply(1000)
    y = lonlat.select("latitude").subtract(46).multiply(1000)
    b1 = x.multiply(1.3).add(y.multiply(0.7)).sin().add(2)
    b2 = x.multiply(0.37).subtract(y.multiply(1.1)).cos().add(2)
    b3 = x.multiply(y).multiply(0.05).sin().add(2)
    # b3 is masked on a diagonal stripe, so members and centres drop out.
    b3 = b3.updateMask(x.add(y).add(0.5).abs().mod(6).gt(2))
    return ee.Image.cat([b1, b2, b3]).rename(["b1", "b2", "b3"])


def morph_spectra(grid: Grid, pad: int) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[-pad : grid.height + pad, -pad : grid.width + pad] + 0.5
    t = grid.transform
    x = (t.c + cols * t.a - 10) * 1000
    y = (t.f + rows * t.e - 46) * 1000
    spectra = np.stack(
        [np.sin(x * 1.3 + y * 0.7) + 2, np.cos(x * 0.37 - y * 1.1) + 2, np.sin(x * y * 0.05) + 2]
    )
    return spectra, np.fmod(np.abs(x + y + 0.5), 6) > 2


def sam(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1)))


def morphology_oracle(use_centroid: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Erosion, dilation and validity by explicit loops over each 3x3 neighbourhood."""
    spectra, ok = morph_spectra(MORPH_GRID, 1)
    h, w = MORPH_GRID.height, MORPH_GRID.width
    eroded, dilated = np.zeros((3, h, w)), np.zeros((3, h, w))
    valid = np.zeros((h, w), dtype=bool)
    for i in range(h):
        for j in range(w):
            members = [(i + r, j + c) for r in range(3) for c in range(3) if ok[i + r, j + c]]
            if not ok[i + 1, j + 1] or not members:
                continue
            valid[i, j] = True
            if use_centroid:
                ref = np.mean([spectra[:, p, q] for p, q in members], axis=0)
            else:
                ref = spectra[:, i + 1, j + 1]
            d = [sam(spectra[:, p, q], ref) for p, q in members]
            lo, hi = members[int(np.argmin(d))], members[int(np.argmax(d))]
            eroded[:, i, j], dilated[:, i, j] = spectra[:, lo[0], lo[1]], spectra[:, hi[0], hi[1]]
    return eroded, dilated, valid


@pytest.mark.parametrize("use_centroid", [True, False])
def test_spectral_erosion_dilation_gradient(ee_api, use_centroid: bool) -> None:
    ee = ee_api
    image = morph_spectra_image(ee)
    kernel = ee.Kernel.square(1)
    eroded = image.spectralErosion("sam", kernel, use_centroid)
    dilated = image.spectralDilation("sam", None, use_centroid)
    gradient = image.spectralGradient("sam", kernel, use_centroid)
    assert gradient.bandNames().getInfo() == ["gradient"]
    stacked = ee.Image.cat(
        [
            eroded.rename(["e1", "e2", "e3"]),
            dilated.rename(["d1", "d2", "d3"]),
            gradient,
            gradient.mask().rename("m"),
        ]
    )
    arr = compute(ee, stacked, MORPH_GRID)
    want_e, want_d, valid = morphology_oracle(use_centroid)
    assert valid.any() and not valid.all()
    np.testing.assert_array_equal(arr["m"] == 1, valid)
    for k in range(3):
        np.testing.assert_allclose(arr[f"e{k + 1}"][valid], want_e[k][valid], rtol=1e-9)
        np.testing.assert_allclose(arr[f"d{k + 1}"][valid], want_d[k][valid], rtol=1e-9)
    expected = [
        sam(want_d[:, i, j], want_e[:, i, j]) for i, j in zip(*np.nonzero(valid), strict=True)
    ]
    np.testing.assert_allclose(arr["gradient"][valid], expected, atol=1e-9)
