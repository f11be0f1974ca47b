"""PixelGrid: where output pixels are. The one place that converts between Earth Engine's
`dimensions {width, height}` and numpy's `(height, width)`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import CRS, Transformer

from openee.errors import InvalidArgumentError
from openee.values.projection import parse_crs


@dataclass(frozen=True)
class PixelGrid:
    """A raster grid: CRS (as 'EPSG:n' or WKT), affine pixel-to-CRS transform, and size."""

    crs: str
    transform: Affine
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise InvalidArgumentError(
                f"Grid dimensions must be positive, got width={self.width}, height={self.height}."
            )
        if abs(self.transform.determinant) == 0 or not all(
            math.isfinite(v) for v in self.transform[:6]
        ):
            raise InvalidArgumentError("The grid's affine transform is degenerate.")

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def pyproj_crs(self) -> CRS:
        return parse_crs(self.crs)

    def subgrid(self, row: int, col: int, height: int, width: int) -> PixelGrid:
        """The grid of the pixels [row, row+height) x [col, col+width)."""
        return PixelGrid(self.crs, self.transform @ Affine.translation(col, row), width, height)

    def chunks(self, size: int) -> Iterator[tuple[int, int, PixelGrid]]:
        """Row-major chunks of at most size x size pixels: (row, col, subgrid)."""
        for row in range(0, self.height, size):
            for col in range(0, self.width, size):
                h = min(size, self.height - row)
                w = min(size, self.width - col)
                yield row, col, self.subgrid(row, col, h, w)

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in the grid's CRS, over the four corners."""
        corners = [
            self.transform @ (0, 0),
            self.transform @ (self.width, 0),
            self.transform @ (0, self.height),
            self.transform @ (self.width, self.height),
        ]
        xs = [c[0] for c in corners]
        ys = [c[1] for c in corners]
        return min(xs), min(ys), max(xs), max(ys)


WIRE_AFFINE_KEYS = ("scaleX", "shearX", "translateX", "shearY", "scaleY", "translateY")


def pixel_centres(grid: PixelGrid) -> tuple[np.ndarray, np.ndarray]:
    """The CRS coordinates of every pixel centre of `grid`, as (x, y) arrays of its shape."""
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width].astype(np.float64) + 0.5
    t = grid.transform
    return t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f


def pixel_lon_lat(grid: PixelGrid) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of every pixel centre of `grid`, as arrays of its shape."""
    x, y = pixel_centres(grid)
    if grid.crs != "EPSG:4326":
        x, y = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(x, y)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def affine_to_wire(transform: Affine | tuple[float, ...]) -> dict[str, float]:
    """An affine transform as the wire's AffineTransform object."""
    return dict(zip(WIRE_AFFINE_KEYS, tuple(transform)[:6], strict=True))


# Half the side of the Web Mercator square, in meters.
MERCATOR_HALF_SIDE = math.pi * 6378137.0


def web_mercator_tile_grid(zoom: int, x: int, y: int, size: int = 256) -> PixelGrid:
    """The grid of Web Mercator (EPSG:3857) tile (x, y) at `zoom`, y counted from the top:
    the grid of map tiles and of map exports."""
    side = 2 * MERCATOR_HALF_SIDE / (1 << zoom)
    transform = Affine(
        side / size,
        0,
        -MERCATOR_HALF_SIDE + x * side,
        0,
        -side / size,
        MERCATOR_HALF_SIDE - y * side,
    )
    return PixelGrid("EPSG:3857", transform, size, size)
