"""`table:computeFeatures` through the stock client: pages with pageSize/pageToken in the body,
the PANDAS_DATAFRAME converter looping over pages, and computed tables, checked
against the source files read with pyogrio + shapely."""

from __future__ import annotations

import pytest
import requests
import shapely
from pyproj import Geod
from shapely.geometry import shape
from tables_data import border_wgs84, cities, ingest_tables


@pytest.fixture(scope="module")
def tables(server, ee_api):
    ids = ingest_tables(server.data_dir, server.project)
    return ee_api.FeatureCollection(ids.cities), ee_api.FeatureCollection(ids.border)


def test_pages_follow_tokens(ee_api, tables) -> None:
    fc = tables[0]
    seen, token, pages = [], None, 0
    while True:
        params = {"expression": fc, "pageSize": 100}
        if token:
            params["pageToken"] = token
        page = ee_api.data.computeFeatures(params)
        assert page["type"] == "FeatureCollection"
        assert len(page["features"]) <= 100
        seen.extend(page["features"])
        pages += 1
        token = page.get("nextPageToken")
        if not token:
            break
    assert pages == 3  # 243 features
    expected = cities()
    assert [f["properties"]["name"] for f in seen] == [c.name for c in expected]
    assert [f["id"] for f in seen] == [str(i) for i in range(len(expected))]
    for feature, city in zip(seen, expected, strict=True):
        assert feature["geometry"] == {"type": "Point", "coordinates": [city.lon, city.lat]}


def test_pandas_dataframe_loops_over_pages(ee_api, tables) -> None:
    fc = tables[0].filter(ee_api.Filter.stringStartsWith("name", "S"))
    frame = ee_api.data.computeFeatures(
        {"expression": fc, "fileFormat": "PANDAS_DATAFRAME", "pageSize": 7}
    )
    expected = [c for c in cities() if c.name.startswith("S")]
    assert len(expected) > 14  # three pages at least
    assert list(frame.columns) == ["geo", "name"]
    assert frame["name"].tolist() == [c.name for c in expected]
    assert [g["coordinates"] for g in frame["geo"]] == [[c.lon, c.lat] for c in expected]


def test_computed_table(ee_api, tables) -> None:
    """A computed FeatureCollection: the border's area, by the server and by pyproj."""
    border = tables[1]
    with_area = border.map(lambda f: f.set("area_km2", f.geometry().area(1).divide(1e6)))
    page = ee_api.data.computeFeatures({"expression": with_area})
    (feature,) = page["features"]
    assert "nextPageToken" not in page
    assert feature["properties"]["NAME"] == "Slovenia"
    served = shape(feature["geometry"])
    assert shapely.equals_exact(served, border_wgs84(), tolerance=1e-9)
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(border_wgs84())
    assert feature["properties"]["area_km2"] == pytest.approx(abs(area) / 1e6, rel=1e-3)


def test_not_a_table_is_rejected(ee_api, server) -> None:
    with pytest.raises(ee_api.EEException, match="Expected a FeatureCollection, got Image"):
        ee_api.data.computeFeatures({"expression": ee_api.Image(1)})


def test_bad_page_token(ee_api, tables, authed_session, server) -> None:
    body = {"expression": ee_api.serializer.encode(tables[0]), "pageToken": "not-a-token"}
    url = f"{server.base_url}/v1/projects/{server.project}/table:computeFeatures"
    response = authed_session.post(url, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid pageToken."
    assert requests.post(url, json=body, timeout=30).status_code == 401


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("table:computeFeatures", {}),
        ("table:computeFeatures", {"expression": None}),
        ("table:computeFeatures", {"expression": "x", "pageSize": "many"}),
        ("table:computeFeatures", {"expression": "x", "pageSize": -1}),
        ("table:computeFeatures", {"expression": "x", "pageToken": "b2Zmc2V0Oi0x"}),
        ("tables", {"fileFormat": "CSV"}),
        ("tables", {"expression": "x", "fileFormat": "XLSX"}),
        ("tables", {"expression": "x", "fileFormat": ["CSV"]}),
        ("tables", {"expression": "x", "selectors": [1, 2]}),
        ("tables", {"expression": "x", "filename": "../../etc/passwd"}),
        ("tables", {"expression": "x", "filename": "a" * 101}),
    ],
)
def test_hostile_requests_get_a_clean_400(authed_session, server, ee_api, path, body) -> None:
    if body.get("expression") == "x":
        body = {**body, "expression": ee_api.serializer.encode(ee_api.FeatureCollection([]))}
    url = f"{server.base_url}/v1/projects/{server.project}/{path}"
    response = authed_session.post(url, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
