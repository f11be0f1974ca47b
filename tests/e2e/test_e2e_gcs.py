"""Imagery in Google Cloud Storage (docs/decisions/0056): COG copies of the demo data in a GCS
emulator on 127.0.0.1 (`scripts/gcs.py`, gcp-storage-emulator), registered by `openee ingest
gs://bucket/prefix/`, by a STAC item whose hrefs name the objects and by `image:import`, read by
a real `openee serve` through GDAL's /vsigs/ with the operator's GCS settings
(`CPL_GS_ENDPOINT`, `GS_NO_SIGN_REQUEST`).

Oracles: the same COGs on local disk, registered and computed the same way (identical bytes),
and rasterio's read of the local file's window (independent of openee); the emulator's request
log (every request it received, with its Range header) for the GETs a request makes.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.shutil
import rasterio.windows
import requests
from auth_server import AuthServer, launch, server_env

from openee.demo import DATA_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
SCENE = DATA_DIR / "sentinel2" / "l2a_33TWL_33TWM_2023-08_120m" / "sentinel-2-l2a"
ITEM = SCENE / "S2A_33TWM_20230815_0_L2A"
DEMO = {  # COG name -> demo file
    "b04.tif": ITEM / "B04.tif",
    "b08.tif": ITEM / "B08.tif",
    "late.tif": SCENE / "S2B_33TWM_20230813_0_L2A" / "B04.tif",
    "imported.tif": SCENE / "S2B_33TWM_20230820_0_L2A" / "B04.tif",
    "gone.tif": SCENE / "S2B_33TWL_20230820_0_L2A" / "B08.tif",
    "spare.tif": SCENE / "S2A_33TWM_20230818_0_L2A" / "B03.tif",  # read only once the store is down
}
BUCKET, PREFIX = "imagery", "s2/"
CLOUD = "https://www.googleapis.com/auth/cloud-platform"
# A native-resolution grid inside the tiles (EPSG:32633, 120 m), 300 x 200 pixels.
ORIGIN_X, ORIGIN_Y = 499980.0 + 120 * 130, 5200020.0 - 120 * 170
GRID = {
    "crsCode": "EPSG:32633",
    "affineTransform": {
        "scaleX": 120.0, "shearX": 0.0, "translateX": ORIGIN_X,
        "shearY": 0.0, "scaleY": -120.0, "translateY": ORIGIN_Y,
    },
    "dimensions": {"width": 300, "height": 200},
}  # fmt: skip


@pytest.fixture(scope="module")
def cogs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """COG copies of demo files (tiled 256, DEFLATE, overviews), on local disk."""
    folder = tmp_path_factory.mktemp("gcs-cogs") / "local"
    folder.mkdir()
    for name, source in DEMO.items():
        rasterio.shutil.copy(
            source, folder / name, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE="256",
            OVERVIEWS="AUTO",
        )  # fmt: skip
    return folder


class Store:
    """The GCS emulator of `scripts/gcs.py`, its process and its request log."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log
        self._mark = 0

    def env(self) -> dict[str, str]:
        """What an operator sets for openee to reach the store (README, ADR 0056)."""
        return {
            "CPL_GS_ENDPOINT": f"{self.url}/",
            "GS_NO_SIGN_REQUEST": "YES",
            "OPENEE_ALLOWED_URL_PREFIXES": f"gs://{BUCKET}/{PREFIX}",
        }

    def put(self, path: Path, bucket: str, key: str) -> None:
        request = urllib.request.Request(
            f"{self.url}/{bucket}/{key}", data=path.read_bytes(), method="PUT"
        )
        urllib.request.urlopen(request, timeout=30).close()

    def delete(self, bucket: str, key: str) -> None:
        quoted = urllib.parse.quote(key, safe="")
        request = urllib.request.Request(
            f"{self.url}/storage/v1/b/{bucket}/o/{quoted}", method="DELETE"
        )
        urllib.request.urlopen(request, timeout=30).close()

    def _requests(self) -> list[dict[str, str]]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [json.loads(line) for line in lines if line.strip()]

    def record(self) -> None:
        """Count requests from now on."""
        self._mark = len(self._requests())

    def gets(self) -> list[tuple[str, str]]:
        """(path, Range) of every GET of object bytes since `record`: GDAL's XML-API GETs
        (`/bucket/key`) and gcsfs's media downloads (`...?alt=media`)."""
        return [
            (r["path"], r["range"])
            for r in self._requests()[self._mark :]
            if r["method"] == "GET"
            and (r["path"].startswith(f"/{BUCKET}/") or "alt=media" in r["path"])
        ]

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def store(cogs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The project's GCS emulator on 127.0.0.1 with the COGs uploaded under gs://imagery/s2/
    (and a file that is no raster, which an ingest of the prefix leaves alone)."""
    log = tmp_path_factory.mktemp("gcs-log") / "requests.jsonl"
    proc = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "scripts" / "gcs.py"), "--bucket", BUCKET,
         "--bucket", "elsewhere", "--log", str(log)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    url = proc.stdout.readline().decode().strip()
    if not url:
        proc.wait(30)
        pytest.fail("scripts/gcs.py did not start the GCS emulator")
    running = Store(proc, url, log)
    try:
        for name in DEMO:
            running.put(cogs / name, BUCKET, PREFIX + name)
        running.put(ITEM / "B04.tif.aux.xml", BUCKET, PREFIX + "notes.xml")
        yield running
    finally:
        running.stop()
        assert proc.stdout is not None
        proc.stdout.close()


def _ingest(
    server: AuthServer, store: Store, source: str, asset_id: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openee", "ingest", source, "--asset-id", asset_id,
         "--data-dir", str(server.data_dir)],
        env=server_env({**store.env(), **(env or {})}), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


def _stac_item(folder: Path) -> Path:
    """The demo's STAC item of B04/B08 with those assets' hrefs naming their objects in the
    store, its other local assets left out."""
    data = json.loads((ITEM / f"{ITEM.name}.json").read_text())
    cogs_of = {"B04.tif": "b04.tif", "B08.tif": "b08.tif"}
    for key, asset in list(data["assets"].items()):
        if asset["href"] in cogs_of:
            asset["href"] = f"gs://{BUCKET}/{PREFIX}{cogs_of[asset['href']]}"
        elif "://" not in asset["href"]:
            del data["assets"][key]
    path = folder / f"{ITEM.name}.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, store: Store, cogs: Path
) -> Iterator[AuthServer]:
    """`openee serve` with the store's endpoint and allow-list in its environment; the COGs
    ingested from the bucket prefix, from the local folder, and as a STAC item."""
    with launch(tmp_path_factory.mktemp("gcs"), env=store.env()) as running:
        item = _stac_item(tmp_path_factory.mktemp("gcs-stac"))
        for source, asset in (
            (f"gs://{BUCKET}/{PREFIX}", "GCS/BUCKET"),
            (str(cogs), "GCS/LOCAL"),
            (str(item), "GCS/STAC"),
        ):
            done = _ingest(running, store, source, asset)
            assert done.returncode == 0, done.stderr
        yield running


@pytest.fixture(scope="module")
def session(server: AuthServer) -> Iterator[requests.Session]:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {server.token(server.key, [CLOUD])}"
    yield s
    s.close()


def _compute(
    server: AuthServer,
    session: requests.Session,
    asset: str,
    timeout: float = 60,
    function: str = "Image.load",
    band: str | None = None,
) -> requests.Response:
    """computePixels (NPY) on GRID of the catalog image `asset` (or of `function` of it:
    `Image.loadGeoTIFF` of a URI), of its `band` alone if given."""
    argument = "id" if function == "Image.load" else "uri"
    values = {"0": {"functionInvocationValue": {
        "functionName": function, "arguments": {argument: {"constantValue": asset}},
    }}}  # fmt: skip
    if band:
        values["1"] = {"functionInvocationValue": {
            "functionName": "Image.select",
            "arguments": {"input": {"valueReference": "0"},
                          "bandSelectors": {"constantValue": [band]}},
        }}  # fmt: skip
    expression = {"result": "1" if band else "0", "values": values}
    return session.post(
        f"{server.base_url}/v1/projects/{server.project}/image:computePixels",
        json={"expression": expression, "fileFormat": "NPY", "grid": GRID},
        timeout=timeout,
    )


def _window(path: Path) -> np.ndarray:
    """The oracle: rasterio's read of GRID's window of the local COG (0, its nodata, outside)."""
    with rasterio.open(path) as src:
        col, row = ~src.transform @ (ORIGIN_X, ORIGIN_Y)
        window = rasterio.windows.Window(round(col), round(row), 300, 200)
        return src.read(1, window=window, boundless=True, fill_value=0)


@pytest.mark.parametrize("name", ["b04", "b08"])
def test_compute_pixels_over_gcs_equals_local_files(server, session, cogs, name):
    remote = _compute(server, session, f"GCS/BUCKET/{name}")
    local = _compute(server, session, f"GCS/LOCAL/{name}")
    assert remote.status_code == 200, remote.text
    assert local.status_code == 200, local.text
    assert remote.content == local.content  # pixel for pixel, byte for byte
    pixels = np.load(io.BytesIO(remote.content))
    expected = _window(cogs / f"{name}.tif")
    assert pixels.shape == (200, 300)
    np.testing.assert_array_equal(np.ma.getdata(pixels["b1"]), expected)
    assert (expected != 0).sum() > 10_000  # the window holds data, not only nodata


def test_ingest_of_a_prefix_registers_its_cogs_with_gs_uris(server):
    from openee.catalog.store import open_store

    catalog = open_store(str(server.data_dir / "catalog.sqlite"))
    try:
        images = catalog.children("projects/earthengine-public/assets/GCS/BUCKET")
        record = catalog.get("projects/earthengine-public/assets/GCS/BUCKET/b04")
    finally:
        catalog.close()
    assert sorted(r.name.rsplit("/", 1)[-1] for r in images) == sorted(
        name.removesuffix(".tif") for name in DEMO
    )  # every COG, and not the .xml beside them
    assert record is not None
    assert [b.path for b in record.bands] == [f"gs://{BUCKET}/{PREFIX}b04.tif"]


def test_stac_item_with_gs_hrefs_through_the_stock_client(server, cogs, tmp_path):
    """The stock `ee` client (in a subprocess, so that the session's `ee` stays bound to its
    server): an NDVI of the STAC item whose bands are objects in the store equals the same of
    the files ingested from the local folder, and numpy's of the local files."""
    script = (
        "import json, sys, ee, numpy as np\n"
        "ee.Initialize(ee.ServiceAccountCredentials(None, sys.argv[2]), project=sys.argv[3],"
        " url=sys.argv[1])\n"
        "grid = json.loads(sys.argv[5])\n"
        "stac = ee.ImageCollection('GCS/STAC').first()\n"
        "local = ee.Image('GCS/LOCAL/b08').addBands(ee.Image('GCS/LOCAL/b04'))\n"
        "out = {'bands': np.array(stac.bandNames().getInfo())}\n"
        "for key, image, names in (('stac', stac, ['B8', 'B4']), ('local', local, ['b1', 'b1_1'])):\n"
        "    out[key] = ee.data.computePixels({'expression': image.normalizedDifference(names),"
        " 'fileFormat': 'NUMPY_NDARRAY', 'grid': grid})['nd']\n"
        "np.savez(sys.argv[4], **out)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, server.base_url, str(server.key_path), server.project,
         str(tmp_path / "out.npz"), json.dumps(GRID)],
        env=server_env({"HOME": str(tmp_path)}), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    out = np.load(tmp_path / "out.npz")
    assert set(out["bands"]) == {"B4", "B8"}
    np.testing.assert_array_equal(out["stac"], out["local"])
    nir = _window(cogs / "b08.tif").astype(np.float64)
    red = _window(cogs / "b04.tif").astype(np.float64)
    valid = (nir != 0) & (red != 0)
    expected = (nir[valid] - red[valid]) / (nir[valid] + red[valid])
    assert valid.sum() > 10_000
    np.testing.assert_allclose(out["stac"][valid], expected.astype(np.float32), rtol=1e-6)


def test_second_identical_request_reads_no_block_from_the_store(server, session, store, cogs):
    store.record()
    first = _compute(server, session, "GCS/BUCKET/late")
    assert first.status_code == 200, first.text
    cold = store.gets()
    # Range requests of the blocks needed (the grid covers 7 % of the file), never the object.
    assert cold and all(r.startswith("bytes=") for _, r in cold), cold
    assert all(path == f"/{BUCKET}/{PREFIX}late.tif" for path, _ in cold), cold
    spans = [r.removeprefix("bytes=").split("-") for _, r in cold]
    fetched = sum(int(end) - int(start) + 1 for start, end in spans)
    assert fetched < 0.6 * (cogs / "late.tif").stat().st_size, (fetched, cold)
    second = _compute(server, session, "GCS/BUCKET/late")
    assert second.status_code == 200 and second.content == first.content
    assert store.gets() == cold  # not one new GET
    expected = _window(cogs / "late.tif")
    assert (expected != 0).sum() > 10_000  # the window holds data, not only nodata
    np.testing.assert_array_equal(
        np.ma.getdata(np.load(io.BytesIO(second.content))["b1"]), expected
    )


def test_load_geotiff_of_a_gs_uri(server, session, cogs):
    r = _compute(server, session, f"gs://{BUCKET}/{PREFIX}b08.tif", function="Image.loadGeoTIFF")
    assert r.status_code == 200, r.text
    pixels = np.load(io.BytesIO(r.content))
    np.testing.assert_array_equal(np.ma.getdata(pixels["B0"]), _window(cogs / "b08.tif"))


def test_image_import_of_a_gs_cog(server, session, cogs):
    base = f"{server.base_url}/v1/projects/{server.project}"
    name = f"projects/{server.project}/assets/from_gcs"
    op = session.post(f"{base}/image:import", json={"imageManifest": {
        "name": name, "tilesets": [{"sources": [{"uris": [f"gs://{BUCKET}/{PREFIX}imported.tif"]}]}],
        "bands": [{"id": "B4"}], "startTime": "2023-08-20T00:00:00Z"}})  # fmt: skip
    assert op.status_code == 200, op.text
    done = session.post(f"{server.base_url}/v1/{op.json()['name']}:wait", json={"timeout": "60s"})
    assert done.json()["metadata"]["state"] == "SUCCEEDED", done.text
    pixels = _compute(server, session, name)
    assert pixels.status_code == 200, pixels.text
    np.testing.assert_array_equal(
        np.ma.getdata(np.load(io.BytesIO(pixels.content))["B4"]), _window(cogs / "imported.tif")
    )


OUTSIDE = [
    f"gs://elsewhere/{PREFIX}b04.tif",  # another bucket
    f"gs://{BUCKET}/other/b04.tif",  # another prefix of the bucket
    f"gs://{BUCKET}x/{PREFIX}b04.tif",  # a bucket whose name starts like the allowed one
    f"s3://{BUCKET}/{PREFIX}b04.tif",  # the same bucket and key in another kind of store
]


@pytest.mark.parametrize("uri", OUTSIDE)
def test_uris_outside_the_allow_list_are_refused(server, session, store, uri):
    store.record()
    base = f"{server.base_url}/v1/projects/{server.project}"
    r = session.post(f"{base}/image:import", json={"imageManifest": {
        "name": f"projects/{server.project}/assets/nope",
        "tilesets": [{"sources": [{"uris": [uri]}]}]}})  # fmt: skip
    assert r.status_code == 400, r.text
    assert r.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "not allowed" in r.json()["error"]["message"]
    loaded = _compute(server, session, uri, function="Image.loadGeoTIFF")
    assert loaded.status_code == 400 and "not allowed" in loaded.json()["error"]["message"]
    assert store.gets() == []  # refused before anything was asked of the store


def test_ingest_of_a_prefix_not_allowed_is_refused(server, store):
    done = _ingest(server, store, "gs://elsewhere/s2/", "GCS/NOPE")
    assert done.returncode == 2
    assert "not allowed" in done.stderr


def test_ingest_of_a_missing_bucket_fails_clearly(server, store):
    allowed = {"OPENEE_ALLOWED_URL_PREFIXES": "gs://no-such-bucket/s2/"}
    done = _ingest(server, store, "gs://no-such-bucket/s2/", "GCS/NOPE", allowed)
    assert done.returncode != 0
    assert "Cannot list 'gs://no-such-bucket/s2/'" in done.stderr


# The local-disk tier (docs/decisions/0053) over gcsfs: blocks fetched once are kept in
# OPENEE_REMOTE_CACHE_DIR and read from there by a restarted server (new process, same directory).


def _serve_and_compute(
    root: Path, store: Store, env: dict[str, str], asset: str
) -> tuple[bytes, list[tuple[str, str]]]:
    """A fresh `openee serve` (own process) with `env`: the prefix ingested, then one
    computePixels of `asset` with the store's GETs it made; the server is stopped on return."""
    with launch(root, env={**store.env(), **env}) as server:
        done = _ingest(server, store, f"gs://{BUCKET}/{PREFIX}", "GCS/BUCKET")
        assert done.returncode == 0, done.stderr
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {server.token(server.key, [CLOUD])}"
            store.record()
            r = _compute(server, session, f"GCS/BUCKET/{asset}")
            assert r.status_code == 200, r.text
            return r.content, store.gets()


def test_blocks_on_disk_survive_a_restart(tmp_path_factory: pytest.TempPathFactory, store, cogs):
    tier = tmp_path_factory.mktemp("gcs-tier")
    env = {"OPENEE_REMOTE_CACHE_DIR": str(tier)}
    first, cold = _serve_and_compute(tmp_path_factory.mktemp("g1"), store, env, "b04")
    expected = _window(cogs / "b04.tif")
    np.testing.assert_array_equal(np.ma.getdata(np.load(io.BytesIO(first))["b1"]), expected)
    # Range requests of blocks (gcsfs's media downloads), never the whole object, kept on disk.
    assert cold and all(r.startswith("bytes=") for _, r in cold), cold
    assert any(p.stat().st_blocks for p in (tier / "gs").iterdir() if p.name != "cache")
    second, warm = _serve_and_compute(tmp_path_factory.mktemp("g2"), store, env, "b04")
    assert warm == []  # not one GET of the object's bytes: every block came from the disk tier
    assert second == first


def test_missing_object_is_a_4xx_envelope_quickly(server, session, store):
    store.delete(BUCKET, PREFIX + "gone.tif")
    started = time.monotonic()
    r = _compute(server, session, "GCS/BUCKET/gone", timeout=30)
    assert time.monotonic() - started < 10
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["status"] == "FAILED_PRECONDITION"
    assert "gone.tif" in error["message"] and "does not exist" in error["message"]


def test_store_down_is_a_clear_error_within_bounded_time(server, session, store):
    """Last in the module: it stops the store."""
    store.stop()
    started = time.monotonic()
    r = _compute(server, session, "GCS/BUCKET/spare", timeout=60)
    elapsed = time.monotonic() - started
    assert elapsed < 15, elapsed
    assert r.status_code == 503, r.text
    error = r.json()["error"]
    assert error["status"] == "UNAVAILABLE"
    assert "Cannot reach the object store for 'spare.tif'" in error["message"]
    assert "127.0.0.1" not in error["message"]  # the store's address stays in the server's log
