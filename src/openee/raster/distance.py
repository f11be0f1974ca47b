"""Distances on the request grid: to the nearest non-zero pixel (Image.distance,
fastDistanceTransform, directionalDistanceTransform) and cumulative cost from sources.

"Non-zero" pixels (the targets) are the unmasked pixels whose value is not 0. Each recipe reads
a halo of its documented search limit, so a target farther than that from a chunk is not seen:
the limit masks those pixels anyway, so distances are exact. Cumulative cost only follows paths
inside the halo (see CumulativeCostBand).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.halo import HaloBand, UnaryHaloBand, pixels_for_metres, shifted
from openee.raster.local import kernel_matrix, kernel_reach
from openee.raster.neighborhood import metres_per_pixel
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource
from openee.values.kernel import Kernel

# Metres per degree on Earth Engine's sphere (radius 6378137 m).
METRES_PER_DEGREE = 6378137.0 * math.pi / 180.0
# The kernels whose weights are a distance from the focus, and scipy's name of their metric.
DISTANCE_KERNELS = {"euclidean": "euclidean", "manhattan": "taxicab", "chebyshev": "chessboard"}
TRANSFORM_METRICS = {
    "squared_euclidean": "euclidean",
    "manhattan": "taxicab",
    "chebyshev": "chessboard",
}


def targets(p: Pixels) -> np.ndarray:
    return p.valid & (p.data != 0)


def pixel_distance(target: np.ndarray, metric: str) -> np.ndarray:
    """Distance in pixels from every cell to the nearest True cell of `target` (inf if none)."""
    if not target.any():
        return np.full(target.shape, np.inf)
    if metric == "euclidean":
        return np.asarray(ndimage.distance_transform_edt(~target), dtype=np.float64)
    return ndimage.distance_transform_cdt(~target, metric=metric).astype(np.float64)


@dataclass(frozen=True)
class KernelDistanceBand(UnaryHaloBand):
    """Image.distance: the distance to the nearest non-zero pixel, in the kernel's units and
    scaled by its magnitude, masked beyond the kernel's radius.

    For euclidean, manhattan and chebyshev kernels the distance is measured in that metric
    (masked where it exceeds the radius: a disc, a diamond, a square); for any other kernel it
    is the smallest weight of a kernel cell that holds a non-zero pixel.
    """

    kernel: Kernel
    skip_masked: bool = True

    dtype = np.dtype(np.float64)

    def _radius_px(self, grid: PixelGrid) -> float:
        k = self.kernel
        return k.radius / metres_per_pixel(grid) if k.units == "meters" else k.radius

    def _metric(self) -> str | None:
        k = self.kernel
        plain = not k.normalize and not k.operands
        return DISTANCE_KERNELS.get(k.kind) if plain else None

    def halo(self, grid: PixelGrid) -> int:
        if self._metric() is not None:
            return math.ceil(self._radius_px(grid))
        return kernel_reach(kernel_matrix(self.kernel, grid))

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        (p,) = layers
        target = targets(p)
        metric = self._metric()
        if metric is not None:
            px = pixel_distance(target, metric)
            unit = metres_per_pixel(outer) if self.kernel.units == "meters" else 1.0
            dist = px * unit * self.kernel.magnitude
            valid = px <= self._radius_px(outer) + 1e-9
        else:
            m = kernel_matrix(self.kernel, outer)
            w = m.array()
            dist = np.full(target.shape, np.inf)
            for r, c in zip(*np.nonzero(w), strict=True):
                hit = shifted(target, int(r) - m.y, int(c) - m.x, False)
                dist = np.where(hit, np.minimum(dist, w[r, c]), dist)
            valid = np.isfinite(dist)
        if self.skip_masked:
            valid &= p.valid
        return Pixels(np.where(valid, dist, 0.0), valid)


@dataclass(frozen=True)
class DistanceTransformBand(UnaryHaloBand):
    """fastDistanceTransform: the distance in pixels to the nearest non-zero pixel (squared for
    'squared_euclidean'), for every pixel whatever its mask, masked where none lies within
    `neighborhood` pixels (in the chosen metric)."""

    neighborhood: int
    metric: str

    def __post_init__(self) -> None:
        if self.metric not in TRANSFORM_METRICS:
            raise InvalidArgumentError(
                f"Unknown metric '{self.metric}': use one of {', '.join(TRANSFORM_METRICS)}."
            )
        if self.neighborhood < 0:
            raise InvalidArgumentError("The neighborhood must not be negative.")

    dtype = np.dtype(np.float64)

    def halo(self, grid: PixelGrid) -> int:
        return self.neighborhood

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        (p,) = layers
        px = pixel_distance(targets(p), TRANSFORM_METRICS[self.metric])
        valid = px <= self.neighborhood
        out = px * px if self.metric == "squared_euclidean" else px
        return Pixels(np.where(valid, out, 0.0), valid)


@dataclass(frozen=True)
class DirectionalDistanceBand(HaloBand):
    """directionalDistanceTransform: walking from each pixel towards `angle` (degrees
    counter-clockwise from east), the distance in pixels to the first non-zero pixel of
    `source`, up to `max_distance` steps; 0 on non-zero pixels; masked where none is met.

    With `value` set, the recipe gives that band's value at the pixel met instead."""

    source: BandSource
    angle: float
    max_distance: int
    value: BandSource | None = None

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype if self.value is not None else np.dtype(np.float64)

    def inputs(self) -> tuple[BandSource, ...]:
        return (self.source,) if self.value is None else (self.source, self.value)

    def halo(self, grid: PixelGrid) -> int:
        return self.max_distance

    def steps(self) -> list[tuple[int, int]]:
        """(row, column) offsets of the walk, nearest first, each cell once."""
        a = math.radians(self.angle)
        out: list[tuple[int, int]] = []
        for k in range(self.max_distance + 1):
            step = (round(-k * math.sin(a)), round(k * math.cos(a)))
            if step not in out:
                out.append(step)
        return out

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        target = targets(layers[0])
        found = np.zeros(target.shape, dtype=bool)
        dist = np.zeros(target.shape)
        value = np.zeros(target.shape, dtype=self.dtype)
        value_ok = np.zeros(target.shape, dtype=bool)
        for dr, dc in self.steps():
            hit = shifted(target, dr, dc, False) & ~found
            dist[hit] = math.hypot(dr, dc)
            if self.value is not None:
                v = layers[1]
                value[hit] = shifted(v.data, dr, dc)[hit]
                value_ok[hit] = shifted(v.valid, dr, dc, False)[hit]
            found |= hit
        if self.value is not None:
            return Pixels(value, value_ok)
        return Pixels(dist, found)


@dataclass(frozen=True)
class CumulativeCostBand(HaloBand):
    """cumulativeCost: the least accumulated cost from a source pixel (non-zero `source`) to
    each pixel, moving between 8-connected pixel centres; a step costs its length in metres
    times the mean cost of its two pixels. Masked cost pixels cannot be crossed; pixels farther
    than `max_distance` metres from every source are masked.

    Approximate: only paths inside the chunk grown by `max_distance` are considered; a cheaper
    detour leaving that window is missed (rare: it would be longer than max_distance).
    With `geodetic`, east-west steps on a geographic grid shrink with the cosine of latitude.
    """

    cost: BandSource
    source: BandSource
    max_distance: float
    geodetic: bool = True

    dtype = np.dtype(np.float64)

    def inputs(self) -> tuple[BandSource, ...]:
        return (self.cost, self.source)

    def halo(self, grid: PixelGrid) -> int:
        return pixels_for_metres(grid, self.max_distance) + 1

    def _step_lengths(self, grid: PixelGrid) -> tuple[np.ndarray, float]:
        """Metres of an east-west step on each row, and of a north-south step."""
        t = grid.transform
        if grid.pyproj_crs.is_geographic:
            dy = abs(t.e) * METRES_PER_DEGREE
            dx = np.full(grid.height, abs(t.a) * METRES_PER_DEGREE)
            if self.geodetic:
                lat = t.f + t.e * (np.arange(grid.height) + 0.5)
                dx = dx * np.cos(np.radians(lat))
            return dx, dy
        scale = metres_per_pixel(grid)
        return np.full(grid.height, abs(t.a) / abs(t.e) * scale if t.e else scale), scale

    def compute(self, layers: list[Pixels], outer: PixelGrid, halo: int) -> Pixels:
        cost, source = layers
        h, w = cost.data.shape
        c = cost.data.astype(np.float64)
        ok = cost.valid & np.isfinite(c) & (c >= 0)
        start = targets(source) & ok
        if not start.any():
            return Pixels(np.zeros((h, w)), np.zeros((h, w), dtype=bool))
        dx, dy = self._step_lengths(outer)
        index = np.arange(h * w).reshape(h, w)
        rows, cols, weights = [], [], []
        for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
            a = (slice(0, h - dr), slice(max(0, -dc), w - max(0, dc)))
            b = (slice(dr, h), slice(max(0, dc), w - max(0, -dc)))
            both = ok[a] & ok[b]
            row_dx = (dx[: h - dr] + dx[dr:]) / 2 if dr else dx
            length = np.hypot(dc * row_dx, dr * dy)[:, None] * np.ones((1, both.shape[1]))
            step = length * (c[a] + c[b]) / 2
            rows.append(index[a][both])
            cols.append(index[b][both])
            weights.append(step[both])
        graph = coo_matrix(
            (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
            shape=(h * w, h * w),
        ).tocsr()
        # Zero-cost steps would vanish from a sparse graph; they stay as tiny positive weights.
        graph.data = np.maximum(graph.data, 1e-300)
        best = dijkstra(graph, directed=False, indices=np.flatnonzero(start), min_only=True)
        total = np.asarray(best).reshape(h, w)
        reach = ndimage.distance_transform_edt(~start, sampling=(dy, float(dx.mean())))
        valid = ok & np.isfinite(total) & (reach <= self.max_distance)
        return Pixels(np.where(valid, total, 0.0), valid)
