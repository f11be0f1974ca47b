"""Table downloads: `fc.getDownloadURL(filetype, selectors, filename)` through the stock client,
then a plain unauthenticated GET of the URL. Each format is parsed back (csv, json,
xml.etree, pyogrio for the zipped Shapefile) and compared with the source files read with
pyogrio + shapely."""

from __future__ import annotations

import csv
import io
import json
import math
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pyogrio.raw
import pytest
import requests
import shapely
from shapely.geometry import shape
from tables_data import border_wgs84, cities, ingest_tables

KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture(scope="module")
def tables(server, ee_api):
    ids = ingest_tables(server.data_dir, server.project)
    return ee_api.FeatureCollection(ids.cities), ee_api.FeatureCollection(ids.border)


def fetch(url: str) -> requests.Response:
    response = requests.get(url, timeout=60)  # no credentials: the id is the capability
    assert response.status_code == 200, response.text
    return response


def test_csv(tables) -> None:
    response = fetch(tables[0].getDownloadURL("csv", filename="cities"))
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="cities.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["system:index", "name", ".geo"]
    expected = cities()
    assert len(rows) == len(expected) + 1
    for i, (row, city) in enumerate(zip(rows[1:], expected, strict=True)):
        assert row[0] == str(i)
        assert row[1] == city.name
        assert json.loads(row[2]) == {"type": "Point", "coordinates": [city.lon, city.lat]}


def test_csv_selectors(tables) -> None:
    text = fetch(tables[0].getDownloadURL("csv", selectors=["name"])).text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["name"], *[[c.name] for c in cities()]]


def test_geojson(tables) -> None:
    doc = fetch(tables[0].getDownloadURL("geojson")).json()
    assert doc["type"] == "FeatureCollection"
    got = [(f["properties"]["name"], f["geometry"]["coordinates"]) for f in doc["features"]]
    assert got == [(c.name, [c.lon, c.lat]) for c in cities()]


def test_kml(tables) -> None:
    root = ET.fromstring(fetch(tables[0].getDownloadURL("kml")).content)
    placemarks = root.findall(f"{KML}Document/{KML}Placemark")
    expected = cities()
    assert len(placemarks) == len(expected)
    for placemark, city in zip(placemarks, expected, strict=True):
        data = placemark.find(f"{KML}ExtendedData/{KML}Data[@name='name']/{KML}value")
        assert data is not None and data.text == city.name
        coordinates = placemark.findtext(f"{KML}Point/{KML}coordinates")
        assert coordinates is not None
        lon, lat = (float(v) for v in coordinates.split(","))
        assert (lon, lat) == (city.lon, city.lat)


def test_kml_polygon(tables) -> None:
    root = ET.fromstring(fetch(tables[1].getDownloadURL("kml")).content)
    (placemark,) = root.findall(f"{KML}Document/{KML}Placemark")
    rings = placemark.findall(f".//{KML}Polygon/{KML}outerBoundaryIs/{KML}LinearRing")
    assert rings
    polygons = []
    for polygon in placemark.iter(f"{KML}Polygon"):
        parts = []
        for boundary in ("outerBoundaryIs", "innerBoundaryIs"):
            for ring in polygon.findall(f"{KML}{boundary}/{KML}LinearRing/{KML}coordinates"):
                parts.append([tuple(map(float, p.split(","))) for p in (ring.text or "").split()])
        polygons.append(shapely.Polygon(parts[0], parts[1:]))
    served = shapely.MultiPolygon(polygons) if len(polygons) > 1 else polygons[0]
    assert served.symmetric_difference(border_wgs84()).area < 1e-12


def test_zipped_shapefile(tables, tmp_path: Path) -> None:
    response = fetch(tables[0].getDownloadURL("shp", filename="cities"))
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
        assert {"cities.shp", "cities.shx", "cities.dbf", "cities.prj"} <= names
        archive.extractall(tmp_path)
    meta, _, wkb, fields = pyogrio.raw.read(tmp_path / "cities.shp")
    assert meta["crs"] == "EPSG:4326"
    assert list(meta["fields"]) == ["name"]
    points = shapely.from_wkb(wkb)
    got = [(str(n), p.x, p.y) for n, p in zip(fields[0], points, strict=True)]
    assert got == [(c.name, c.lon, c.lat) for c in cities()]


def test_zipped_shapefile_polygon(tables, tmp_path: Path) -> None:
    response = fetch(tables[1].getDownloadURL("shp"))
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        archive.extractall(tmp_path)
    meta, _, wkb, fields = pyogrio.raw.read(tmp_path / "table.shp")
    assert list(meta["fields"]) == ["NAME"] and list(fields[0]) == ["Slovenia"]
    (served,) = shapely.from_wkb(wkb)
    assert served.symmetric_difference(border_wgs84()).area < 1e-12


def test_computed_collection_geojson(ee_api, tables) -> None:
    """A table computed on the fly: buffered cities with their buffer areas."""
    some = tables[0].limit(3).map(lambda f: f.set("area", f.geometry().buffer(1000).area(1)))
    doc = fetch(some.getDownloadURL("geojson", selectors=["name", "area"])).json()
    names = [f["properties"]["name"] for f in doc["features"]]
    assert names == [c.name for c in cities()[:3]]
    for feature in doc["features"]:
        assert set(feature["properties"]) == {"name", "area"}
        assert feature["properties"]["area"] == pytest.approx(math.pi * 1000**2, rel=0.01)
        assert shape(feature["geometry"]).geom_type == "Point"


def test_unknown_id_and_unsupported_format(ee_api, server, tables) -> None:
    url = f"{server.base_url}/v1/projects/{server.project}/tables/{'0' * 40}:getFeatures"
    assert requests.get(url, timeout=30).status_code == 404
    with pytest.raises(ee_api.EEException, match="TF_RECORD_TABLE"):
        tables[0].getDownloadURL("tfrecord")
