"""An independent reference ("oracle") for the e2e tests.

It reads the bundled demo STAC catalog with plain ``json`` (not through the server), selects
items itself (datetime in ``[start, end)``, footprint intersecting a point) and warps band files
with GDAL (``rasterio.warp.reproject``, nearest neighbour) onto a requested grid. A median over
the unmasked (non-zero) values per pixel is what ``ImageCollection.median()`` must produce.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rasterio
import rasterio.features
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_ROOT = (
    REPO_ROOT / "src" / "openee" / "demo" / "data" / "sentinel2" / "l2a_33TWL_33TWM_2023-08_120m"
)
COLLECTION_ID = "COPERNICUS/S2_SR_HARMONIZED"

# STAC asset key -> band name served by openee.
ASSET_TO_BAND = {"blue": "B2", "green": "B3", "red": "B4", "nir": "B8", "scl": "SCL"}
NODATA = 0


@dataclass(frozen=True)
class Item:
    """One STAC item of the demo catalog, as the oracle understands it."""

    id: str
    datetime: datetime
    footprint: BaseGeometry
    bands: dict[str, Path]

    @property
    def time_start_ms(self) -> int:
        return round(self.datetime.timestamp() * 1000)

    @property
    def image_id(self) -> str:
        return f"{COLLECTION_ID}/{self.id}"

    def band_path(self, band: str) -> Path:
        return self.bands[band]


@dataclass(frozen=True)
class Grid:
    """A pixel grid: CRS code, affine transform (GDAL/affine order), width and height."""

    crs: str
    transform: Affine
    width: int
    height: int

    @classmethod
    def centered(cls, crs: str, lon: float, lat: float, scale: float, width: int, height: int):
        ulx = lon - scale * width / 2
        uly = lat + scale * height / 2
        return cls(crs, Affine(scale, 0.0, ulx, 0.0, -scale, uly), width, height)

    def to_pixel_grid(self) -> dict:
        """The grid as an Earth Engine REST ``PixelGrid``."""
        t = self.transform
        return {
            "dimensions": {"width": self.width, "height": self.height},
            "affineTransform": {
                "scaleX": t.a,
                "shearX": t.b,
                "translateX": t.c,
                "shearY": t.d,
                "scaleY": t.e,
                "translateY": t.f,
            },
            "crsCode": self.crs,
        }

    @property
    def crs_transform(self) -> tuple[float, float, float, float, float, float]:
        t = self.transform
        return (t.a, t.b, t.c, t.d, t.e, t.f)


def _parse_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _parse_date(text: str) -> datetime:
    """'YYYY-MM-DD' (or a full ISO timestamp) -> aware UTC datetime, as ee.Date does."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@functools.cache
def load_items() -> tuple[Item, ...]:
    """All items of the demo catalog, following catalog -> collection -> item links."""
    catalog_path = DEMO_ROOT / "catalog.json"
    catalog = json.loads(catalog_path.read_text())
    items: list[Item] = []
    for link in catalog["links"]:
        if link["rel"] != "child":
            continue
        collection_path = (catalog_path.parent / link["href"]).resolve()
        collection = json.loads(collection_path.read_text())
        item_paths = [
            (collection_path.parent / lk["href"]).resolve()
            for lk in collection.get("links", [])
            if lk["rel"] == "item"
        ]
        if not item_paths:  # a collection without item links: items live in sub-folders
            item_paths = sorted(collection_path.parent.glob("*/*.json"))
        for item_path in item_paths:
            doc = json.loads(item_path.read_text())
            if doc.get("type") != "Feature":
                continue
            bands = {
                ASSET_TO_BAND[key]: (item_path.parent / asset["href"]).resolve()
                for key, asset in doc["assets"].items()
                if key in ASSET_TO_BAND
            }
            items.append(
                Item(
                    id=doc["id"],
                    datetime=_parse_datetime(doc["properties"]["datetime"]),
                    footprint=shape(doc["geometry"]),
                    bands=bands,
                )
            )
    items.sort(key=lambda it: (it.datetime, it.id))
    return tuple(items)


def select_items(start: str, end: str, lon: float, lat: float) -> list[Item]:
    """Items with ``start <= datetime < end`` whose footprint intersects the point."""
    t0, t1 = _parse_date(start), _parse_date(end)
    point = Point(lon, lat)
    return [it for it in load_items() if t0 <= it.datetime < t1 and it.footprint.intersects(point)]


@functools.cache
def _read_band(path: Path, overview_level: int = -1) -> tuple[np.ndarray, Affine, CRS]:
    kwargs = {"overview_level": overview_level} if overview_level >= 0 else {}
    with rasterio.open(path, **kwargs) as src:
        return src.read(1), src.transform, src.crs


def warp_band(path: Path, grid: Grid, overview_level: int = -1) -> np.ndarray:
    """Nearest neighbour onto ``grid`` by definition: each output pixel takes the source pixel
    that contains its centre (centres transformed exactly with pyproj); 0 marks no data.

    Deliberately not GDAL's warper: its approximate transformer (0.125 px) picks a neighbouring
    source pixel for a few percent of pixels, and differently for different windows.
    """
    data, src_transform, src_crs = _read_band(path, overview_level)
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    t = grid.transform
    xs = t.a * cols + t.b * rows + t.c
    ys = t.d * cols + t.e * rows + t.f
    sx, sy = Transformer.from_crs(grid.crs, src_crs.to_wkt(), always_xy=True).transform(xs, ys)
    inv = ~src_transform
    c = np.floor(inv.a * sx + inv.b * sy + inv.c)
    r = np.floor(inv.d * sx + inv.e * sy + inv.f)
    inside = (
        np.isfinite(c)
        & np.isfinite(r)
        & (c >= 0)
        & (r >= 0)
        & (c < data.shape[1])
        & (r < data.shape[0])
    )
    out = np.zeros((grid.height, grid.width), dtype=data.dtype)
    out[inside] = data[r[inside].astype(int), c[inside].astype(int)]
    return out


def masked_median(stack: np.ndarray) -> np.ndarray:
    """Median over axis 0 ignoring zeros; mean of the two middle values for even counts.

    Returns float64 with NaN where no input is valid. Written without ``np.nanmedian`` so that
    all-masked pixels do not raise a RuntimeWarning (warnings are errors in this project).
    """
    values = np.where(stack == NODATA, np.nan, stack.astype(np.float64))
    ordered = np.sort(values, axis=0)  # NaN sorts last
    count = np.sum(~np.isnan(values), axis=0)
    lo = np.clip((count - 1) // 2, 0, None)[None]
    hi = np.clip(count // 2, 0, stack.shape[0] - 1)[None]
    low = np.take_along_axis(ordered, lo, axis=0)[0]
    high = np.take_along_axis(ordered, hi, axis=0)[0]
    result = (low + high) / 2.0
    result[count == 0] = np.nan
    return result


def median_composite(items: list[Item], band: str, grid: Grid) -> np.ndarray:
    """The expected ``collection.median()`` band on ``grid`` (float64, NaN = masked)."""
    if not items:
        return np.full((grid.height, grid.width), np.nan)
    stack = np.stack([warp_band(it.band_path(band), grid) for it in items])
    return masked_median(stack)


def visualize(values: np.ndarray, vmin: float = 0.0, vmax: float = 3000.0) -> np.ndarray:
    """What a PNG channel must hold for ``visualizationOptions.ranges=[{min, max}]``."""
    scaled = (np.nan_to_num(values, nan=vmin) - vmin) / (vmax - vmin) * 255.0
    return np.round(np.clip(scaled, 0, 255)).astype(np.int32)


def coverage_weights(polygon: BaseGeometry, size: tuple[int, int], transform: Affine) -> np.ndarray:
    """Earth Engine's weights of the pixels of a region (guide "Weighted reductions"): the
    fraction of each pixel's square that the polygon (in the grid's CRS) covers, as an 8-bit
    level, floor(fraction * 255) / 255. Pixels that GDAL's all_touched rasterization leaves
    out are outside; of the others, the wholly contained weigh 1 and the rest are measured
    with shapely."""
    touched = rasterio.features.geometry_mask(
        [polygon], size, transform, invert=True, all_touched=True
    )
    rows, cols = np.nonzero(touched)
    x0 = transform.c + cols * transform.a
    y0 = transform.f + rows * transform.e
    boxes = shapely.box(x0, y0 + transform.e, x0 + transform.a, y0)
    shapely.prepare(polygon)
    whole = shapely.contains(polygon, boxes)
    fraction = np.zeros(size)
    fraction[rows[whole], cols[whole]] = 1.0
    cut = shapely.intersection(boxes[~whole], polygon)
    fraction[rows[~whole], cols[~whole]] = shapely.area(cut) / abs(transform.a * transform.e)
    return np.floor(fraction * 255 + 1e-6) / 255
