"""image:import of a tileset of several sources through the stock client: tiles cut here with
rasterio from a real Landsat 8 band, imported as one tileset, read back with computePixels over
the seams and compared with the original file; a missing tile leaves a gap outside the
footprint and out of the counts; manifests that cannot be mosaicked (mixed CRS, a source outside
the roots) answer 400 and write nothing; a cancelled import leaves no asset and no mosaic."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely
import shapely.geometry
from pyproj import Transformer
from rasterio.windows import Window

REPO_ROOT = Path(__file__).resolve().parents[2]
B4 = (
    REPO_ROOT / "tests" / "data" / "landsat" / "lc08_c2l2_001062_20201031_600m"
    / "LC08_L2SP_001062_20201031_20201106_02_T2_SR_B4.TIF"
)  # fmt: skip
# (col, row, width, height) of four tiles of the 379 x 386 band, meeting at (190, 200).
TILES = {
    "nw": (0, 0, 190, 200),
    "ne": (190, 0, 189, 200),
    "sw": (0, 200, 190, 186),
    "se": (190, 200, 189, 186),
}


def cut(target: Path, col: int, row: int, width: int, height: int, **changes: Any) -> Path:
    with rasterio.open(B4) as src:
        data = src.read(1, window=Window(col, row, width, height))
        t = src.transform
        profile = src.profile | {
            "width": width,
            "height": height,
            "transform": rasterio.Affine(t.a, 0, t.c + col * t.a, 0, t.e, t.f + row * t.e),
        }
    profile.update(changes)
    with rasterio.open(target, "w", **profile) as dst:
        dst.write(data, 1)
    return target


def finish(ee, name: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        op = ee.data.getOperation(name)
        if op["done"] or time.monotonic() > deadline:
            return op
        time.sleep(0.1)


def mosaic_files(server) -> list[Path]:
    folder = server.data_dir / "mosaics"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture(scope="module")
def tiles(server) -> dict[str, str]:
    """The tiles under the data dir, as URIs relative to it."""
    folder = server.area / f"tiles_{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    for key, window in TILES.items():
        cut(folder / f"{key}.tif", *window)
    cut(folder / "ne_utm21.tif", *TILES["ne"], crs="EPSG:32621")
    return {p.stem: str(p.relative_to(server.data_dir)) for p in folder.iterdir()}


@pytest.fixture(scope="module")
def root(ee_api, server) -> str:
    name = f"projects/{server.project}/assets/e2e_mosaic_{uuid.uuid4().hex[:8]}"
    ee_api.data.createFolder(name)
    return name


def import_tiles(ee, name: str, uris: list[str], **extra: Any) -> dict[str, Any]:
    task = ee.data.startIngestion(
        ee.data.newTaskId()[0],
        {"name": name, "tilesets": [{"id": "t", "sources": [{"uris": [u]} for u in uris]}],
         "bands": [{"id": "SR_B4", "tilesetId": "t"}], **extra},
    )  # fmt: skip
    return finish(ee, task["name"])


@pytest.fixture(scope="module")
def mosaic(ee_api, root, tiles) -> str:
    name = f"{root}/four"
    op = import_tiles(ee_api, name, [tiles[k] for k in ("se", "nw", "sw", "ne")])
    assert op["metadata"]["state"] == "SUCCEEDED", op
    return name


def grid_of(col: int, row: int, width: int, height: int) -> dict[str, Any]:
    with rasterio.open(B4) as src:
        t = src.transform
        return {
            "dimensions": {"width": width, "height": height},
            "affineTransform": {"scaleX": t.a, "shearX": 0, "translateX": t.c + col * t.a,
                                "shearY": 0, "scaleY": t.e, "translateY": t.f + row * t.e},
            "crsCode": f"EPSG:{src.crs.to_epsg()}",
        }  # fmt: skip


def test_pixels_across_the_seams_equal_the_original(ee_api, mosaic) -> None:
    ee = ee_api
    col, row, size = 150, 160, 80  # over the point where the four tiles meet
    got = ee.data.computePixels({"expression": ee.Image(mosaic), "fileFormat": "NUMPY_NDARRAY",
                                 "grid": grid_of(col, row, size, size)})  # fmt: skip
    with rasterio.open(B4) as src:
        want = src.read(1, window=Window(col, row, size, size))
    np.testing.assert_array_equal(got["SR_B4"], want)
    # The whole band, too.
    with rasterio.open(B4) as src:
        whole = src.read(1)
    got = ee.data.computePixels({"expression": ee.Image(mosaic), "fileFormat": "NUMPY_NDARRAY",
                                 "grid": grid_of(0, 0, whole.shape[1], whole.shape[0])})  # fmt: skip
    np.testing.assert_array_equal(got["SR_B4"], whole)


def test_size_and_footprint_are_those_of_the_original(ee_api, mosaic) -> None:
    ee = ee_api
    info = ee.Image(mosaic).getInfo()
    with rasterio.open(B4) as src:
        assert info["bands"][0]["dimensions"] == [src.width, src.height]
        assert info["bands"][0]["crs"] == f"EPSG:{src.crs.to_epsg()}"
        transform = info["bands"][0]["crs_transform"]
        assert np.allclose(transform, [src.transform.a, 0, src.transform.c,
                                       0, src.transform.e, src.transform.f])  # fmt: skip
        to_wgs84 = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True)
        box = shapely.geometry.box(*src.bounds)
    footprint = shapely.geometry.shape(ee.data.getAsset(mosaic)["geometry"])
    dense = shapely.segmentize(box, box.length / 400)
    expected = shapely.transform(
        dense, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1]))
    )
    assert footprint.symmetric_difference(expected).area < 0.01 * expected.area
    with rasterio.open(B4) as src:
        valid = int((src.read(1) != src.nodata).sum())
    region = ee.Geometry.Rectangle(list(src.bounds), f"EPSG:{src.crs.to_epsg()}", False)
    count = ee.Image(mosaic).reduceRegion(ee.Reducer.count(), region).getInfo()
    assert count == {"SR_B4": valid}


def test_missing_tile_is_a_gap(ee_api, root, tiles) -> None:
    ee = ee_api
    name = f"{root}/three"
    folder, _ = tiles["nw"].rsplit("/", 1)  # given once, as `uriPrefix`
    names = [tiles[k].rsplit("/", 1)[1] for k in ("nw", "sw", "se")]
    op = import_tiles(ee, name, names, uriPrefix=f"{folder}/")
    assert op["metadata"]["state"] == "SUCCEEDED", op
    with rasterio.open(B4) as src:
        data = src.read(1)
        nodata = src.nodata
        crs = f"EPSG:{src.crs.to_epsg()}"
        to_wgs84 = Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True)
        ne_centre = to_wgs84.transform(*src.xy(100, 285))
        region = ee.Geometry.Rectangle(list(src.bounds), crs, False)
    kept = data.copy()
    kept[:200, 190:] = nodata
    count = ee.Image(name).reduceRegion(ee.Reducer.count(), region).getInfo()
    assert count == {"SR_B4": int((kept != nodata).sum())}
    assert int((data[:200, 190:] != nodata).sum()) > 0  # the gap did remove pixels
    footprint = shapely.geometry.shape(ee.data.getAsset(name)["geometry"])
    assert not footprint.contains(shapely.Point(ne_centre))


def test_rejected_manifests_write_nothing(server, authed_session, root, tiles) -> None:
    base = f"{server.base_url}/v1/projects/{server.project}"
    listing = f"{server.base_url}/v1/{root}:listAssets"
    before = sorted(a["name"] for a in authed_session.get(listing).json()["assets"])
    ops_before = len(authed_session.get(f"{base}/operations").json()["operations"])
    files_before = mosaic_files(server)
    cases = [
        ([tiles["nw"], tiles["ne_utm21"], tiles["sw"]], "share one CRS"),
        ([tiles["nw"], "/etc/passwd.tif"], "outside the allowed roots"),
        ([tiles["nw"], f"{tiles['ne'].rsplit('/', 1)[0]}/../../../x.tif"], "'..'"),
    ]
    for uris, message in cases:
        manifest = {"name": f"{root}/rejected",
                    "tilesets": [{"sources": [{"uris": [u]} for u in uris]}]}  # fmt: skip
        response = authed_session.post(f"{base}/image:import", json={"imageManifest": manifest})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["status"] == "INVALID_ARGUMENT" and message in error["message"], error
    assert sorted(a["name"] for a in authed_session.get(listing).json()["assets"]) == before
    assert len(authed_session.get(f"{base}/operations").json()["operations"]) == ops_before
    assert mosaic_files(server) == files_before
    # assets.create registers files; it does not mosaic several sources.
    response = authed_session.post(
        f"{base}/assets",
        params={"assetId": f"{root.split('/assets/', 1)[1]}/created"},
        json={"type": "IMAGE", "tilesets": [{"sources": [{"uris": [tiles["nw"]]},
                                                         {"uris": [tiles["ne"]]}]}]},
    )  # fmt: skip
    assert response.status_code == 400 and "image:import" in response.json()["error"]["message"]


def test_cancelled_import_leaves_no_asset_and_no_mosaic(ee_api, server, root, tiles) -> None:
    ee = ee_api
    name = f"{root}/cancelled"
    files_before = mosaic_files(server)
    task = ee.data.startIngestion(
        ee.data.newTaskId()[0],
        {"name": name, "tilesets": [{"sources": [{"uris": [tiles[k]]} for k in TILES]}]},
    )
    ee.data.cancelOperation(task["name"])
    op = finish(ee, task["name"])
    op_id = task["name"].rsplit("/", 1)[1]
    made = [p for p in mosaic_files(server) if p.name.startswith(op_id)]
    if op["metadata"]["state"] == "CANCELLED":
        with pytest.raises(ee.EEException, match="not found"):
            ee.data.getAsset(name)
        assert made == [] and mosaic_files(server) == files_before
    else:  # the import finished before the cancel reached it: then it is whole
        assert op["metadata"]["state"] == "SUCCEEDED", op
        band = ee.data.getAsset(name)["bands"][0]
        assert band["id"] == "b1" and len(made) == 1
