"""The asset API through the stock `ee` client: getAsset, listAssets (auto paging), listImages
filters checked against the STAC files and against synthetic records, create, update, copy,
rename, delete; errors in Google's envelope.

Everything this module writes lives under its own folder of the session server's project.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import oracle
import pytest
import requests
import shapely.geometry

from openee.catalog.model import IMAGE, IMAGE_COLLECTION, AssetRecord
from openee.catalog.store import open_store

DAY_MS = 86_400_000
T2020 = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp() * 1000)
MANY = 1234  # more than one server page (1000), so the client pages by itself


@pytest.fixture(scope="module")
def root(ee_api, server) -> Iterator[str]:
    """A fresh folder for this module's assets."""
    name = f"projects/{server.project}/assets/e2e_assets_{uuid.uuid4().hex[:8]}"
    ee_api.data.createFolder(name)
    yield name


def box(west: float, south: float, east: float, north: float) -> dict[str, object]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture(scope="module")
def many(server, root) -> list[AssetRecord]:
    """MANY synthetic images (no files) with random footprints, times and CLOUD, written to
    the server's catalog as `openee ingest` would while the server runs."""
    rng = random.Random(5)
    coll = f"{root}/many"
    records = [AssetRecord(coll, IMAGE_COLLECTION)]
    for i in range(MANY):
        lon, lat = rng.uniform(-10, 10), rng.uniform(40, 50)
        t = T2020 + rng.randrange(366) * DAY_MS
        records.append(
            AssetRecord(
                name=f"{coll}/img_{i:05d}",
                type=IMAGE,
                properties={"CLOUD": rng.randrange(100), "system:time_start": t},
                start_time=t,
                end_time=t,
                footprint=box(lon, lat, lon + 0.5, lat + 0.5),
            )
        )
    store = open_store(os.environ.get("OPENEE_CATALOG") or server.data_dir / "catalog.sqlite")
    try:
        store.put_many(records)
    finally:
        store.close()
    return records[1:]


# -- reads ------------------------------------------------------------------------------------


def test_get_asset(ee_api):
    asset = ee_api.data.getAsset(oracle.COLLECTION_ID)
    assert asset["type"] == "IMAGE_COLLECTION"
    assert asset["id"] == oracle.COLLECTION_ID
    first = oracle.load_items()[0]
    image = ee_api.data.getAsset(first.image_id)
    assert image["type"] == "IMAGE"
    assert [b["id"] for b in image["bands"]] == ["B2", "B3", "B4", "B8", "SCL"]
    assert image["startTime"].startswith(first.datetime.strftime("%Y-%m-%dT%H:%M:%S"))
    assert image["bands"][0]["grid"]["crsCode"].startswith("EPSG:")


def test_get_missing_asset_is_404_in_google_envelope(server, authed_session):
    url = f"{server.base_url}/v1/projects/{server.project}/assets/no/such/asset"
    response = authed_session.get(url)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["status"] == "NOT_FOUND" and error["code"] == 404
    assert "no/such/asset" in error["message"]


def test_list_demo_collection_matches_stac(ee_api):
    listed = ee_api.data.listAssets({"parent": oracle.COLLECTION_ID})["assets"]
    assert sorted(a["id"] for a in listed) == sorted(it.image_id for it in oracle.load_items())


def test_list_assets_pages_by_itself_over_many(ee_api, many):
    parent = many[0].name.rsplit("/", 1)[0]
    listed = ee_api.data.listAssets({"parent": parent})["assets"]  # no pageSize: client loops
    names = [a["name"] for a in listed]
    assert len(names) == MANY and len(set(names)) == MANY
    assert names == sorted(r.name for r in many)


def test_list_assets_page_tokens_return_each_once(server, authed_session, many):
    parent = many[0].name.rsplit("/", 1)[0]
    url = f"{server.base_url}/v1/{parent}:listAssets"
    names, token, pages = [], None, 0
    while True:
        params = {"pageSize": 100, **({"pageToken": token} if token else {})}
        body = authed_session.get(url, params=params).json()
        names += [a["name"] for a in body["assets"]]
        pages += 1
        token = body.get("nextPageToken")
        if not token:
            break
    assert pages == -(-MANY // 100)
    assert sorted(names) == sorted(r.name for r in many) and len(set(names)) == MANY


def test_invalid_page_token_is_400(server, authed_session, many):
    parent = many[0].name.rsplit("/", 1)[0]
    response = authed_session.get(
        f"{server.base_url}/v1/{parent}:listAssets", params={"pageToken": "not-a-token"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    ("start", "end", "lon", "lat"),
    [
        ("2023-08-01", "2023-09-01", 15.5, 45.5),
        ("2023-08-10", "2023-08-20", 15.5, 45.5),
        ("2023-08-01", "2023-08-15", 16.6, 46.3),
        ("2023-01-01", "2023-02-01", 15.5, 45.5),
    ],
)
def test_list_images_filters_match_stac(ee_api, start, end, lon, lat):
    expected = oracle.select_items(start, end, lon, lat)
    listed = ee_api.data.listImages(
        {
            "parent": oracle.COLLECTION_ID,
            "startTime": f"{start}T00:00:00Z",
            "endTime": f"{end}T00:00:00Z",
            "region": {"type": "Point", "coordinates": [lon, lat]},
        }
    )["images"]
    assert sorted(i["id"] for i in listed) == sorted(it.image_id for it in expected)


def test_list_images_polygon_region_matches_stac(ee_api):
    region = box(14.0, 45.0, 15.0, 45.3)
    shape = shapely.geometry.shape(region)
    expected = [it for it in oracle.load_items() if it.footprint.intersects(shape)]
    listed = ee_api.data.listImages({"parent": oracle.COLLECTION_ID, "region": region})["images"]
    assert sorted(i["id"] for i in listed) == sorted(it.image_id for it in expected)
    assert 0 < len(expected) < len(oracle.load_items())  # the region actually selects


def test_list_images_filters_over_many(ee_api, many):
    parent = many[0].name.rsplit("/", 1)[0]
    region = box(-2.0, 43.0, 3.0, 47.0)
    shape = shapely.geometry.shape(region)
    t0, t1 = T2020 + 30 * DAY_MS, T2020 + 250 * DAY_MS
    listed = ee_api.data.listImages(
        {
            "parent": parent,
            "startTime": "2020-01-31T00:00:00Z",
            "endTime": "2020-09-07T00:00:00Z",
            "region": region,
            "properties": ["CLOUD < 60"],
        }
    )["images"]
    expected = [
        r.name
        for r in many
        if r.start_time is not None
        and t0 <= r.start_time < t1
        and r.properties["CLOUD"] < 60
        and shapely.geometry.shape(r.footprint).intersects(shape)
    ]
    names = [i["name"] for i in listed]
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(expected)
    assert 20 < len(expected) < MANY // 2


def test_list_images_whole_collection_pages_over_1000(ee_api, many):
    """A filter that keeps everything: the filtered listing pages by itself too."""
    parent = many[0].name.rsplit("/", 1)[0]
    listed = ee_api.data.listImages({"parent": parent, "startTime": "2019-01-01T00:00:00Z"})
    names = [i["name"] for i in listed["images"]]
    assert len(names) == MANY and len(set(names)) == MANY


def test_list_images_bad_filter_is_400(server, authed_session):
    url = f"{server.base_url}/v1/projects/earthengine-public/assets/{oracle.COLLECTION_ID}"
    response = authed_session.get(f"{url}:listAssets", params={"filter": "bogus ~~ 3"})
    assert response.status_code == 400
    assert "filter" in response.json()["error"]["message"]


# -- writes -----------------------------------------------------------------------------------


def test_create_folder_and_collection(ee_api, root):
    ee = ee_api
    folder = ee.data.createFolder(f"{root}/f1")
    assert folder["type"] == "FOLDER"
    coll = ee.data.createAsset(
        {"type": "ImageCollection", "properties": {"title": "mine"}}, f"{root}/f1/c1"
    )
    assert coll["type"] == "IMAGE_COLLECTION"
    assert ee.data.getAsset(f"{root}/f1/c1")["properties"] == {"title": "mine"}
    ids = [a["id"] for a in ee.data.listAssets({"parent": f"{root}/f1"})["assets"]]
    assert ids == [f"{root}/f1/c1"]
    with pytest.raises(ee.EEException, match="already exists"):
        ee.data.createFolder(f"{root}/f1")
    with pytest.raises(ee.EEException, match="does not exist"):
        ee.data.createFolder(f"{root}/no_parent/f")


def test_update_asset_properties_and_times(ee_api, root):
    ee = ee_api
    name = f"{root}/upd"
    ee.data.createAsset({"type": "ImageCollection", "properties": {"a": 1, "b": 2}}, name)
    ee.data.updateAsset(name, {"properties": {"a": 10, "c": "x"}}, ["properties.a", "properties.c"])
    assert ee.data.getAsset(name)["properties"] == {"a": 10, "b": 2, "c": "x"}
    ee.data.updateAsset(name, {}, ["properties.b"])  # masked and absent: removed
    assert ee.data.getAsset(name)["properties"] == {"a": 10, "c": "x"}
    ee.data.updateAsset(
        name, {"start_time": "2021-03-04T05:06:07Z", "end_time": "2021-04-01T00:00:00Z"},
        ["start_time", "end_time"],
    )  # fmt: skip
    asset = ee.data.getAsset(name)
    assert asset["startTime"].startswith("2021-03-04T05:06:07")
    assert asset["endTime"].startswith("2021-04-01T00:00:00")
    with pytest.raises(ee.EEException, match="system:"):
        ee.data.updateAsset(
            name, {"properties": {"system:index": "x"}}, ["properties.system:index"]
        )


def test_copy_rename_delete(ee_api, root, server, authed_session):
    ee = ee_api
    src = f"{root}/cp_src"
    ee.data.createAsset({"type": "ImageCollection"}, src)
    ee.data.createFolder(f"{root}/cp_dir")
    ee.data.createFolder(f"{root}/cp_dir/inner")
    ee.data.copyAsset(src, f"{root}/cp_copy")
    assert ee.data.getAsset(f"{root}/cp_copy")["type"] == "IMAGE_COLLECTION"
    with pytest.raises(ee.EEException, match="already exists"):
        ee.data.copyAsset(src, f"{root}/cp_copy")
    ee.data.copyAsset(src, f"{root}/cp_copy", allowOverwrite=True)
    ee.data.copyAsset(f"{root}/cp_dir", f"{root}/cp_dir2")  # a folder with what is in it
    assert ee.data.getAsset(f"{root}/cp_dir2/inner")["type"] == "FOLDER"
    ee.data.renameAsset(f"{root}/cp_copy", f"{root}/cp_moved")
    assert ee.data.getAsset(f"{root}/cp_moved")["type"] == "IMAGE_COLLECTION"
    with pytest.raises(ee.EEException, match="not found"):
        ee.data.getAsset(f"{root}/cp_copy")
    # Earth Engine deletes one asset at a time: a folder that holds assets is refused ...
    with pytest.raises(ee.EEException, match="descendants"):
        ee.data.deleteAsset(f"{root}/cp_dir2")
    ee.data.deleteAsset(f"{root}/cp_dir2/inner")
    ee.data.deleteAsset(f"{root}/cp_dir2")
    # ... and openee's REST extension `?recursive=true` removes a subtree in one call.
    response = authed_session.delete(
        f"{server.base_url}/v1/{root}/cp_dir", params={"recursive": "true"}
    )
    assert response.status_code == 200 and response.json() == {}
    left = {a["id"] for a in ee.data.listAssets({"parent": root})["assets"]}
    assert {f"{root}/cp_dir", f"{root}/cp_dir2", f"{root}/cp_copy"}.isdisjoint(left)
    assert {f"{root}/cp_src", f"{root}/cp_moved"} <= left


def test_copy_into_itself_is_refused(ee_api, root):
    ee = ee_api
    ee.data.createFolder(f"{root}/loop")
    with pytest.raises(ee.EEException, match="itself"):
        ee.data.copyAsset(f"{root}/loop", f"{root}/loop/inside")


def test_create_with_bad_names_is_400(server, authed_session, root):
    url = f"{server.base_url}/v1/projects/{server.project}/assets"
    for bad in ["../escape", "a/../../b", "a//b", "a/./b", "x%2F..%2Fy", "sp ace", ""]:
        response = authed_session.post(url, params={"assetId": bad}, json={"type": "FOLDER"})
        assert response.status_code == 400, (bad, response.text)
        assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_unknown_asset_type_is_400(server, authed_session, root):
    url = f"{server.base_url}/v1/projects/{server.project}/assets"
    asset_id = root.split("/assets/", 1)[1] + "/tbl"
    response = authed_session.post(url, params={"assetId": asset_id}, json={"type": "TABLE"})
    assert response.status_code == 400
    assert "table:import" in response.json()["error"]["message"]


def test_read_only_scope_cannot_write(server, root, ee_api):
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_file(
        str(server.key_path), scopes=["https://www.googleapis.com/auth/earthengine.readonly"]
    )
    session = AuthorizedSession(credentials)
    base = f"{server.base_url}/v1"
    project = f"projects/{server.project}"
    asset_id = root.split("/assets/", 1)[1]
    try:
        assert session.get(f"{base}/{root}").status_code == 200  # reads are fine
        writes: list[requests.Response] = [
            session.post(f"{base}/{project}/assets", params={"assetId": f"{asset_id}/ro"},
                         json={"type": "FOLDER"}),
            session.patch(f"{base}/{root}", json={"updateMask": {"paths": ["properties.a"]},
                                                   "asset": {"properties": {"a": 1}}}),
            session.delete(f"{base}/{root}"),
            session.post(f"{base}/{root}:copy", json={"destinationName": f"{root}_ro"}),
            session.post(f"{base}/{root}:move", json={"destinationName": f"{root}_ro"}),
            session.post(f"{base}/{project}/image:import",
                         json={"imageManifest": {"name": f"{root}/ro"}}),
            session.post(f"{base}/{project}/table:import",
                         json={"tableManifest": {"name": f"{root}/ro"}}),
            session.post(f"{base}/{project}/operations/ABC:cancel", json={}),
            session.delete(f"{base}/{project}/operations/ABC"),
        ]  # fmt: skip
    finally:
        session.close()
    assert ee_api.data.getAsset(root)["type"] == "FOLDER"
    for response in writes:
        assert response.status_code == 403, (response.request.method, response.request.url)
        assert response.json()["error"]["status"] == "PERMISSION_DENIED"
