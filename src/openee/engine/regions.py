"""Pixels inside a region: the engine of Image.reduceRegion(s), sample and sampleRegions.

A region is a geometry laid on the pixel grid of a projection. A pixel belongs to it when its
centre falls inside a polygon (Earth Engine's rule for unweighted reducers); points and lines
take the pixels they touch. A weighted region (for weighted reducers, docs/decisions/0054) also
takes the pixels the polygon partly covers, each with its covered fraction.
Pixels are read with `compute.chunks.materialize` on strips of the region's bounding grid (so the
server's thread pool or Dask cluster runs the reads), and only the pixels inside are kept. Strips
without a pixel inside are never read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import rasterio.features
import shapely
import shapely.affinity
from affine import Affine
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from openee.engine.chunks import materialize
from openee.engine.executors import ChunkExecutor
from openee.errors import InvalidArgumentError
from openee.raster.arrays import check_arrays, flat_values
from openee.raster.coverage import coverage
from openee.raster.grid import PixelGrid
from openee.raster.image import DEFAULT_PROJECTION, Image
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource
from openee.values import geometry_space
from openee.values.geometry import WGS84, Geometry
from openee.values.projection import Projection

# A bounding grid up to this many pixels is counted exactly before reading; a larger one is
# estimated from the region's area (it is then far beyond any sensible maxPixels).
EXACT_COUNT_LIMIT = 100_000_000
# The most pixels of one strip read at once (per band).
STRIP_PIXELS = 4_000_000


class TooManyPixelsError(InvalidArgumentError):
    """More pixels in a region than maxPixels allows (Earth Engine's wording)."""

    def __init__(self, found: int, allowed: int) -> None:
        super().__init__(
            f"Too many pixels in the region. Found {found}, but maxPixels allows only {allowed}."
        )


class InlineExecutor:
    """Runs each chunk at once in the calling thread (when no executor is configured)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to whoever calls result(), as a pool would
            future.set_exception(exc)
        return future


def analysis_projection(
    image: Image,
    scale: float | None,
    crs: Projection | None,
    crs_transform: Sequence[float] | None,
) -> Projection:
    """The projection a region is reduced in, as Earth Engine chooses it.

    `crs` (default: the first band's projection; WGS84 at 1 degree for a composite), with its
    transform replaced by `crs_transform`, or rescaled to `scale` metres.
    """
    if scale is not None and crs_transform is not None:
        raise InvalidArgumentError("Cannot specify both crsTransform and scale.")
    base = crs
    if base is None:
        first = image.bands[0].projection if image.bands else None
        base = first or DEFAULT_PROJECTION
    if crs_transform is not None:
        return Projection.of(base.crs, list(crs_transform))
    if scale is not None:
        if not scale > 0 or not math.isfinite(scale):
            raise InvalidArgumentError(f"Scale must be positive, got {scale}.")
        return base.at_scale(scale)
    return base


def coarser(projection: Projection, factor: float) -> Projection:
    """The same projection with pixels `factor` times larger (same origin)."""
    a, b, c, d, e, f = projection.transform
    return Projection(projection.crs, (a * factor, b * factor, c, d * factor, e * factor, f))


@dataclass(frozen=True)
class Region:
    """A geometry on the pixel grid of a projection: `shape` is the geometry in the projection's
    CRS, and `col0, row0, width, height` its bounding window of whole pixels. A `weighted`
    region also holds the pixels it partly covers (their centres may be outside)."""

    projection: Projection
    shape: BaseGeometry
    col0: int
    row0: int
    width: int
    height: int
    weighted: bool = False

    @classmethod
    def of(cls, geometry: Geometry, projection: Projection, weighted: bool = False) -> Region:
        in_crs = geometry_space.in_crs(geometry, projection.crs)
        if in_crs.is_empty:
            return cls(projection, in_crs, 0, 0, 0, 0, weighted)
        to_pixels = ~Affine(*projection.transform)
        matrix = [to_pixels.a, to_pixels.b, to_pixels.d, to_pixels.e, to_pixels.c, to_pixels.f]
        xmin, ymin, xmax, ymax = shapely.affinity.affine_transform(in_crs, matrix).bounds
        if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
            raise InvalidArgumentError("The region cannot be expressed in the projection.")
        col0, row0 = math.floor(xmin), math.floor(ymin)
        col1 = max(math.ceil(xmax), col0 + 1)
        row1 = max(math.ceil(ymax), row0 + 1)
        return cls(projection, in_crs, col0, row0, col1 - col0, row1 - row0, weighted)

    @property
    def empty(self) -> bool:
        return self.width == 0 or self.height == 0

    def grid(self) -> PixelGrid:
        origin = Affine(*self.projection.transform) @ Affine.translation(self.col0, self.row0)
        return PixelGrid(self.projection.crs, origin, self.width, self.height)

    def mask(self, row: int, col: int, height: int, width: int) -> np.ndarray:
        """Which pixels of the window [row, row+height) x [col, col+width) of the bounding
        grid are in the region."""
        if self.empty:
            return np.zeros((height, width), dtype=bool)
        burned = rasterio.features.rasterize(
            [(self.shape, 1)],
            out_shape=(height, width),
            transform=self._window(row, col),
            fill=0,
            dtype="uint8",
        )
        return burned.astype(bool)

    def coverage(self, row: int, col: int, height: int, width: int) -> np.ndarray:
        """The fraction of each pixel of the window that the region covers, as Earth Engine's
        8-bit weights; points and lines weigh 1 where they touch."""
        if self.empty:
            return np.zeros((height, width), dtype=np.float64)
        return coverage(self.shape, self._window(row, col), height, width)

    def _window(self, row: int, col: int) -> Affine:
        return Affine(*self.projection.transform) @ Affine.translation(
            self.col0 + col, self.row0 + row
        )

    def strips(self) -> Iterator[Strip]:
        """Horizontal strips of the bounding grid, top to bottom."""
        if self.empty:
            return
        rows = max(1, min(self.height, STRIP_PIXELS // self.width))
        for row in range(0, self.height, rows):
            height = min(rows, self.height - row)
            inside = self.mask(row, 0, height, self.width)
            cover = self.coverage(row, 0, height, self.width) if self.weighted else None
            yield Strip(row, inside, cover)

    def count(self) -> int:
        """How many pixels are in the region: exact for a bounding grid that can be rasterized,
        else estimated from the area."""
        if self.empty:
            return 0
        if self.width * self.height <= EXACT_COUNT_LIMIT:
            return sum(int(strip.selected.sum()) for strip in self.strips())
        if self.shape.geom_type in ("Polygon", "MultiPolygon", "GeometryCollection"):
            return round(self.shape.area / abs(Affine(*self.projection.transform).determinant))
        return self.width * self.height


@dataclass(frozen=True)
class Strip:
    """Rows of a region's bounding grid from `row` on: which pixels have their centre inside,
    and (weighted regions) the fraction of each that the region covers."""

    row: int
    inside: np.ndarray
    cover: np.ndarray | None

    @property
    def selected(self) -> np.ndarray:
        """The pixels of the region: centre inside, or (weighted) partly covered."""
        return self.inside if self.cover is None else self.inside | (self.cover > 0)


def fit_region(
    geometry: Geometry,
    projection: Projection,
    max_pixels: int | None,
    best_effort: bool,
    weighted: bool = False,
) -> Region:
    """The region on `projection`; with more than `max_pixels` pixels, a coarser projection
    (each step doubles the pixel size) if `best_effort`, else Earth Engine's error. A weighted
    region counts the pixels it partly covers too."""
    region = Region.of(geometry, projection, weighted)
    if max_pixels is None:
        return region
    found = region.count()
    while found > max_pixels:
        if not best_effort:
            raise TooManyPixelsError(found, max_pixels)
        projection = coarser(projection, 2.0)
        region = Region.of(geometry, projection, weighted)
        found = region.count()
    return region


@dataclass(frozen=True)
class Gathered:
    """The region's pixels, in row-major order: per band their values, validity and mask
    weight (None: every valid pixel weighs 1), and each pixel's (column, row) in the
    projection's pixel coordinates. A weighted region's pixels also say whether their centre
    is `inside` and which fraction of them the region covers (`cover`); None: every pixel has
    its centre inside and weighs 1."""

    values: list[np.ndarray]
    valid: list[np.ndarray]
    cols: np.ndarray
    rows: np.ndarray
    weights: list[np.ndarray | None] = field(default_factory=list)
    inside: np.ndarray | None = None
    cover: np.ndarray | None = None

    def centres(self, projection: Projection, crs: str = WGS84) -> tuple[np.ndarray, np.ndarray]:
        """The pixel centres in `crs` (x, y)."""
        t = Affine(*projection.transform)
        cx, cy = self.cols + 0.5, self.rows + 0.5
        xs = t.a * cx + t.b * cy + t.c
        ys = t.d * cx + t.e * cy + t.f
        if crs != projection.crs:
            xs, ys = Transformer.from_crs(projection.crs, crs, always_xy=True).transform(xs, ys)
        return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)


Selector = Callable[[np.ndarray], np.ndarray]


def gather(
    sources: Sequence[BandSource],
    region: Region,
    executor: ChunkExecutor | None,
    chunk_size: int,
    select: Selector | None = None,
) -> Gathered:
    """Read the pixels of every band inside the region.

    `select` may narrow each strip's mask further (sampling); it sees the strips in order.
    """
    run = executor if executor is not None else InlineExecutor()
    check_arrays(sources)
    values: list[list[np.ndarray]] = [[] for _ in sources]
    valid: list[list[np.ndarray]] = [[] for _ in sources]
    weights: list[list[np.ndarray | None]] = [[] for _ in sources]
    cols: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    inside: list[np.ndarray] = []
    cover: list[np.ndarray] = []
    grid = region.grid() if not region.empty else None
    for strip in region.strips():
        row, mask = strip.row, strip.selected
        if select is not None:
            mask = select(mask)
        if grid is None or not mask.any():
            continue
        used_rows = np.flatnonzero(mask.any(axis=1))
        used_cols = np.flatnonzero(mask.any(axis=0))
        r0, r1 = int(used_rows[0]), int(used_rows[-1]) + 1
        c0, c1 = int(used_cols[0]), int(used_cols[-1]) + 1
        window = mask[r0:r1, c0:c1]
        sub = grid.subgrid(row + r0, c0, r1 - r0, c1 - c0)
        pixels = materialize(list(sources), sub, run, chunk_size) if sources else []
        for i, p in enumerate(pixels):
            values[i].append(p.data[window] if not p.rank else _nested(p, window))
            valid[i].append(p.valid[window])
            weights[i].append(p.weight[window] if p.weight is not None else None)
        if strip.cover is not None:
            inside.append(strip.inside[r0:r1, c0:c1][window])
            cover.append(strip.cover[r0:r1, c0:c1][window])
        rr, cc = np.nonzero(window)
        rows.append(rr + region.row0 + row + r0)
        cols.append(cc + region.col0 + c0)

    def joined(parts: list[np.ndarray], dtype: np.dtype) -> np.ndarray:
        if any(part.dtype == object for part in parts):
            return np.concatenate(parts)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    return Gathered(
        values=[joined(v, s.dtype) for v, s in zip(values, sources, strict=True)],
        valid=[joined(v, np.dtype(bool)) for v in valid],
        cols=joined(cols, np.dtype(np.int64)),
        rows=joined(rows, np.dtype(np.int64)),
        weights=[_joined_weights(w, v) for w, v in zip(weights, valid, strict=True)],
        inside=joined(inside, np.dtype(bool)) if region.weighted else None,
        cover=joined(cover, np.dtype(np.float64)) if region.weighted else None,
    )


def _joined_weights(parts: list[np.ndarray | None], valid: list[np.ndarray]) -> np.ndarray | None:
    """A band's mask weights over the gathered strips (1 where a strip has none)."""
    if all(part is None for part in parts):
        return None
    return np.concatenate(
        [
            part if part is not None else np.ones(v.shape, dtype=np.float32)
            for part, v in zip(parts, valid, strict=True)
        ]
    )


def _nested(p: Pixels, window: np.ndarray) -> np.ndarray:
    """Array pixels as an object array of nested lists (padding left out), one per pixel."""
    values = flat_values(p, window)
    out = np.empty(len(values), dtype=object)
    for k, v in enumerate(values):
        out[k] = v
    return out


def image_region(image: Image, geometry: Geometry | None, what: str) -> Geometry:
    """The region to reduce: the given geometry, else the image's footprint."""
    if geometry is not None:
        return geometry
    if image.footprint_geometry is None:
        raise InvalidArgumentError(
            f"Provide '{what}' parameter when aggregating over an unbounded image."
        )
    return image.footprint_geometry
