"""`Export.table.toCloudStorage` / `toDrive` through the stock client in every format, read back
with pyogrio, pandas and pyarrow, against the features the test itself built."""

from __future__ import annotations

import json
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
import shapely.geometry

POINTS = [(15.1, 45.1, "a", 1, 0.5), (15.2, 45.3, "b", 2, 1.5), (15.7, 46.0, "c", 3, -2.25)]


def features(ee: Any) -> Any:
    return ee.FeatureCollection(
        [
            ee.Feature(ee.Geometry.Point([x, y]), {"name": n, "count": c, "value": v})
            for x, y, n, c, v in POINTS
        ]
    )


def run(task: Any, timeout: float = 60.0) -> dict[str, Any]:
    task.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = task.status()
        if status["state"] in ("COMPLETED", "FAILED", "CANCELLED"):
            assert status["state"] == "COMPLETED", status
            return status
        time.sleep(0.2)
    raise AssertionError("export did not finish")


def export(ee: Any, server: Any, file_format: str, selectors: list[str] | None = None) -> Path:
    prefix = f"tables/t_{file_format.lower()}_{uuid.uuid4().hex[:6]}"
    run(
        ee.batch.Export.table.toCloudStorage(
            collection=features(ee),
            description=f"table_{file_format}",
            bucket="tables-bucket",
            fileNamePrefix=prefix,
            fileFormat=file_format,
            selectors=selectors,
        )
    )
    return server.data_dir / "buckets" / "tables-bucket" / prefix


def test_csv_has_earth_engines_columns(ee_api, server) -> None:
    prefix = export(ee_api, server, "CSV")
    frame = pd.read_csv(f"{prefix}.csv")
    assert list(frame.columns) == ["system:index", "count", "name", "value", ".geo"]
    assert list(frame["name"]) == [p[2] for p in POINTS]
    assert list(frame["count"]) == [p[3] for p in POINTS]
    geoms = [shapely.geometry.shape(json.loads(g)) for g in frame[".geo"]]
    assert [(g.x, g.y) for g in geoms] == [(p[0], p[1]) for p in POINTS]


def test_csv_honours_selectors(ee_api, server) -> None:
    prefix = export(ee_api, server, "CSV", selectors=["value", "name"])
    frame = pd.read_csv(f"{prefix}.csv")
    assert list(frame.columns) == ["value", "name"]
    assert list(frame["value"]) == [p[4] for p in POINTS]


@pytest.mark.parametrize(
    ("file_format", "suffix"), [("GeoJSON", ".geojson"), ("KML", ".kml"), ("SHP", ".shp")]
)
def test_vector_formats_read_back_with_pyogrio(ee_api, server, file_format, suffix) -> None:
    prefix = export(ee_api, server, file_format)
    meta, _, geometry, fields = pyogrio.raw.read(f"{prefix}{suffix}")
    points = shapely.from_wkb(geometry)
    assert [(round(p.x, 9), round(p.y, 9)) for p in points] == [(p[0], p[1]) for p in POINTS]
    names = list(meta["fields"])
    if file_format == "KML":  # GDAL's KML driver does not read ExtendedData: the text has it
        text = Path(f"{prefix}{suffix}").read_text()
        assert all(f">{p[2]}<" in text for p in POINTS)
    else:
        assert list(fields[names.index("name")]) == [p[2] for p in POINTS]
    if file_format == "SHP":
        siblings = sorted(p.suffix for p in prefix.parent.glob(f"{prefix.name}.*"))
        assert {".shp", ".shx", ".dbf", ".prj"} <= set(siblings)


def test_kmz_is_a_zipped_kml(ee_api, server) -> None:
    prefix = export(ee_api, server, "KMZ")
    with zipfile.ZipFile(f"{prefix}.kmz") as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".kml")]
        text = archive.read(name).decode()
    for _, _, n, _, _ in POINTS:
        assert f">{n}<" in text


def test_geoparquet_read_back_with_pyarrow(ee_api, server) -> None:
    prefix = export(ee_api, server, "GeoParquet", selectors=["name", "count"])
    table = pq.read_table(f"{prefix}.parquet")
    geo = json.loads(table.schema.metadata[b"geo"])
    assert geo["primary_column"] == "geometry"
    assert geo["columns"]["geometry"]["encoding"] == "WKB"
    assert table.column_names == ["name", "count", "geometry"]
    assert table.column("count").to_pylist() == [p[3] for p in POINTS]
    points = shapely.from_wkb(table.column("geometry").to_pylist())
    assert [(p.x, p.y) for p in points] == [(p[0], p[1]) for p in POINTS]


def test_table_to_drive(ee_api, server) -> None:
    run(
        ee_api.batch.Export.table.toDrive(
            collection=features(ee_api),
            description="table_drive",
            folder="tables",
            fileNamePrefix="drive_table",
            fileFormat="GeoJSON",
        )
    )
    path = server.data_dir / "drive" / server.key["client_email"] / "tables" / "drive_table.geojson"
    doc = json.loads(path.read_text())
    assert [f["properties"]["name"] for f in doc["features"]] == [p[2] for p in POINTS]


def test_table_to_asset_then_read_back(ee_api, server) -> None:
    asset = f"projects/{server.project}/assets/exported_table_{uuid.uuid4().hex[:6]}"
    run(
        ee_api.batch.Export.table.toAsset(
            collection=features(ee_api), description="table_asset", assetId=asset
        )
    )
    info = ee_api.FeatureCollection(asset).getInfo()
    got = sorted(
        (
            f["properties"]["name"],
            f["properties"]["count"],
            f["properties"]["value"],
            *f["geometry"]["coordinates"],
        )
        for f in info["features"]
    )
    assert got == sorted((n, c, v, x, y) for x, y, n, c, v in POINTS)
