"""table:import of CSV files and zipped Shapefiles (`catalog/table_files.py`, through the
manifest planner): features against the csv module, pyproj and pyogrio on the same files."""

from __future__ import annotations

import csv
import shutil
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyogrio
import pyogrio.raw
import pytest
import shapely
from pyproj import Transformer

from openee.catalog.manifests import build_table, plan_table
from openee.catalog.roots import Roots
from openee.errors import InvalidArgumentError

DATA = Path(__file__).resolve().parents[1] / "data"
CITIES = DATA / "vector" / "naturalearth_cities" / "naturalearth_cities.shp"
NAME = "projects/p/assets/t"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "root"
    folder.mkdir()
    return folder


def table(root: Path, source: dict[str, Any]) -> tuple[Any, list[Any]]:
    return build_table(plan_table(NAME, {"sources": [source]}, Roots.of([root])))


def write_csv(path: Path, rows: list[list[object]], delimiter: str = ",") -> None:
    with open(path, "w", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)


def test_csv_with_longitude_latitude_columns(root: Path) -> None:
    rows = [["name", "longitude", "latitude", "pop", "area"]]
    rows += [["Ljubljana", 14.5, 46.05, 295504, 163.8], ["Maribor", 15.65, 46.55, 95171, ""]]
    write_csv(root / "towns.csv", rows)
    _, features = table(root, {"uris": ["towns.csv"]})
    assert [f.geometry for f in features] == [
        {"type": "Point", "coordinates": [14.5, 46.05]},
        {"type": "Point", "coordinates": [15.65, 46.55]},
    ]
    assert features[0].properties == {"name": "Ljubljana", "pop": 295504, "area": 163.8}
    assert features[1].properties["area"] is None  # an empty cell
    assert type(features[0].properties["pop"]) is int


def test_csv_x_y_columns_in_another_crs(root: Path) -> None:
    points = [(500_000.0, 5_100_000.0), (510_000.0, 5_090_000.0)]
    write_csv(
        root / "p.csv", [["E", "N", "id"], *([x, y, i] for i, (x, y) in enumerate(points))], ";"
    )
    source = {"uris": ["p.csv"], "xColumn": "E", "yColumn": "N", "crs": "EPSG:32633"}
    _, features = table(root, {**source, "csvDelimiter": ";"})
    to_wgs84 = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    for feature, (x, y) in zip(features, points, strict=True):
        assert feature.geometry["coordinates"] == pytest.approx(list(to_wgs84.transform(x, y)))
        assert set(feature.properties) == {"id"}


def test_csv_wkt_and_geojson_geometry_columns(root: Path) -> None:
    write_csv(
        root / "g.csv",
        [
            ["shape", "kind"],
            ["POLYGON ((0 0, 1 0, 1 1, 0 0))", "wkt"],
            ['{"type": "LineString", "coordinates": [[0, 0], [2, 2]]}', "geojson"],
            ["", "none"],
        ],
    )
    _, features = table(root, {"uris": ["g.csv"], "primaryGeometryColumn": "shape"})
    assert shapely.geometry.shape(features[0].geometry).area == pytest.approx(0.5)
    assert features[1].geometry == {"type": "LineString", "coordinates": [[0.0, 0.0], [2.0, 2.0]]}
    assert features[2].geometry is None
    # Earth Engine's CSV export writes GeoJSON in '.geo': found without being named
    write_csv(root / "export.csv", [["a", ".geo"], [1, '{"type": "Point", "coordinates": [3, 4]}']])
    _, exported = table(root, {"uris": ["export.csv"]})
    assert exported[0].geometry == {"type": "Point", "coordinates": [3.0, 4.0]}
    assert exported[0].properties == {"a": 1}


@pytest.mark.parametrize(
    ("rows", "source", "message"),
    [
        ([["x", "y"], ["a", "1"]], {"xColumn": "x", "yColumn": "y"}, "Row 2"),
        ([["x", "y"], ["1", "1"]], {"xColumn": "x"}, "go together"),
        ([["x", "y"], ["1", "1"]], {"xColumn": "x", "yColumn": "z"}, "no column 'z'"),
        ([["g"], ["POINT (1"]], {"primaryGeometryColumn": "g"}, "not a WKT or GeoJSON"),
        ([["x", "y"], ["1", "1"]], {"xColumn": "x", "yColumn": "y", "crs": "EPSG:0"}, "crs"),
        ([["x"], ["1"]], {"dateFormat": "'on' --"}, "no date fields"),
        ([["x"], ["1"]], {"dateFormat": "yyyy-yyyy"}, "repeats the field 'y'"),
        ([["x"], ["1"]], {"dateFormat": "yyyy-qq"}, "Illegal pattern component"),
        ([["x"], ["1"]], {"dateFormat": 5}, "must be a string"),
        ([["x"], ["1"]], {"csvDelimiter": ";;"}, "one character"),
    ],
)
def test_csv_errors_are_clear(
    root: Path, rows: list[list[object]], source: dict[str, Any], message: str
) -> None:
    write_csv(root / "bad.csv", rows)
    with pytest.raises(InvalidArgumentError, match=message):
        table(root, {"uris": ["bad.csv"], **source})


def test_csv_date_format(root: Path) -> None:
    """Columns whose cells all parse with `dateFormat` hold milliseconds since the epoch;
    others keep their types."""
    write_csv(root / "d.csv", [
        ["when", "stamp", "mixed", "n", "lon", "lat"],
        ["31/01/2020", "2020-01-31 13:45 +0200", "01/02/2021", 12, 1, 2],
        ["29/02/2024", "1969-12-31 23:59 Z", "soon", 13, 3, 4],
        ["", "", "", 14, 5, 6],
    ])  # fmt: skip
    _, features = table(root, {"uris": ["d.csv"], "dateFormat": "dd/MM/yyyy"})
    epoch = datetime(1970, 1, 1, tzinfo=UTC)

    def ms(*args: int, tz: timezone = UTC) -> int:
        return int((datetime(*args, tzinfo=tz) - epoch).total_seconds() * 1000)

    assert [f.properties["when"] for f in features] == [ms(2020, 1, 31), ms(2024, 2, 29), None]
    assert [f.properties["mixed"] for f in features] == ["01/02/2021", "soon", None]
    assert [f.properties["n"] for f in features] == [12, 13, 14]
    assert features[0].properties["stamp"] == "2020-01-31 13:45 +0200"  # another format: text
    _, stamped = table(root, {"uris": ["d.csv"], "dateFormat": "yyyy-MM-dd HH:mm Z"})
    assert [f.properties["stamp"] for f in stamped] == [
        ms(2020, 1, 31, 13, 45, tz=timezone(timedelta(hours=2))),
        -60_000,
        None,
    ]
    assert stamped[0].properties["when"] == "31/01/2020"


def test_csv_options_on_other_files_are_refused(root: Path) -> None:
    shutil.copy(DATA / "vector" / "eo-learn" / "svn_border.geojson", root / "b.geojson")
    with pytest.raises(InvalidArgumentError, match="CSV files only"):
        table(root, {"uris": ["b.geojson"], "xColumn": "x", "yColumn": "y"})


def zip_shapefile(target: Path, shp: Path, inner: str = "") -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in shp.parent.glob(f"{shp.stem}.*"):
            archive.write(part, f"{inner}{part.name}")


def test_zipped_shapefile(root: Path) -> None:
    zip_shapefile(root / "cities.zip", CITIES, inner="data/")
    _, features = table(root, {"uris": ["cities.zip"]})
    _, _, wkb, fields = pyogrio.raw.read(CITIES)
    assert len(features) == pyogrio.read_info(CITIES)["features"] == len(wkb)
    assert [f.properties["name"] for f in features] == [str(n) for n in fields[0]]
    first = shapely.from_wkb(wkb[0])
    assert features[0].geometry["coordinates"] == pytest.approx([first.x, first.y])


def test_zip_must_hold_one_shapefile(root: Path) -> None:
    with zipfile.ZipFile(root / "two.zip", "w") as archive:
        archive.writestr("a.shp", b"x")
        archive.writestr("b.shp", b"x")
    with zipfile.ZipFile(root / "none.zip", "w") as archive:
        archive.writestr("readme.txt", b"x")
    (root / "broken.zip").write_bytes(b"PK not really")
    for name, message in (("two.zip", "not 2"), ("none.zip", "not 0"), ("broken.zip", "zip")):
        with pytest.raises(InvalidArgumentError, match=message):
            table(root, {"uris": [name]})
