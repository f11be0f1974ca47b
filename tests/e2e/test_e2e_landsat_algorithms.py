"""ee.Algorithms.Landsat through the stock client, against numpy on the same files with the MTL
coefficients parsed here, independently of openee's MTL reader.

Two scenes are ingested with `openee ingest`:
- the Landsat 5 TM L1T scene (real DN, pre-collection MTL: RADIANCE_MULT/ADD, no reflectance
  coefficients): calibratedRadiance, and TOA's refusal;
- a Landsat 8 Level-1 layout made here from the Collection 2 scene of tests/data: its files
  renamed to short names (`LC08_L1TP_001062_20201031_B4.TIF`) inside a folder named with the
  full product id, and its MTL reduced to the level-1 groups (the scene's real level-1
  coefficients). The DN of these files are the product's level-2 DN; the checks are of the
  formulas, which do not care what the DN mean.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from oracle import Grid

from openee.cli import main as openee_cli

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "landsat"
L2_DIR = DATA / "lc08_c2l2_001062_20201031_600m"
L2_ID = "LC08_L2SP_001062_20201031_20201106_02_T2"
L1_ID = "LC08_L1TP_001062_20201031_20201106_02_T2"
L1_SHORT = "LC08_L1TP_001062_20201031"
LT05_DIR = DATA / "lt05_224063_19880814"
LT05_ID = "LT52240631988227CUB02"
# The L1 layout's band files: Earth Engine band name -> the level-2 file it is made of.
L1_FILES = {**{f"B{n}": f"SR_B{n}" for n in range(1, 8)}, "B10": "ST_B10", "QA_PIXEL": "QA_PIXEL"}


def l2_mtl() -> dict:
    return json.loads((L2_DIR / f"{L2_ID}_MTL.json").read_text())["LANDSAT_METADATA_FILE"]


def lt05_mtl() -> dict[str, float]:
    text = (LT05_DIR / f"{LT05_ID}_MTL.txt").read_text(errors="replace")
    pairs = re.findall(r"^\s*(RADIANCE_(?:MULT|ADD)_BAND_\d) = (\S+)", text, re.MULTILINE)
    return {key: float(value) for key, value in pairs}


def read(path: Path) -> tuple[np.ndarray, Grid]:
    with rasterio.open(path) as src:
        grid = Grid(str(src.crs), src.transform, src.width, src.height)
        return src.read(1), grid


def compute(ee, image, grid: Grid) -> np.ndarray:
    return ee.data.computePixels(
        {"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": grid.to_pixel_grid()}
    )


def ingest(server, source: Path, asset_id: str) -> None:
    code = openee_cli(
        ["ingest", str(source), "--asset-id", asset_id, "--data-dir", str(server.data_dir)]
    )
    assert code == 0


@pytest.fixture(scope="module")
def lt05(server, ee_api):
    ingest(server, LT05_DIR, "TESTS/LANDSAT/LT05_L1T")
    return ee_api.Image(f"TESTS/LANDSAT/LT05_L1T/{LT05_ID}")


def level1_mtl_text() -> str:
    """The scene's MTL without its level-2 groups, processing level L1TP: a level-1 MTL."""
    kept, skipping = [], 0
    for line in (L2_DIR / f"{L2_ID}_MTL.txt").read_text().splitlines():
        if skipping:
            skipping += 1 if line.strip().startswith("GROUP =") else 0
            skipping -= 1 if line.strip().startswith("END_GROUP =") else 0
            continue
        if re.match(r"\s*GROUP = LEVEL2_", line):
            skipping = 1
            continue
        kept.append(line.replace('PROCESSING_LEVEL = "L2SP"', 'PROCESSING_LEVEL = "L1TP"'))
    return "\n".join(kept) + "\n"


@pytest.fixture(scope="module")
def l1(server, ee_api, tmp_path_factory):
    folder = tmp_path_factory.mktemp("landsat-l1") / L1_ID
    folder.mkdir()
    for band, source in L1_FILES.items():
        shutil.copy(L2_DIR / f"{L2_ID}_{source}.TIF", folder / f"{L1_SHORT}_{band}.TIF")
    (folder / f"{L1_SHORT}_MTL.txt").write_text(level1_mtl_text())
    ingest(server, folder.parent, "TESTS/LANDSAT/LC08_C02_T1")
    return ee_api.Image(f"TESTS/LANDSAT/LC08_C02_T1/{L1_ID}")


def l1_dn(band: str) -> tuple[np.ndarray, Grid]:
    return read(L2_DIR / f"{L2_ID}_{L1_FILES[band]}.TIF")


def toa_oracle(band: str, sun_elevation: float | None = None) -> np.ndarray:
    """TOA reflectance (reflective bands) or brightness temperature (B10) of the L1 scene."""
    mtl = l2_mtl()
    rescaling = mtl["LEVEL1_RADIOMETRIC_RESCALING"]
    n = band[1:]
    dn = l1_dn(band)[0].astype(np.float64)
    if band == "B10":
        radiance = dn * float(rescaling[f"RADIANCE_MULT_BAND_{n}"]) + float(
            rescaling[f"RADIANCE_ADD_BAND_{n}"]
        )
        constants = mtl["LEVEL1_THERMAL_CONSTANTS"]
        k1, k2 = (
            float(constants[f"K1_CONSTANT_BAND_{n}"]),
            float(constants[f"K2_CONSTANT_BAND_{n}"]),
        )
        return k2 / np.log(k1 / radiance + 1)
    elevation = sun_elevation or float(mtl["IMAGE_ATTRIBUTES"]["SUN_ELEVATION"])
    mult = float(rescaling[f"REFLECTANCE_MULT_BAND_{n}"])
    add = float(rescaling[f"REFLECTANCE_ADD_BAND_{n}"])
    return (dn * mult + add) / math.sin(math.radians(elevation))


def cloud_score_oracle(toa: dict[str, np.ndarray]) -> np.ndarray:
    """Earth Engine's published simple cloud score (docs/decisions/0028), in numpy."""

    def ramp(value: np.ndarray, low: float, high: float) -> np.ndarray:
        return (value - low) / (high - low)

    blue, green, red = toa["B2"], toa["B3"], toa["B4"]
    nir, swir1, swir2, temp = toa["B5"], toa["B6"], toa["B7"], toa["B10"]
    score = np.ones_like(blue)
    score = np.minimum(score, ramp(blue, 0.1, 0.3))
    score = np.minimum(score, ramp(red + green + blue, 0.2, 0.8))
    score = np.minimum(score, ramp(nir + swir1 + swir2, 0.3, 0.8))
    score = np.minimum(score, ramp(temp, 300, 290))
    ndsi = (green - swir1) / (green + swir1)
    score = np.minimum(score, ramp(ndsi, 0.8, 0.6))
    return np.clip(score, 0, 1) * 100


def f32(values: np.ndarray) -> np.ndarray:
    """TOA images are 32-bit floats: the exact value rounded once."""
    return values.astype(np.float32).astype(np.float64)


def test_calibrated_radiance_of_landsat5_dn(ee_api, lt05) -> None:
    coefficients = lt05_mtl()
    radiance = ee_api.Algorithms.Landsat.calibratedRadiance(lt05)
    assert radiance.bandNames().getInfo() == [f"B{n}" for n in range(1, 8)]
    dn, grid = read(LT05_DIR / f"{LT05_ID}_B1.TIF")
    got = compute(ee_api, radiance, grid)
    for n in range(1, 8):
        dn = read(LT05_DIR / f"{LT05_ID}_B{n}.TIF")[0]
        valid = dn != 255  # the files' nodata
        expected = (
            dn * coefficients[f"RADIANCE_MULT_BAND_{n}"] + coefficients[f"RADIANCE_ADD_BAND_{n}"]
        )
        np.testing.assert_allclose(got[f"B{n}"][valid], f32(expected)[valid], rtol=1e-6)
    assert radiance.get("SUN_ELEVATION").getInfo() == 49.75588889  # properties are kept


def test_toa_needs_reflectance_coefficients(ee_api, lt05) -> None:
    with pytest.raises(ee_api.EEException, match="REFLECTANCE_MULT_BAND_N"):
        ee_api.Algorithms.Landsat.TOA(lt05).getInfo()


def test_toa_reflectance_and_brightness_temperature(ee_api, l1) -> None:
    assert l1.bandNames().getInfo() == [*(f"B{n}" for n in range(1, 8)), "B10", "QA_PIXEL"]
    toa = ee_api.Algorithms.Landsat.TOA(l1)
    _, grid = l1_dn("B4")
    got = compute(ee_api, toa.select(["B2", "B4", "B10", "QA_PIXEL"]), grid)
    for band in ("B2", "B4", "B10"):
        dn = l1_dn(band)[0]
        valid = dn != 0  # the files' nodata
        assert valid.sum() > 1000
        assert got[band].dtype == np.float32
        np.testing.assert_allclose(got[band][valid], f32(toa_oracle(band))[valid], rtol=1e-6)
    qa = l1_dn("QA_PIXEL")[0]
    np.testing.assert_array_equal(got["QA_PIXEL"], qa)  # not calibrated
    info = toa.select("B4").getInfo()["bands"][0]["data_type"]
    assert info["precision"] == "float"


def test_simple_cloud_score_of_a_toa_image(ee_api, l1) -> None:
    toa = ee_api.Algorithms.Landsat.TOA(l1)
    scored = ee_api.Algorithms.Landsat.simpleCloudScore(toa)
    assert scored.bandNames().getInfo() == [*toa.bandNames().getInfo(), "cloud"]
    _, grid = l1_dn("B4")
    got = compute(ee_api, scored.select("cloud"), grid)["cloud"]
    bands = ("B2", "B3", "B4", "B5", "B6", "B7", "B10")
    valid = np.logical_and.reduce([l1_dn(b)[0] != 0 for b in bands])
    expected = cloud_score_oracle({b: f32(toa_oracle(b)) for b in bands})
    assert valid.sum() > 1000
    np.testing.assert_allclose(got[valid], f32(expected)[valid], rtol=1e-5, atol=1e-4)
    # The scene is 99.94 % cloudy: the score is high almost everywhere, and spans the range.
    assert np.median(got[valid]) > 50 and got[valid].min() < 20
    # The guides' mask: score <= 20.
    mask = compute(ee_api, scored.select("cloud").lte(20), grid)["cloud"]
    assert int(mask[valid].sum()) == int((f32(expected)[valid] <= 20).sum())


@pytest.mark.parametrize(
    ("sensor", "names"),
    [
        ("TM", ["B1", "B2", "B3", "B4", "B5", "B7", "B6"]),
        ("ETM+", ["B1", "B2", "B3", "B4", "B5", "B7", "B6_VCID_1"]),
    ],
)
def test_simple_cloud_score_bands_by_sensor(ee_api, l1, sensor, names) -> None:
    """The same TOA values under the TM / ETM+ band names score the same: blue, green, red,
    nir, swir1, swir2 and thermal are read from each sensor's bands."""
    oli = ["B2", "B3", "B4", "B5", "B6", "B7", "B10"]
    toa = ee_api.Algorithms.Landsat.TOA(l1).select(oli)
    renamed = toa.select(oli, names).set("SENSOR_ID", sensor)
    both = (
        ee_api.Algorithms.Landsat.simpleCloudScore(renamed)
        .select("cloud")
        .addBands(ee_api.Algorithms.Landsat.simpleCloudScore(toa).select(["cloud"], ["oli"]))
    )
    got = compute(ee_api, both, l1_dn("B4")[1])
    assert got["oli"].max() > 50
    np.testing.assert_array_equal(got["cloud"], got["oli"])


def test_simple_cloud_score_needs_a_sensor(ee_api, l1) -> None:
    mosaic = ee_api.ImageCollection([ee_api.Algorithms.Landsat.TOA(l1)]).mosaic()
    with pytest.raises(ee_api.EEException, match="SENSOR_ID"):
        ee_api.Algorithms.Landsat.simpleCloudScore(mosaic).bandNames().getInfo()
    scored = ee_api.Algorithms.Landsat.simpleCloudScore(mosaic.set("SENSOR_ID", "OLI_TIRS"))
    assert scored.bandNames().getInfo()[-1] == "cloud"


ELEVATIONS = (None, 25.0, 70.0)  # the scene's own sun elevation, and two others


def linear_percentile(ordered: np.ndarray, percentile: float) -> np.ndarray:
    """The percentile of the non-NaN values along axis 0 (sorted, NaN last), interpolated
    linearly between the closest ranks (numpy's default method; np.nanpercentile is slow)."""
    n = (~np.isnan(ordered)).sum(axis=0)
    rank = (n - 1) * percentile / 100
    lo = np.floor(rank).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    low = np.take_along_axis(ordered, lo[None], axis=0)[0]
    high = np.take_along_axis(ordered, hi[None], axis=0)[0]
    return low + (high - low) * (rank - lo)


def composite_oracle(
    percentile: float, score_range: float, as_float: bool
) -> dict[str, np.ndarray]:
    bands = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B10")
    scenes = [{b: f32(toa_oracle(b, e)) for b in bands} for e in ELEVATIONS]
    clouds = np.stack([f32(cloud_score_oracle(s)) for s in scenes])
    accepted = clouds <= clouds.min(axis=0) + score_range
    out = {}
    for b in bands:
        values = np.sort(np.where(accepted, np.stack([s[b] for s in scenes]), np.nan), axis=0)
        value = linear_percentile(values, percentile)
        if not as_float:
            value = value - 100 if b == "B10" else value * 255
            value = np.clip(np.floor(value + 0.5), 0, 255)
        out[b] = value
    return out


@pytest.mark.parametrize(
    ("percentile", "score_range", "as_float"), [(50, 10, False), (75, 40, True)]
)
def test_simple_composite(ee_api, l1, percentile, score_range, as_float) -> None:
    mtl_elevation = float(l2_mtl()["IMAGE_ATTRIBUTES"]["SUN_ELEVATION"])
    raw = [l1 if e is None else l1.set("SUN_ELEVATION", e) for e in ELEVATIONS]
    collection = ee_api.ImageCollection(raw)
    composite = ee_api.Algorithms.Landsat.simpleComposite(
        collection=collection, percentile=percentile, cloudScoreRange=score_range, asFloat=as_float
    )
    assert composite.bandNames().getInfo() == [*(f"B{n}" for n in range(1, 8)), "B10"]
    _, grid = l1_dn("B4")
    got = compute(ee_api, composite, grid)
    expected = composite_oracle(percentile, score_range, as_float)
    valid = np.logical_and.reduce(
        [l1_dn(b)[0] != 0 for b in ("B2", "B3", "B4", "B5", "B6", "B7", "B10")]
    )
    assert valid.sum() > 1000 and mtl_elevation not in (25.0, 70.0)
    for band, values in expected.items():
        if as_float:
            np.testing.assert_allclose(got[band][valid], values[valid], rtol=1e-5)
        else:
            assert got[band].dtype == np.uint8
            # A value within float32 rounding of a .5 may round either way.
            assert np.abs(got[band][valid].astype(np.int64) - values[valid]).max() <= 1
            assert (got[band][valid] == values[valid]).mean() > 0.99


def test_simple_composite_max_depth_is_per_pixel(ee_api, l1) -> None:
    """maxDepth=1: at each pixel, only the least cloudy (CLOUD_COVER) scene covering it is used.
    The least cloudy scene covers the west half only; the east half takes the next one."""
    _, grid = l1_dn("B4")
    t, half = grid.transform, grid.width // 2
    west = ee_api.Geometry.Rectangle(
        [t.c, t.f + t.e * grid.height, t.c + t.a * half, t.f], grid.crs, False
    )
    raw = [
        l1.set("SUN_ELEVATION", 25.0).set("CLOUD_COVER", 10.0).clip(west),
        l1.set("CLOUD_COVER", 60.0),
        l1.set("SUN_ELEVATION", 70.0).set("CLOUD_COVER", 30.0),
    ]
    composite = ee_api.Algorithms.Landsat.simpleComposite(
        ee_api.ImageCollection(raw), maxDepth=1, asFloat=True
    )
    got = compute(ee_api, composite.select("B4"), grid)["B4"]
    scored = ("B2", "B3", "B4", "B5", "B6", "B7", "B10")  # a scene covers where it has a score
    valid = np.logical_and.reduce([l1_dn(b)[0] != 0 for b in scored])
    expected = f32(toa_oracle("B4", 70.0))
    expected[:, :half] = f32(toa_oracle("B4", 25.0))[:, :half]
    np.testing.assert_allclose(got[valid], expected[valid], rtol=1e-6)


def test_simple_composite_guide_defaults(ee_api, l1) -> None:
    """The guide's call: defaults; uint8 reflective bands are 255 x TOA reflectance."""
    composite = ee_api.Algorithms.Landsat.simpleComposite(ee_api.ImageCollection([l1]))
    _, grid = l1_dn("B4")
    got = compute(ee_api, composite.select(["B4", "B10"]), grid)
    valid = l1_dn("B10")[0] != 0
    b4 = np.clip(np.floor(f32(toa_oracle("B4")) * 255 + 0.5), 0, 255)
    b10 = np.clip(np.floor(f32(toa_oracle("B10")) - 100 + 0.5), 0, 255)
    assert np.abs(got["B4"][valid].astype(np.int64) - b4[valid]).max() <= 1
    assert np.abs(got["B10"][valid].astype(np.int64) - b10[valid]).max() <= 1


def test_guide_prep_sr_l8_scaling(server, ee_api) -> None:
    """The guides' prep_sr_l8 (classification01.py): scale factors selected by
    'REFLECTANCE_MULT_BAND_.|TEMPERATURE_MULT_BAND_ST_B10' from the image's properties, one per
    'SR_B.|ST_B10' band, then the QA masks."""
    ee = ee_api
    ingest(server, L2_DIR, "TESTS/LANDSAT/LC08_C02_T1_L2")
    image = ee.Image(f"TESTS/LANDSAT/LC08_C02_T1_L2/{L2_ID}")

    def factors(pattern: str):
        return ee.Image.constant(image.toDictionary().select([pattern]).values())

    scale = factors("REFLECTANCE_MULT_BAND_.|TEMPERATURE_MULT_BAND_ST_B10")
    offset = factors("REFLECTANCE_ADD_BAND_.|TEMPERATURE_ADD_BAND_ST_B10")
    scaled = image.select("SR_B.|ST_B10").multiply(scale).add(offset)
    qa_mask = image.select("QA_PIXEL").bitwiseAnd(0b11111).eq(0)
    saturation_mask = image.select("QA_RADSAT").eq(0)
    prepared = image.addBands(scaled, None, True).updateMask(saturation_mask)
    assert scale.bandNames().size().getInfo() == 8

    mtl = l2_mtl()
    sr = mtl["LEVEL2_SURFACE_REFLECTANCE_PARAMETERS"]
    st = mtl["LEVEL2_SURFACE_TEMPERATURE_PARAMETERS"]
    qa, grid = read(L2_DIR / f"{L2_ID}_QA_PIXEL.TIF")
    radsat = read(L2_DIR / f"{L2_ID}_QA_RADSAT.TIF")[0]
    chosen = prepared.select(["SR_B4", "ST_B10"])
    masks = chosen.mask().rename(["SR_B4_mask", "ST_B10_mask"])
    got = compute(ee, chosen.addBands(masks).addBands(qa_mask.rename("clear")), grid)
    for band, mult, add in (
        ("SR_B4", sr["REFLECTANCE_MULT_BAND_4"], sr["REFLECTANCE_ADD_BAND_4"]),
        ("ST_B10", st["TEMPERATURE_MULT_BAND_ST_B10"], st["TEMPERATURE_ADD_BAND_ST_B10"]),
    ):
        dn = read(L2_DIR / f"{L2_ID}_{band}.TIF")[0]
        keep = (radsat == 0) & (dn != 0)
        expected = dn * float(mult) + float(add)
        values = got[band]
        assert keep.sum() > 1000
        np.testing.assert_array_equal(got[f"{band}_mask"] != 0, keep)
        np.testing.assert_allclose(values[keep], expected[keep], rtol=1e-12)
    # The guide's QA mask (fill, dilated cloud, cirrus, cloud, shadow bits all clear); the
    # scene is 99.94 % cloudy, so few pixels are clear.
    np.testing.assert_array_equal(got["clear"], (qa & 0b11111) == 0)
