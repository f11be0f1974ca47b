"""The pipelines the benchmark compares. Each one computes (or, for the floor, only decodes) the
median of B4/B3/B2 over the 5 images of 33TWL on one grid, and returns a (3, H, W) float array
with NaN where no image has data (the floor returns the number of pixels it decoded).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.warp
import rasterio.windows
from bench_common import BANDS, NODATA, STAC_ASSETS, Grid, expression, item_dirs, request_body
from pyproj import Transformer
from rasterio.enums import Resampling


def _overview_level(src: rasterio.io.DatasetReader, grid: Grid) -> int:
    """The overview whose resolution is the finest not finer than the output pixel (-1: full),
    with the output pixel measured area-equivalently at the grid centre in the source CRS."""
    factors = src.overviews(1)
    if not factors:
        return -1
    t = grid.transform
    col, row = grid.width / 2, grid.height / 2
    pts = [t * (col, row), t * (col + 1, row), t * (col, row + 1)]
    xs, ys = Transformer.from_crs(grid.crs, src.crs.to_string(), always_xy=True).transform(
        [p[0] for p in pts], [p[1] for p in pts]
    )
    out = math.sqrt(abs((xs[1] - xs[0]) * (ys[2] - ys[0]) - (ys[1] - ys[0]) * (xs[2] - xs[0])))
    native = math.sqrt(abs(src.transform.determinant))
    level = -1
    for i, factor in enumerate(factors):
        if factor * native <= out * (1 + 1e-9):
            level = i
    return level


def _open(path: Path, level: int) -> rasterio.io.DatasetReader:
    return rasterio.open(path, overview_level=level) if level >= 0 else rasterio.open(path)


def _source_window(src: rasterio.io.DatasetReader, grid: Grid) -> rasterio.windows.Window | None:
    """The window of `src` covering the grid's bounds carried into the source CRS."""
    left, bottom, right, top = rasterio.warp.transform_bounds(
        grid.crs, src.crs, *grid.bounds(), densify_pts=21
    )
    window = rasterio.windows.from_bounds(left, bottom, right, top, transform=src.transform)
    window = window.round_offsets(op="floor").round_lengths(op="ceil")
    try:
        return window.intersection(rasterio.windows.Window(0, 0, src.width, src.height))
    except rasterio.errors.WindowError:
        return None


def _map(pool: Executor, fn: Callable[[Path], Any], paths: Sequence[Path]) -> list[Any]:
    return list(pool.map(fn, paths))


def decode_floor(files: dict[str, list[Path]], grid: Grid, threads: int) -> int:
    """(a) Decode only the source windows the grid needs, at the matching overview; no warp."""

    def read(path: Path) -> int:
        with rasterio.open(path) as full:
            level = _overview_level(full, grid)
        with _open(path, level) as src:
            window = _source_window(src, grid)
            if window is None:
                return 0
            return int(src.read(1, window=window).size)

    paths = [p for band in BANDS for p in files[band]]
    with ThreadPoolExecutor(threads) as pool:
        return sum(_map(pool, read, paths))


def warp_nearest(path: Path, grid: Grid) -> np.ndarray:
    """One band file warped (nearest) onto the grid from the matching overview; 0 outside."""
    with rasterio.open(path) as full:
        level = _overview_level(full, grid)
    with _open(path, level) as src:
        dst = np.zeros(grid.shape, dtype=src.dtypes[0])
        rasterio.warp.reproject(
            rasterio.band(src, 1),
            dst,
            src_nodata=NODATA,
            dst_transform=grid.transform,
            dst_crs=grid.crs,
            dst_nodata=NODATA,
            resampling=Resampling.nearest,
        )
    return dst


def masked_median(stack: np.ndarray) -> np.ndarray:
    """Median over axis 0 skipping NODATA; NaN where nothing is valid.

    Sort-based (NaN sorts last; pick the middle of the valid count): np.nanmedian gives the same
    values but takes ~10x longer on a short axis (3.8 s vs 0.4 s for 5 x 2048 x 2048).
    """
    values = stack.astype(np.float32)
    values[stack == NODATA] = np.nan
    values.sort(axis=0)
    count = (stack != NODATA).sum(axis=0)
    n = np.maximum(count, 1)
    lo = np.take_along_axis(values, ((n - 1) // 2)[None], axis=0)[0]
    hi = np.take_along_axis(values, (n // 2)[None], axis=0)[0]
    return np.where(count > 0, (lo + hi) / 2, np.float32(np.nan))


def exact_nearest(path: Path, grid: Grid) -> np.ndarray:
    """The reference for agreement (untimed): each output pixel takes the source pixel that
    contains its centre, transformed exactly with pyproj; 0 where nothing is there.

    Earth Engine's (and openee's) nearest. GDAL's warper uses an approximate transformer
    (0.125 px) and picks a neighbouring source pixel for a few percent of pixels.
    """
    with rasterio.open(path) as full:
        level = _overview_level(full, grid)
    with _open(path, level) as src:
        data, inverse, crs = src.read(1), ~src.transform, src.crs.to_string()
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width] + 0.5
    t = grid.transform
    xs, ys = Transformer.from_crs(grid.crs, crs, always_xy=True).transform(
        t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f
    )
    c = np.floor(inverse.a * xs + inverse.b * ys + inverse.c)
    r = np.floor(inverse.d * xs + inverse.e * ys + inverse.f)
    inside = (c >= 0) & (r >= 0) & (c < data.shape[1]) & (r < data.shape[0])
    out = np.zeros(grid.shape, dtype=data.dtype)
    out[inside] = data[r[inside].astype(np.int64), c[inside].astype(np.int64)]
    return out


def exact_reference(files: dict[str, list[Path]], grid: Grid) -> np.ndarray:
    """(3, H, W) masked median of the exactly sampled bands; NaN where nothing is valid."""
    return np.stack(
        [masked_median(np.stack([exact_nearest(p, grid) for p in files[b]])) for b in BANDS]
    )


def rasterio_numpy(files: dict[str, list[Path]], grid: Grid, threads: int) -> np.ndarray:
    """(b) The naive independent pipeline: rasterio reproject (nearest) + numpy masked median."""
    with ThreadPoolExecutor(threads) as pool:
        warped = _map(pool, lambda p: warp_nearest(p, grid), [p for b in BANDS for p in files[b]])
    n = len(files[BANDS[0]])
    return np.stack(
        [masked_median(np.stack(warped[i * n : (i + 1) * n])) for i in range(len(BANDS))]
    )


def npy_to_stack(content: bytes) -> np.ndarray:
    """An openee NPY response (structured, one field per band, 0 where masked) as (3, H, W)."""
    arr = np.load(io.BytesIO(content), allow_pickle=False)
    return np.stack([arr[b].astype(np.float64) for b in BANDS])


class OpeneeInProcess:
    """(c) openee's own evaluator and compute_pixels, called in this process (no HTTP)."""

    def __init__(self, catalog_path: Path) -> None:
        from openee.algorithms import default_registry
        from openee.catalog.sqlite import SqliteCatalog
        from openee.settings import Settings

        self.catalog_path = catalog_path
        self.catalog = SqliteCatalog(catalog_path)
        self.registry = default_registry()
        self.settings = Settings()

    def content(
        self, grid: Grid, executor: Executor, point: tuple[float, float] | None = None
    ) -> bytes:
        from openee.algorithms.context import EvalContext, evaluation_context
        from openee.api.requests import pixels_request
        from openee.graph.evaluate import evaluate
        from openee.services.pixels import compute_pixels

        body = pixels_request(request_body(grid, with_expression=False))
        with evaluation_context(EvalContext(self.catalog, "bench")):
            image = evaluate(expression(*(point or ())), self.registry)
            result = compute_pixels(
                image, body, executor, self.settings.limits, self.settings.chunk_size
            )
        return result.content

    def __call__(
        self, grid: Grid, executor: Executor, point: tuple[float, float] | None = None
    ) -> np.ndarray:
        return npy_to_stack(self.content(grid, executor, point))

    def close(self) -> None:
        self.catalog.close()


class InlineExecutor(Executor):
    """Runs each submitted call at once in the calling thread (so a profiler sees it)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def stac_items(catalog_dir: Path) -> list[Any]:
    """The 5 STAC items of 33TWL with absolute asset hrefs."""
    import pystac

    items = []
    for folder in item_dirs(catalog_dir):
        item = pystac.Item.from_file(str(folder / f"{folder.name}.json"))
        for asset in item.assets.values():
            if "://" not in asset.href and not Path(asset.href).is_absolute():
                asset.href = str((folder / asset.href).resolve())
        items.append(item)
    return items


def odc_stac_xarray(items: list[Any], grid: Grid, threads: int, bottleneck: bool) -> np.ndarray:
    """(e) odc.stac.load onto exactly the grid (nearest), then xarray's median skipping nodata.

    `bottleneck`: whether xarray may use bottleneck's nanmedian (when installed, xarray's
    default) rather than numpy's nanmedian, which is ~20x slower on a short axis.
    """
    import odc.stac
    import xarray as xr
    from odc.geo.geobox import GeoBox

    # Local files with .aux.xml sidecars (the JPEG2000 files carry their CRS there): odc-stac's
    # default directory setting would hide them. Same GDAL setting as openee's reader.
    odc.stac.configure_rio(cloud_defaults=False, GDAL_DISABLE_READDIR_ON_OPEN="TRUE")
    geobox = GeoBox(grid.shape, grid.transform, grid.crs)
    assets = [STAC_ASSETS[b] for b in BANDS]
    ds = odc.stac.load(
        items, bands=assets, geobox=geobox, resampling="nearest", pool=threads, groupby="time"
    )
    with xr.set_options(use_bottleneck=bottleneck):
        median = ds.where(ds != NODATA).median("time", skipna=True)
        return np.stack([median[a].values for a in assets])


def agreement(reference: np.ndarray, other: np.ndarray) -> float:
    """Fraction of pixels where both agree (same mask; values within 0.5 where valid).

    `other` may mark masked pixels with NaN or with 0 (openee's NPY fills masked pixels with 0).
    """
    ref_valid = ~np.isnan(reference)
    other_valid = ~np.isnan(other) & (other != 0)
    same_mask = ref_valid == other_valid
    close = np.where(
        ref_valid & other_valid,
        np.abs(np.nan_to_num(reference) - np.nan_to_num(other)) <= 0.5,
        True,
    )
    return float((same_mask & close).mean())
