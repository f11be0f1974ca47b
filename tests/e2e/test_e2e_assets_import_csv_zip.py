"""table:import of a CSV file and of a zipped Shapefile through the stock client
(`ee.data.startTableIngestion`), then sizes and features against the csv module and pyogrio."""

from __future__ import annotations

import csv
import time
import uuid
import zipfile
from datetime import UTC, datetime
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
    folder = server.area / f"uploads_{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
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


def test_csv_date_format(ee_api, server) -> None:
    """`dateFormat`: a date column arrives as milliseconds since the epoch, which ee.Date reads."""
    ee = ee_api
    folder = server.area / f"uploads_{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    dates = ["2019-07-14", "2020-02-29", "1999-12-31"]
    with open(folder / "dated.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["day", "label", "x", "y"])
        for i, day in enumerate(dates):
            writer.writerow([day.replace("-", "."), f"s{i}", i, i])
    root = f"projects/{server.project}/assets/e2e_csv_dates_{uuid.uuid4().hex[:8]}"
    ee.data.createFolder(root)
    uri = str((folder / "dated.csv").relative_to(server.data_dir))
    ingest(ee, server, f"{root}/dated",
           {"uris": [uri], "xColumn": "x", "yColumn": "y", "dateFormat": "yyyy.MM.dd"})  # fmt: skip
    fc = ee.FeatureCollection(f"{root}/dated")
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    expected = [
        int((datetime.fromisoformat(d).replace(tzinfo=UTC) - epoch).total_seconds() * 1000)
        for d in dates
    ]
    got = ee.Dictionary({
        "days": fc.aggregate_array("day"),
        "labels": fc.aggregate_array("label"),
        "first": ee.Date(fc.first().get("day")).format("yyyy-MM-dd"),
    }).getInfo()  # fmt: skip
    assert got == {"days": expected, "labels": ["s0", "s1", "s2"], "first": dates[0]}
