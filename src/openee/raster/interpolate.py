"""Band recipes that interpolate point observations onto any grid: inverse-distance weighting
and ordinary kriging (FeatureCollection.inverseDistance and .kriging).

Distances are geodesic metres on the WGS84 ellipsoid (pyproj.Geod) between the pixel centres and
the points, so a pixel's value does not depend on which chunk of a request it falls in.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.linalg
from pyproj import Geod, Transformer

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource

GEOD = Geod(ellps="WGS84")

# Observations: (longitude, latitude, value) per point, one point per location.
Observations = tuple[tuple[float, float, float], ...]


def _pixel_lonlat(grid: PixelGrid) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width].astype(np.float64) + 0.5
    t = grid.transform
    x, y = t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f
    lon, lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(x, y)
    return np.asarray(lon).ravel(), np.asarray(lat).ravel()


def distances_to_points(grid: PixelGrid, points: Observations) -> np.ndarray:
    """Geodesic metres from every pixel centre (rows, in C order) to every point (columns)."""
    lon, lat = _pixel_lonlat(grid)
    out = np.empty((lon.size, len(points)), dtype=np.float64)
    for j, (plon, plat, _) in enumerate(points):
        _, _, out[:, j] = GEOD.inv(np.full_like(lon, plon), np.full_like(lat, plat), lon, lat)
    return out


@dataclass(frozen=True)
class InverseDistanceBand(BandSource):
    """Inverse-distance weighted estimate with a pull towards a global mean.

    For a pixel at distances d_i < radius from points with values v_i:
        w_i = ((radius - d_i) / (radius * d_i))**2          (Franke & Nielson's modified Shepard)
        w_0 = gamma / radius**2                             (the weight of the global mean)
        estimate = (sum_i w_i v_i + w_0 mean) / (sum_i w_i + w_0)
    A pixel on a point takes that point's value; a pixel with no point within radius is masked.
    """

    points: Observations
    radius: float
    mean: float
    gamma: float

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64)

    def read(self, grid: PixelGrid) -> Pixels:
        if not self.points:
            return Pixels.empty(grid.shape, self.dtype)
        d = distances_to_points(grid, self.points)
        values = np.array([v for _, _, v in self.points])
        near = d < self.radius
        on_point = d == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(near & ~on_point, ((self.radius - d) / (self.radius * d)) ** 2, 0.0)
        w0 = self.gamma / self.radius**2
        estimate = (w @ values + w0 * self.mean) / (w.sum(axis=1) + w0)
        hits = on_point.sum(axis=1)
        exact = np.divide(on_point @ values, hits, out=np.zeros_like(estimate), where=hits > 0)
        estimate = np.where(hits > 0, exact, estimate)
        valid = near.any(axis=1)
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

    points: Observations
    shape: str
    radius: float
    sill: float
    nugget: float
    max_distance: float

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64)

    def _gamma(self, h: np.ndarray) -> np.ndarray:
        return semivariance(self.shape, h, self.radius, self.sill, self.nugget)

    @cached_property
    def _between_points(self) -> np.ndarray:
        lon = np.array([p[0] for p in self.points])
        lat = np.array([p[1] for p in self.points])
        n = len(self.points)
        _, _, d = GEOD.inv(np.repeat(lon, n), np.repeat(lat, n), np.tile(lon, n), np.tile(lat, n))
        return self._gamma(np.asarray(d).reshape(n, n))

    def read(self, grid: PixelGrid) -> Pixels:
        if not self.points:
            return Pixels.empty(grid.shape, self.dtype)
        d = distances_to_points(grid, self.points)
        values = np.array([v for _, _, v in self.points])
        near = d <= self.max_distance
        estimate = np.zeros(d.shape[0])
        # Pixels that see the same points share one kriging matrix: factor it once per set.
        subsets, which = np.unique(near, axis=0, return_inverse=True)
        for k, subset in enumerate(subsets):
            chosen = np.flatnonzero(subset)
            if chosen.size == 0:
                continue
            pixels = np.flatnonzero(which.ravel() == k)
            n = chosen.size
            system = np.ones((n + 1, n + 1))
            system[:n, :n] = self._between_points[np.ix_(chosen, chosen)]
            system[n, n] = 0.0
            rhs = np.ones((n + 1, pixels.size))
            rhs[:n] = self._gamma(d[np.ix_(pixels, chosen)]).T
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", scipy.linalg.LinAlgWarning)
                    weights = scipy.linalg.solve(system, rhs)
            except (np.linalg.LinAlgError, scipy.linalg.LinAlgWarning):
                # A singular system (e.g. a zero semivariogram): the least-squares weights.
                weights = scipy.linalg.lstsq(system, rhs)[0]
            estimate[pixels] = values[chosen] @ weights[:n]
        valid = near.any(axis=1)
        return Pixels(np.where(valid, estimate, 0.0).reshape(grid.shape), valid.reshape(grid.shape))
