"""The map page (`/map`) in a real browser: Debian's Chromium (scripts/chromium.sh) driven by
Playwright, against the session server with authentication on.

The page signs in with the service-account key file (the JWT-bearer grant signed in the browser
with WebCrypto), adds the demo collection as a median layer, draws its tiles, changes the
stretch, answers a click with the inspector, lists the tasks and restores itself from its share
link. Oracles: rasterio on the demo files at the clicked point (the median of the items' pixels),
and geemap's own layer-editor arithmetic for the stretch (checked against numpy in
test_e2e_geemap.py).
"""

from __future__ import annotations

import io
import os
import shutil
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from auth_server import launch
from oracle import load_items, select_items
from PIL import Image as PILImage
from pyproj import Transformer

REPO_ROOT = Path(__file__).resolve().parents[2]
ITEM = next(i for i in load_items() if i.id == "S2A_33TWL_20230815_0_L2A")
START, END = "2023-08-01", "2023-09-01"
BORDER = REPO_ROOT / "tests" / "data" / "vector" / "eo-learn" / "svn_border.geojson"
# What the machine's closed network needs (see the environment notes): no background requests.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAP_BACKGROUND = (0xDD, 0xE3, 0xE8)  # #map's background in map.css: where no tile is drawn
VIEWPORT = {"width": 1100, "height": 760}
ZOOM = 13


def chromium() -> str:
    for candidate in (os.environ.get("OPENEE_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("No Chromium: run scripts/chromium.sh (make test does).", pytrace=False)
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium(), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


class MapPage:
    """One tab on /map, with the page's errors collected."""

    def __init__(self, browser: Any, url: str) -> None:
        self.page = browser.new_page(viewport=VIEWPORT)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(url)

    def sign_in(self, key_path: Path) -> None:
        self.page.set_input_files("#key-file", str(key_path))
        self.page.wait_for_selector("body[data-signed-in]", timeout=15_000)

    def wait_layer(self, state: str = "ready") -> None:
        self.page.wait_for_selector(f"li.layer[data-state={state}]", timeout=45_000)

    def map_pixels(self) -> np.ndarray:
        png = self.page.locator("#map").screenshot()
        return np.asarray(PILImage.open(io.BytesIO(png)).convert("RGB")).astype(int)

    def centre_pixel(self) -> np.ndarray:
        pixels = self.map_pixels()
        return pixels[pixels.shape[0] // 2, pixels.shape[1] // 2]

    def status(self) -> str:
        return str(self.page.inner_text("#status"))


def pixel_centre(path: Path, lon: float, lat: float) -> tuple[float, float]:
    """The lon/lat of the centre of the source pixel holding (lon, lat)."""
    with rasterio.open(path) as src:
        row, col = src.index(
            *Transformer.from_crs("EPSG:4326", src.crs, always_xy=True).transform(lon, lat)
        )
        return Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True).transform(
            *src.xy(row, col)
        )


def median_at(band: str, lon: float, lat: float) -> float:
    """ImageCollection.median() at a point: the median of the items' unmasked pixels there."""
    samples = []
    for item in select_items(START, END, lon, lat):
        with rasterio.open(item.band_path(band)) as src:
            to_src = Transformer.from_crs("EPSG:4326", src.crs, always_xy=True)
            row, col = src.index(*to_src.transform(lon, lat))
            samples.append(int(src.read(1, window=((row, row + 1), (col, col + 1)))[0, 0]))
    return float(np.median([s for s in samples if s != 0]))


def expected_rgb(lon: float, lat: float, vmin: float, vmax: float) -> np.ndarray:
    values = np.array([median_at(b, lon, lat) for b in ("B4", "B3", "B2")])
    return np.rint(np.clip((values - vmin) / (vmax - vmin), 0, 1) * 255)


def geemap_stretch(ee_api: Any, bounds: dict[str, float], sigma: float) -> tuple[float, float]:
    with warnings.catch_warnings():
        # bqscales (imported by geemap) sets traitlets metadata the deprecated way on import.
        warnings.simplefilter("ignore", DeprecationWarning)
        from geemap.ee_tile_layers import EELeafletTileLayer
    composite = (
        ee_api.ImageCollection("COPERNICUS/S2_SR_HARMONIZED").filterDate(START, END).median()
    )
    layer = EELeafletTileLayer(composite, {"bands": ["B4", "B3", "B2"], "min": 0, "max": 1})
    box = ee_api.Geometry.BBox(bounds["west"], bounds["south"], bounds["east"], bounds["north"])
    lo, hi = layer.calculate_vis_minmax(bounds=box, bands=["B4", "B3", "B2"], sigma=sigma)
    return float(lo), float(hi)


def start_table_import(ee_api: Any, server: Any) -> str:
    """An operation for the tasks panel: a table import, finished."""
    folder = server.area / f"uploads_map_{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    shutil.copy(BORDER, folder / BORDER.name)
    task = ee_api.data.startTableIngestion(
        ee_api.data.newTaskId()[0],
        {
            "name": f"projects/{server.project}/assets/map_page_{uuid.uuid4().hex[:8]}",
            "sources": [{"uris": [str(folder / BORDER.name)]}],
        },
    )
    deadline = time.monotonic() + 60
    while not (op := ee_api.data.getOperation(task["name"]))["done"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert op["metadata"]["state"] == "SUCCEEDED", op
    return str(op["name"])


def test_map_page_end_to_end(browser: Any, server: Any, ee_api: Any) -> None:
    tab = MapPage(browser, f"{server.base_url}/map")
    page = tab.page

    # Nothing without credentials: the page asks for a key first.
    assert page.is_visible("#signin")
    page.click("#add-button")
    assert "Sign in first" in tab.status()
    tab.sign_in(server.key_path)
    assert not page.is_visible("#signin")
    assert server.key["client_email"] in page.inner_text("#who")

    # The view centred on a source pixel's centre, where only one MGRS tile's items lie.
    lon, lat = pixel_centre(ITEM.band_path("B4"), 15.7, 45.55)
    items = select_items(START, END, lon, lat)
    assert len(items) >= 3 and all("33TWL" in i.id for i in items)
    page.evaluate(
        "([lat, lon, z]) => openeeMap.map.setView([lat, lon], z, {animate: false})",
        [lat, lon, ZOOM],
    )

    # The demo collection (the form's defaults) as a median layer; its tiles are drawn.
    assert page.input_value("#add-asset") == "COPERNICUS/S2_SR_HARMONIZED"
    assert page.input_value("#add-reducer") == "median"
    page.click("#add-button")
    tab.wait_layer()
    pixels = tab.map_pixels()
    drawn = np.any(pixels != MAP_BACKGROUND, axis=-1)
    assert drawn.mean() > 0.95, drawn.mean()
    assert pixels[drawn].std() > 5  # an image, not a flat colour
    vmin, vmax = float(page.input_value(".vis-min")), float(page.input_value(".vis-max"))
    assert [
        page.input_value(s)
        for s in (".vis-band >> nth=0", ".vis-band >> nth=1", ".vis-band >> nth=2")
    ] == ["B4", "B3", "B2"]
    np.testing.assert_allclose(tab.centre_pixel(), expected_rgb(lon, lat, vmin, vmax), atol=1)

    # A 1σ stretch over the view: geemap's numbers for the same view, and the tiles redrawn.
    page.click("li.layer details.vis summary")
    page.select_option("li.layer .vis-stretch", "sigma1")
    page.wait_for_function(
        f"document.querySelector('.vis-min').value !== '{page.input_value('.vis-min')}'"
    )
    tab.wait_layer()
    bounds = page.evaluate(
        "(() => { const b = openeeMap.map.getBounds();"
        " return {west: b.getWest(), south: b.getSouth(), east: b.getEast(), north: b.getNorth()}; })()"
    )
    lo, hi = float(page.input_value(".vis-min")), float(page.input_value(".vis-max"))
    np.testing.assert_allclose((lo, hi), geemap_stretch(ee_api, bounds, 1), rtol=1e-5)
    np.testing.assert_allclose(tab.centre_pixel(), expected_rgb(lon, lat, lo, hi), atol=1)

    # The inspector: a click at the map's centre gives the composite's values there.
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#inspector-out[data-state=ready]", timeout=30_000)
    out = page.locator("#inspector-out")
    clicked = float(out.get_attribute("data-lon")), float(out.get_attribute("data-lat"))
    assert abs(clicked[0] - lon) < 2e-4 and abs(clicked[1] - lat) < 2e-4
    for band in ("B2", "B3", "B4", "B8"):
        shown = page.inner_text(f"#inspector-out tr[data-band={band}] td.value")
        assert float(shown) == median_at(band, *clicked), band

    # The tasks panel lists the project's operations with their state.
    operation = start_table_import(ee_api, server)
    page.click("#tasks summary")
    page.wait_for_selector("#tasks[data-loaded]")
    row = page.locator(f"#tasks-table tr[data-name='{operation}']")
    assert "SUCCEEDED" in row.inner_text()

    # The share link reproduces the layer, its visualization and the view in a new tab.
    link = page.input_value("#share-link")
    assert link.startswith(f"{server.base_url}/map#s=")
    again = MapPage(browser, link)
    again.sign_in(server.key_path)
    again.wait_layer()
    assert float(again.page.input_value(".vis-min")) == lo
    assert again.page.evaluate("openeeMap.map.getZoom()") == ZOOM
    np.testing.assert_allclose(again.centre_pixel(), expected_rgb(lon, lat, lo, hi), atol=1)

    assert tab.errors == [] and again.errors == []


def test_map_page_config_and_files(server: Any) -> None:
    """The page's config says authentication is on; its own files are served and nothing else,
    whatever the path (sent unnormalized, as a hostile client would)."""
    import http.client

    import requests

    config = requests.get(f"{server.base_url}/map/config.json", timeout=10).json()
    assert config == {"authRequired": True, "defaultProject": server.project}
    leaflet = requests.get(f"{server.base_url}/map/vendor/leaflet/leaflet.js", timeout=10)
    assert leaflet.ok and leaflet.headers["content-type"].startswith("text/javascript")
    for path in (
        "/map/../../pyproject.toml",
        "/map/%2e%2e/%2e%2e/%2e%2e/README.md",
        "/map/..%2f..%2fapi%2fapp.py",
        "/map/%2e%2e/demo/data/README.md",
        "/map//etc/passwd",
        "/map/vendor/leaflet/SOURCE.md",
        "/map/nope.js",
    ):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", path)
        assert connection.getresponse().status == 404, path
        connection.close()


def test_map_page_without_auth_skips_sign_in(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`openee serve --no-auth` (loopback only): the page needs no key and browses the catalog."""
    with launch(tmp_path_factory.mktemp("map-noauth"), "--no-auth") as srv:
        tab = MapPage(browser, f"{srv.base_url}/map")
        tab.page.wait_for_selector("body[data-signed-in]", timeout=15_000)
        assert not tab.page.is_visible("#signin")
        tab.page.click("#assets summary")
        tab.page.click("#assets-list")
        tab.page.wait_for_selector("#assets-tree li >> text=COPERNICUS (folder)")
        tab.page.click("#assets-tree li > span")
        tab.page.wait_for_selector("#assets-tree li li >> text=S2_SR_HARMONIZED (image collection)")
        assert tab.errors == []
