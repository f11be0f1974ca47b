"""Landsat ingest: Earth Engine's Level-2 property set, renamed files recognised by their product
folder, and `openee ingest` printing what it recognised.

Oracles: the MTL JSON read here with `json` (its groups), the file names, and Earth Engine's
documented LANDSAT/LC08/C02/T1_L2 properties (docs/decisions/0028).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from openee.catalog.ingest import ingest
from openee.catalog.names import name_from_id
from openee.catalog.sqlite import SqliteCatalog
from openee.catalog.store import ImageQuery
from openee.values.date import Date

DATA = Path(__file__).resolve().parents[1] / "data" / "landsat"
L8 = DATA / "lc08_c2l2_001062_20201031_600m"
L57 = DATA / "l5l7_timeseries_035032_2008-2013"
LT05 = DATA / "lt05_224063_19880814"
L8_ID = "LC08_L2SP_001062_20201031_20201106_02_T2"
L8_SHORT = "LC08_L2SP_001062_20201031"
L8_BANDS = [
    *(f"SR_B{i}" for i in range(1, 8)),
    "SR_QA_AEROSOL",
    "ST_B10",
    "ST_QA",
    "QA_PIXEL",
    "QA_RADSAT",
]


def mtl_groups() -> dict[str, dict[str, str]]:
    return json.loads((L8 / f"{L8_ID}_MTL.json").read_text())["LANDSAT_METADATA_FILE"]


def only_image(store: SqliteCatalog, asset_id: str):
    (image,) = store.query_images(ImageQuery(name_from_id(asset_id)))
    return image


def test_level2_scale_factors_one_per_band(tmp_path: Path) -> None:
    """The guides' prep_sr_l8 selects 'REFLECTANCE_MULT_BAND_.' and expects one per SR band."""
    store = SqliteCatalog(tmp_path / "c.sqlite")
    ingest(store, [L8], "L2")
    props = only_image(store, "L2").properties
    groups = mtl_groups()
    sr = groups["LEVEL2_SURFACE_REFLECTANCE_PARAMETERS"]
    st = groups["LEVEL2_SURFACE_TEMPERATURE_PARAMETERS"]
    mult = sorted(k for k in props if re.fullmatch(r"REFLECTANCE_MULT_BAND_.", k))
    assert mult == [f"REFLECTANCE_MULT_BAND_{i}" for i in range(1, 8)]
    for i in range(1, 8):
        assert props[f"REFLECTANCE_MULT_BAND_{i}"] == float(sr[f"REFLECTANCE_MULT_BAND_{i}"])
        assert props[f"REFLECTANCE_ADD_BAND_{i}"] == float(sr[f"REFLECTANCE_ADD_BAND_{i}"])
    for key in ("MULT", "ADD", "MAXIMUM", "MINIMUM"):
        name = f"TEMPERATURE_{key}_BAND_ST_B10"
        assert props[name] == float(st[name])
    # The level-1 rescaling and thermal constants are not on Earth Engine's L2 images.
    assert not [k for k in props if k.startswith(("RADIANCE_", "K1_", "K2_", "QUANTIZE_CAL"))]
    assert not [k for k in props if k.startswith(("FILE_NAME", "DATA_TYPE", "CORNER_"))]
    assert "REFLECTANCE_MAXIMUM_BAND_1" not in props and "ORIGIN" not in props


def test_level2_processing_records(tmp_path: Path) -> None:
    store = SqliteCatalog(tmp_path / "c.sqlite")
    ingest(store, [L8], "L2")
    props = only_image(store, "L2").properties
    groups = mtl_groups()
    l1 = groups["LEVEL1_PROCESSING_RECORD"]
    l2 = groups["LEVEL2_PROCESSING_RECORD"]
    assert props["LANDSAT_PRODUCT_ID"] == L8_ID == l2["LANDSAT_PRODUCT_ID"]
    assert props["PROCESSING_LEVEL"] == "L2SP"
    # Earth Engine's names for the level-1 record (its LANDSAT_LC08_C02_T1_L2 schema).
    assert props["L1_LANDSAT_PRODUCT_ID"] == l1["LANDSAT_PRODUCT_ID"]
    assert props["L1_PROCESSING_LEVEL"] == l1["PROCESSING_LEVEL"] == "L1GT"
    assert props["L1_DATE_PRODUCT_GENERATED"] == l1["DATE_PRODUCT_GENERATED"]
    assert props["L1_PROCESSING_SOFTWARE_VERSION"] == l1["PROCESSING_SOFTWARE_VERSION"]
    assert props["LANDSAT_SCENE_ID"] == l1["LANDSAT_SCENE_ID"]
    assert props["DATA_SOURCE_ELEVATION"] == l1["DATA_SOURCE_ELEVATION"]
    # DATE_PRODUCT_GENERATED is a timestamp (ms) in Earth Engine's schema.
    assert props["DATE_PRODUCT_GENERATED"] == Date.parse(l2["DATE_PRODUCT_GENERATED"]).millis
    attributes = groups["IMAGE_ATTRIBUTES"]
    for key in ("CLOUD_COVER", "CLOUD_COVER_LAND", "SUN_ELEVATION", "EARTH_SUN_DISTANCE"):
        assert props[key] == float(attributes[key])
    assert props["SPACECRAFT_ID"] == "LANDSAT_8" and props["SENSOR_ID"] == "OLI_TIRS"


def test_level1_scene_keeps_its_calibration_coefficients(tmp_path: Path) -> None:
    """Landsat.calibratedRadiance and TOA read these from raw (level-1) images."""
    store = SqliteCatalog(tmp_path / "c.sqlite")
    ingest(store, [LT05], "L5")
    props = only_image(store, "L5").properties
    text = (LT05 / "LT52240631988227CUB02_MTL.txt").read_text(errors="replace")
    for key, value in re.findall(r"(RADIANCE_(?:MULT|ADD)_BAND_\d) = (\S+)", text):
        assert props[key] == float(value)
    assert props["SUN_ELEVATION"] == 49.75588889 and props["SENSOR_ID"] == "TM"


def renamed_copy(folder: Path) -> Path:
    """The L8 product with short file names (`LC08_L2SP_001062_20201031_SR_B4.TIF`)."""
    folder.mkdir(parents=True)
    for path in L8.iterdir():
        short = path.name.replace(L8_ID, L8_SHORT)
        shutil.copy(path, folder / short)
    return folder


def test_renamed_files_recognised_by_their_folder(tmp_path: Path) -> None:
    renamed_copy(tmp_path / "src" / L8_ID)
    store = SqliteCatalog(tmp_path / "c.sqlite")
    report = ingest(store, [tmp_path / "src"], "L2")
    assert report.images == 1
    image = only_image(store, "L2")
    assert image.index == L8_ID
    assert [b.id for b in image.bands] == L8_BANDS
    reference = SqliteCatalog(tmp_path / "r.sqlite")
    ingest(reference, [L8], "L2")
    assert image.properties == only_image(reference, "L2").properties  # the MTL was read


@pytest.mark.parametrize("folder", ["renamed", "LC08_L2SP_001062_20201101_20201106_02_T2"])
def test_short_names_outside_their_product_folder_are_not_grouped(
    tmp_path: Path, folder: str
) -> None:
    """A folder that is not the product's: each file is an image of its own, and the summary
    shows it."""
    renamed_copy(tmp_path / folder)
    report = ingest(SqliteCatalog(tmp_path / "c.sqlite"), [tmp_path / folder], "X")
    assert report.images == len(L8_BANDS)
    assert {r.layout for r in report.recognised} == {"file"}
    (line,) = report.recognition()
    assert line.startswith(f"file: {len(L8_BANDS)} images of 1 band (b1): ")


def test_command_prints_images_and_bands_it_recognised(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "openee", "ingest", str(L8), str(L57)]
    done = subprocess.run(
        [*command, "--asset-id", "MIXED", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert f"landsat-product: 1 image of 12 bands ({' '.join(L8_BANDS)}): {L8_ID}" in lines
    scenes = sorted(p.name for p in L57.iterdir() if p.is_dir())
    expected = (
        f"landsat-scene: {len(scenes)} images of 4 bands (B3 B4 B5 fmask):"
        f" {', '.join(scenes[:3])} and {len(scenes) - 3} more"
    )
    assert expected in lines
    assert lines[-1].startswith(f"{len(scenes) + 1} images in ")  # the summary stays last
