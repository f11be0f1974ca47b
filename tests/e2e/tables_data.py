"""Tables for the table e2e tests: ingested into the running server with `openee ingest` (safe
while it runs, and idempotent), and read independently with pyogrio + shapely as the oracle."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from openee.cli import main as openee_cli

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTOR = REPO_ROOT / "tests" / "data" / "vector"
CITIES_PATH = VECTOR / "naturalearth_cities" / "naturalearth_cities.shp"
BORDER_PATH = VECTOR / "eo-learn" / "svn_border.geojson"


@dataclass(frozen=True)
class Tables:
    """The asset ids of the ingested tables (in the project of the test's key, so readable)."""

    cities: str
    border: str


def ingest_tables(data_dir: Path, project: str) -> Tables:
    tables = Tables(
        cities=f"projects/{project}/assets/openee-tests/naturalearth_cities",
        border=f"projects/{project}/assets/openee-tests/svn_border",
    )
    for path, asset_id in ((CITIES_PATH, tables.cities), (BORDER_PATH, tables.border)):
        code = openee_cli(
            ["ingest", str(path), "--asset-id", asset_id, "--data-dir", str(data_dir)]
        )
        assert code == 0
    return tables


@dataclass(frozen=True)
class City:
    name: str
    lon: float
    lat: float


@functools.cache
def cities() -> tuple[City, ...]:
    """The Natural Earth cities in file order, from the shapefile."""
    _, _, wkb, fields = pyogrio.raw.read(CITIES_PATH)
    points = shapely.from_wkb(wkb)
    names = fields[0]
    return tuple(City(str(n), p.x, p.y) for n, p in zip(names, points, strict=True))


@functools.cache
def border_wgs84() -> BaseGeometry:
    """The Slovenia border, with its vertices carried from EPSG:32633 to EPSG:4326."""
    doc = json.loads(BORDER_PATH.read_text())
    transformer = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)

    def to_wgs84(xy: np.ndarray) -> np.ndarray:
        xs, ys = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([xs, ys])

    return shapely.transform(shape(doc["features"][0]["geometry"]), to_wgs84)
