"""`openee ingest --template`: other layouts described by a file-name template, on GeoTIFFs
written here with rasterio; expected ids, times, bands and footprints come from what was
written (datetime, rasterio), not from openee."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.warp
import shapely.geometry
from affine import Affine

from openee.catalog.ingest import ingest
from openee.catalog.names import name_from_id
from openee.catalog.sqlite import SqliteCatalog
from openee.catalog.store import ImageQuery
from openee.catalog.templates import compile_template
from openee.errors import InvalidArgumentError

COLL = "TESTS/TEMPLATE"
REPO_ROOT = Path(__file__).resolve().parents[2]


def write_tif(path: Path, bands: int = 1, x0: float = 500_000.0, crs: str = "EPSG:32633") -> None:
    data = np.arange(bands * 6 * 8, dtype="uint16").reshape(bands, 6, 8)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=8,
        height=6,
        count=bands,
        dtype="uint16",
        crs=crs,
        transform=Affine(30.0, 0.0, x0, 0.0, -30.0, 5_000_000.0),
    ) as dst:
        dst.write(data)


def ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def plots(tmp_path: Path) -> Path:
    """Two images of two bands each, plus a multi-band file and files no template matches."""
    src = tmp_path / "src"
    src.mkdir()
    for plot, day, x0 in (("plotA", "20210315", 500_000.0), ("plotB", "20210401", 510_000.0)):
        for band in ("NDVI", "RED", "B10", "B2"):
            write_tif(src / f"{plot}_{day}_{band}.tif", x0=x0)
    write_tif(src / "notes_for_later.tif", bands=2)  # one image of its own (b1, b2)
    (src / "readme.txt").write_text("not a raster")
    return src


def test_template_groups_bands_by_id_and_reads_dates(plots: Path, tmp_path: Path) -> None:
    store = SqliteCatalog(tmp_path / "c.sqlite")
    report = ingest(store, [plots], COLL, template="{id}_{date:%Y%m%d}_{band}.tif")
    images = store.query_images(ImageQuery(name_from_id(COLL)))
    by_index = {r.index: r for r in images}
    assert set(by_index) == {"plotA", "plotB", "notes_for_later"}
    assert report.images == 3
    a, b = by_index["plotA"], by_index["plotB"]
    assert (a.start_time, b.start_time) == (ms(2021, 3, 15), ms(2021, 4, 1))
    # natural band order: B2 before B10
    assert [band.id for band in a.bands] == ["B2", "B10", "NDVI", "RED"]
    assert {Path(band.path).name for band in a.bands} == {
        f"plotA_20210315_{n}.tif" for n in ("NDVI", "RED", "B10", "B2")
    }
    assert [band.id for band in by_index["notes_for_later"].bands] == ["b1", "b2"]
    with rasterio.open(plots / "plotB_20210401_RED.tif") as src:
        west, south, east, north = rasterio.warp.transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    assert b.footprint is not None
    got = shapely.geometry.shape(b.footprint).bounds
    assert got == pytest.approx((west, south, east, north), abs=1e-6)
    # a re-run changes nothing
    again = ingest(store, [plots], COLL, template="{id}_{date:%Y%m%d}_{band}.tif")
    assert (again.written, again.unchanged) == (0, 4)  # 3 images + the collection


def test_template_without_id_or_band_makes_properties(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_tif(src / "S1_T31TCJ_2019032_stack.tif", bands=3)
    write_tif(src / "S1_T31TCJ_2019200_stack.tif", bands=3)
    store = SqliteCatalog(tmp_path / "c.sqlite")
    ingest(store, [src], COLL, template="*_{tile}_{date:%Y%j}_stack.tif")
    images = store.query_images(ImageQuery(name_from_id(COLL)))
    assert [r.index for r in images] == ["2019032", "2019200"]  # the date text is the id
    assert [r.start_time for r in images] == [ms(2019, 2, 1), ms(2019, 7, 19)]
    assert images[0].properties["tile"] == "T31TCJ"
    assert [band.id for band in images[0].bands] == ["b1", "b2", "b3"]


def test_template_numbers_become_numbers(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_tif(src / "orbit_042_scene7_2020-06-01.tif")
    store = SqliteCatalog(tmp_path / "c.sqlite")
    ingest(store, [src], COLL, template="orbit_{orbit}_{id}_{date}.tif")
    (image,) = store.query_images(ImageQuery(name_from_id(COLL)))
    assert (image.index, image.properties["orbit"], image.start_time) == (
        "scene7",
        42,
        ms(2020, 6, 1),
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{id}_{date:%Y%Q}.tif", "%Q"),
        ("{band}.tif", "{id} or {date}"),
        ("{id}_{id}.tif", "twice"),
        ("{id}_{band:x}.tif", "only {date} takes a format"),
        ("{id}_{date.tif", "unbalanced"),
    ],
)
def test_bad_templates_are_clear_errors(template: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message.replace("{", r"\{").replace("}", r"\}")):
        compile_template(template)


def test_a_date_that_does_not_parse_names_the_file(plots: Path, tmp_path: Path) -> None:
    write_tif(plots / "plotC_20211345_RED.tif")  # month 13
    store = SqliteCatalog(tmp_path / "c.sqlite")
    with pytest.raises(InvalidArgumentError, match=re.escape("plotC_20211345_RED.tif")):
        ingest(store, [plots], COLL, template="{id}_{date:%Y%m%d}_{band}.tif")
    assert store.get(name_from_id(COLL)) is None  # nothing written


def test_same_band_twice_is_an_error(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_tif(src / "a_2020-01-01_x.tif")
    write_tif(src / "a_2020-01-01_y.tif")
    store = SqliteCatalog(tmp_path / "c.sqlite")
    with pytest.raises(InvalidArgumentError, match="twice"):
        ingest(store, [src], COLL, template="{id}_{date}_*.tif")


def test_cli_template(plots: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    common = [sys.executable, "-m", "openee", "ingest", str(plots), "--asset-id", COLL]
    common += ["--data-dir", str(data_dir)]
    env = {"PYTHONPATH": str(REPO_ROOT / "src"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [*common, "--template", "{id}_{date:%Y%m%d}_{band}.tif"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "3 images" in done.stderr
    store = SqliteCatalog(data_dir / "catalog.sqlite")
    record = store.get(name_from_id(f"{COLL}/plotA"))
    assert record is not None and len(record.bands) == 4
    bad = subprocess.run(
        [*common, "--template", "{id}_{date:%Y%Q}.tif"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert bad.returncode == 2 and "%Q" in bad.stderr
