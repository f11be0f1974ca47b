"""Band recipes that interpolate point observations onto any grid: inverse-distance weighting
and ordinary kriging (FeatureCollection.inverseDistance and .kriging).

Distances are geodesic metres on the WGS84 ellipsoid (pyproj.Geod) between the pixel centres and
the points, so a pixel's value does not depend on which chunk of a request it falls in. Only the
(pixel, point) pairs closer than the search distance are measured: a k-d tree on Earth-centred
coordinates finds every pair whose straight-line (chord) distance is within it, a superset since
a chord is never longer than the geodesic.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.linalg
from pyproj import Geod, Transformer
from scipy.spatial import cKDTree

from openee.raster.grid import PixelGrid, pixel_lon_lat
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

GEOD = Geod(ellps="WGS84")
_TO_ECEF = Transformer.from_crs("EPSG:4326", "EPSG:4978", always_xy=True)

# Observations: (longitude, latitude, value) per point, one point per location.
Observations = tuple[tuple[float, float, float], ...]


def _ecef(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    x, y, z = _TO_ECEF.transform(lon, lat, np.zeros_like(lon))
    return np.column_stack([x, y, z])


@dataclass(frozen=True)
class PointSet:
    """Observations with their coordinates as arrays and a k-d tree of their positions."""

    points: Observations

    @cached_property
    def lon(self) -> np.ndarray:
        return np.array([p[0] for p in self.points], dtype=np.float64)

    @cached_property
    def lat(self) -> np.ndarray:
        return np.array([p[1] for p in self.points], dtype=np.float64)

    @cached_property
    def values(self) -> np.ndarray:
        return np.array([p[2] for p in self.points], dtype=np.float64)

    @cached_property
    def tree(self) -> cKDTree:
        return cKDTree(_ecef(self.lon, self.lat))

    def pairs(self, grid: PixelGrid, reach: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pixel index in C order, point index, geodesic metres) of every pair at most `reach`
        apart, sorted by pixel then point (so that sums run in the same order in any chunk)."""
        lon, lat = (v.ravel() for v in pixel_lon_lat(grid))
        found = cKDTree(_ecef(lon, lat)).sparse_distance_matrix(
            self.tree, reach * (1 + 1e-9) + 1e-3, output_type="ndarray"
        )
        pixel, point = found["i"].astype(np.int64), found["j"].astype(np.int64)
        _, _, metres = GEOD.inv(self.lon[point], self.lat[point], lon[pixel], lat[pixel])
        metres = np.asarray(metres, dtype=np.float64)
        keep = metres <= reach
        pixel, point, metres = pixel[keep], point[keep], metres[keep]
        order = np.lexsort((point, pixel))
        return pixel[order], point[order], metres[order]


@dataclass(frozen=True)
class InverseDistanceBand(BandSource):
    """Inverse-distance weighted estimate with a pull towards a global mean.

    For a pixel at distances d_i < radius from points with values v_i:
        w_i = ((radius - d_i) / (radius * d_i))**2          (Franke & Nielson's modified Shepard)
        w_0 = gamma / radius**2                             (the weight of the global mean)
        estimate = (sum_i w_i v_i + w_0 mean) / (sum_i w_i + w_0)
    A pixel on a point takes that point's value; a pixel with no point within radius is masked.
    """

    points: PointSet
    radius: float
    mean: float
    gamma: float

    dtype = np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        if not self.points.points:
            return Pixels.empty(grid.shape, self.dtype)
        size = grid.width * grid.height
        pixel, point, d = self.points.pairs(grid, self.radius)
        inside = d < self.radius
        pixel, point, d = pixel[inside], point[inside], d[inside]
        values = self.points.values[point]
        on_point = d == 0
        with np.errstate(divide="ignore"):
            w = np.where(on_point, 0.0, ((self.radius - d) / (self.radius * d)) ** 2)
        w0 = self.gamma / self.radius**2
        num = np.bincount(pixel, w * values, minlength=size) + w0 * self.mean
        den = np.bincount(pixel, w, minlength=size) + w0
        estimate = num / den
        hits = np.bincount(pixel, on_point, minlength=size)
        exact = np.bincount(pixel, np.where(on_point, values, 0.0), minlength=size)
        estimate = np.where(hits > 0, exact / np.maximum(hits, 1), estimate)
        valid = np.bincount(pixel, minlength=size) > 0
        return Pixels(np.where(valid, estimate, 0.0).reshape(grid.shape), valid.reshape(grid.shape))


def semivariance(
    shape: str, h: np.ndarray, radius: float, sill: float, nugget: float
) -> np.ndarray:
    """The semivariogram at lags h (metres): 0 at h = 0, else nugget + (sill - nugget) * f(h/a)
    with f(r) = 1.5 r - 0.5 r**3 (r < 1; 1 beyond) for 'spherical', 1 - exp(-3 r) for
    'exponential' and 1 - exp(-3 r**2) for 'gaussian' (practical ranges: f reaches 95% at a)."""
    r = np.asarray(h, dtype=np.float64) / radius
    if shape == "spherical":
        f = np.where(r < 1, 1.5 * r - 0.5 * r**3, 1.0)
    elif shape == "exponential":
        f = 1 - np.exp(-3 * r)
    else:
        f = 1 - np.exp(-3 * r**2)
    return np.where(r > 0, nugget + (sill - nugget) * f, 0.0)


@dataclass(frozen=True)
class KrigingBand(BandSource):
    """Ordinary kriging: at each pixel, the weights l_i of the points within max_distance solve
        sum_j g(d_ij) l_j + m = g(d_i0) for every i,   sum_j l_j = 1
    with g the semivariogram, d_ij the distances between points and d_i0 to the pixel; the
    estimate is sum_i l_i v_i. A pixel with no point within max_distance is masked."""

    points: PointSet
    shape: str
    radius: float
    sill: float
    nugget: float
    max_distance: float

    dtype = np.dtype(np.float64)

    def _gamma(self, h: np.ndarray) -> np.ndarray:
        return semivariance(self.shape, h, self.radius, self.sill, self.nugget)

    def _between(self, indices: np.ndarray) -> np.ndarray:
        """The semivariogram between every pair of the points at `indices`."""
        lon, lat = self.points.lon[indices], self.points.lat[indices]
        n = len(indices)
        _, _, d = GEOD.inv(np.repeat(lon, n), np.repeat(lat, n), np.tile(lon, n), np.tile(lat, n))
        return self._gamma(np.asarray(d).reshape(n, n))

    def read(self, grid: PixelGrid) -> Pixels:
        if not self.points.points:
            return Pixels.empty(grid.shape, self.dtype)
        size = grid.width * grid.height
        pixel, point, d = self.points.pairs(grid, self.max_distance)
        if pixel.size == 0:
            return Pixels.empty(grid.shape, self.dtype)
        estimate = np.zeros(size)
        # Pixels that see the same points share one kriging matrix: factor it once per set.
        starts = np.flatnonzero(np.r_[True, pixel[1:] != pixel[:-1]])
        groups: dict[bytes, list[int]] = {}
        for start, end in zip(starts, [*starts[1:], pixel.size], strict=True):
            groups.setdefault(point[start:end].tobytes(), []).append(int(start))
        for key, group_starts in groups.items():
            chosen = np.frombuffer(key, dtype=np.int64)
            n = chosen.size
            first = np.asarray(group_starts)
            system = np.ones((n + 1, n + 1))
            system[:n, :n] = self._between(chosen)
            system[n, n] = 0.0
            rhs = np.ones((n + 1, first.size))
            rhs[:n] = self._gamma(d[first[:, None] + np.arange(n)[None, :]]).T
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", scipy.linalg.LinAlgWarning)
                    weights = scipy.linalg.solve(system, rhs)
            except (np.linalg.LinAlgError, scipy.linalg.LinAlgWarning):
                # A singular system (e.g. a zero semivariogram): the least-squares weights.
                weights = scipy.linalg.lstsq(system, rhs)[0]
            estimate[pixel[first]] = self.points.values[chosen] @ weights[:n]
        valid = np.bincount(pixel, minlength=size) > 0
        return Pixels(np.where(valid, estimate, 0.0).reshape(grid.shape), valid.reshape(grid.shape))
