"""table:import and `openee ingest` of hostile vector files (issue 16, items 2-3): disguised OGR
VRTs and GeoJSON `crs` links. Each is refused or imported without a byte of the canary files
outside the roots and without a request to the canary listener."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from security_kit import TOKEN, Api, Listener, Outside, failed, succeeded

from openee.catalog.ingest import ingest
from openee.catalog.sqlite import SqliteCatalog


def ogr_vrt(source: str) -> str:
    return (
        "<OGRVRTDataSource><OGRVRTLayer name='x'>"
        f"<SrcDataSource>{source}</SrcDataSource>"
        "<GeometryType>wkbPoint</GeometryType>"
        "<GeometryField encoding='PointFromColumns' x='longitude' y='latitude'/>"
        "</OGRVRTLayer></OGRVRTDataSource>"
    )


def features_text(api: Api, name: str) -> str:
    got = api.client.get(f"/v1/projects/p/assets/{name}:listFeatures")
    return got.text


@pytest.mark.parametrize("where", ["file", "url"])
def test_a_bom_prefixed_vrt_is_not_read(
    api: Api, uploads: Path, outside: Outside, canary: Listener, where: str
) -> None:
    source = str(outside.dir / "secret.csv") if where == "file" else f"/vsicurl/{canary.url}/x.csv"
    path = uploads / "bom.geojson"
    path.write_bytes(b"\xef\xbb\xbf" + ogr_vrt(source).encode())
    answer = api.import_table(f"bom_{where}", str(path))
    assert failed(answer)
    assert TOKEN not in json.dumps(answer) + features_text(api, f"bom_{where}")
    assert canary.hits == [] and outside.untouched()


def test_a_vrt_named_shp_inside_a_zip_is_not_read(
    api: Api, uploads: Path, outside: Outside, canary: Listener
) -> None:
    path = uploads / "hidden.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.shp", ogr_vrt(str(outside.dir / "secret.csv")))
    answer = api.import_table("zipvrt", str(path))
    assert failed(answer)
    assert TOKEN not in json.dumps(answer) + features_text(api, "zipvrt")
    assert canary.hits == [] and outside.untouched()


def crs_link_geojson(path: Path, canary: Listener) -> Path:
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "link", "properties": {"href": f"{canary.url}/crs", "type": "ogcwkt"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"a": 1},
                "geometry": {"type": "Point", "coordinates": [13.5, 45.5]},
            }
        ],
    }
    path.write_text(json.dumps(doc))
    return path


def test_a_geojson_crs_link_is_not_fetched_by_table_import(
    api: Api, uploads: Path, canary: Listener
) -> None:
    path = crs_link_geojson(uploads / "link.geojson", canary)
    answer = api.import_table("crslink", str(path))
    assert succeeded(answer) or failed(answer)
    assert canary.hits == []


def test_a_geojson_crs_link_in_a_zipped_shapefile_is_not_fetched(
    api: Api, uploads: Path, canary: Listener
) -> None:
    inner = crs_link_geojson(uploads / "inner.geojson", canary)
    path = uploads / "linked.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(inner, "x.shp")
    failed(api.import_table("ziplink", str(path)))
    assert canary.hits == []


def test_a_geojson_crs_link_is_not_fetched_by_ingest(tmp_path: Path, canary: Listener) -> None:
    source = tmp_path / "src"
    source.mkdir()
    crs_link_geojson(source / "link.geojson", canary)
    store = SqliteCatalog(tmp_path / "c.sqlite")
    ingest(store, [source], "LINK")
    assert canary.hits == []
