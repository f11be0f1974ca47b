"""table:import of a CSV file and of a zipped Shapefile through the stock client
(`ee.data.startTableIngestion`), then sizes and features against the csv module and pyogrio."""

from __future__ import annotations

import csv
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pyogrio
import pyogrio.raw
import pytest
import shapely

REPO_ROOT = Path(__file__).resolve().parents[2]
CITIES = REPO_ROOT / "tests" / "data" / "vector" / "naturalearth_cities" / "naturalearth_cities.shp"


def finish(ee, name: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        op = ee.data.getOperation(name)
        if op["done"] or time.monotonic() > deadline:
            return op
        time.sleep(0.1)


@pytest.fixture(scope="module")
def files(server) -> dict[str, Path]:
    """A CSV of the cities (name, lon, lat) and the zipped Shapefile, under the data dir."""
    folder = server.data_dir / f"uploads_{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    _, _, wkb, fields = pyogrio.raw.read(CITIES)
    points = shapely.from_wkb(wkb)
    with open(folder / "cities.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["city", "x", "y"])
        for name, point in zip(fields[0], points, strict=True):
            writer.writerow([name, point.x, point.y])
    with zipfile.ZipFile(folder / "cities.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for part in CITIES.parent.glob(f"{CITIES.stem}.*"):
            archive.write(part, part.name)
    return {"csv": folder / "cities.csv", "zip": folder / "cities.zip"}


def ingest(ee, server, table_id: str, source: dict[str, Any]) -> None:
    task = ee.data.startTableIngestion(
        ee.data.newTaskId()[0], {"name": table_id, "sources": [source]}
    )
    op = finish(ee, task["name"])
    assert op["metadata"]["state"] == "SUCCEEDED", op


def test_csv_and_zip_imports(ee_api, server, files) -> None:
    ee = ee_api
    root = f"projects/{server.project}/assets/e2e_csv_zip_{uuid.uuid4().hex[:8]}"
    ee.data.createFolder(root)
    rel = {k: str(p.relative_to(server.data_dir)) for k, p in files.items()}
    ingest(ee, server, f"{root}/csv", {"uris": [rel["csv"]], "xColumn": "x", "yColumn": "y"})
    ingest(ee, server, f"{root}/zip", {"uris": [rel["zip"]]})
    with open(files["csv"], newline="") as f:
        rows = list(csv.DictReader(f))
    expected = pyogrio.read_info(CITIES)["features"]
    assert len(rows) == expected
    europe = ee.Geometry.Rectangle([5, 40, 20, 50], None, False)
    in_europe = sum(1 for r in rows if 5 <= float(r["x"]) <= 20 and 40 <= float(r["y"]) <= 50)
    got = ee.Dictionary(
        {
            "csv": ee.FeatureCollection(f"{root}/csv").size(),
            "zip": ee.FeatureCollection(f"{root}/zip").size(),
            "csv_europe": ee.FeatureCollection(f"{root}/csv").filterBounds(europe).size(),
            "zip_europe": ee.FeatureCollection(f"{root}/zip").filterBounds(europe).size(),
            "first": ee.FeatureCollection(f"{root}/csv").first().get("city"),
        }
    ).getInfo()
    assert got == {
        "csv": expected,
        "zip": expected,
        "csv_europe": in_europe,
        "zip_europe": in_europe,
        "first": rows[0]["city"],
    }
    assert in_europe > 5
