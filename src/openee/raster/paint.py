"""Recipes that draw vectors into a band (Image.paint) or move a band (Image.translate)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import rasterio.features
import shapely.geometry
from affine import Affine
from pyproj import Transformer

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource
from openee.values.geometry import Geometry


@dataclass(frozen=True)
class Stroke:
    """One feature to paint: GeoJSON text in `crs`, its value, and its outline width in pixels
    (None: the interior is filled)."""

    geometry: str
    crs: str
    value: float
    width: float | None


@dataclass(frozen=True)
class PaintedBand(BandSource):
    """`input` with the strokes burned in, in order (later strokes on top). A filled polygon
    covers the pixels whose centres it contains; an outline covers the pixels whose centres lie
    within width / 2 pixels of the geometry's boundary (a line's or point's own shape). Painted
    pixels are unmasked."""

    input: BandSource
    strokes: tuple[Stroke, ...]
    dtype_name: str

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.dtype_name)

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        data = base.data.astype(self.dtype)
        valid = base.valid.copy()
        pixel = abs(grid.transform.a)
        for stroke in self.strokes:
            shape = Geometry(shapely.geometry.shape(json.loads(stroke.geometry)), stroke.crs)
            in_grid = shape.transformed(grid.crs)
            if stroke.width is not None:
                edge = in_grid.boundary if in_grid.geom_type.endswith("Polygon") else in_grid
                in_grid = edge.buffer(stroke.width * pixel / 2)
            if in_grid.is_empty:
                continue
            burned = rasterio.features.geometry_mask(
                [in_grid], out_shape=grid.shape, transform=grid.transform, invert=True
            )
            data[burned] = stroke.value
            valid |= burned
        return Pixels(data, valid)


@dataclass(frozen=True)
class TranslatedBand(BandSource):
    """`input` moved by (dx, dy) in the units of `crs` (east and north): each pixel takes the
    input's value at its position minus the shift. On a grid of another CRS, the shift is the
    one the vector has at the grid's centre."""

    input: BandSource
    dx: float
    dy: float
    crs: str

    reads_other_grid = True

    @property
    def dtype(self) -> np.dtype:
        return self.input.dtype

    def read(self, grid: PixelGrid) -> Pixels:
        sx, sy = self.dx, self.dy
        if grid.crs != self.crs:
            cx, cy = grid.transform * (grid.width / 2, grid.height / 2)
            to = Transformer.from_crs(grid.crs, self.crs, always_xy=True)
            back = Transformer.from_crs(self.crs, grid.crs, always_xy=True)
            px, py = to.transform(cx, cy)
            mx, my = back.transform(px + self.dx, py + self.dy)
            sx, sy = mx - cx, my - cy
        moved = PixelGrid(
            grid.crs, Affine.translation(-sx, -sy) * grid.transform, grid.width, grid.height
        )
        return self.input.read(moved)


@dataclass(frozen=True)
class ReprojectedCoordinatesBand(BandSource):
    """Image.changeProj: the input's pixel at the location that has, in `src`, the projection
    coordinates the output pixel has in `dst` (both given as CRS and affine transform).

    The output grid is expressed in `dst`'s CRS by an affine fitted to three of its corners
    (exact when the grid is in that CRS, approximate over large grids otherwise)."""

    input: BandSource
    src_crs: str
    src_transform: tuple[float, ...]
    dst_crs: str
    dst_transform: tuple[float, ...]

    reads_other_grid = True

    @property
    def dtype(self) -> np.dtype:
        return self.input.dtype

    def read(self, grid: PixelGrid) -> Pixels:
        g = grid.transform
        if grid.crs != self.dst_crs:
            corners = [(0, 0), (grid.width, 0), (0, grid.height)]
            xs, ys = zip(*(grid.transform * c for c in corners), strict=True)
            to = Transformer.from_crs(grid.crs, self.dst_crs, always_xy=True)
            (x0, x1, x2), (y0, y1, y2) = to.transform(xs, ys)
            g = Affine(
                (x1 - x0) / grid.width, (x2 - x0) / grid.height, x0,
                (y1 - y0) / grid.width, (y2 - y0) / grid.height, y0,
            )  # fmt: skip
        src = Affine(*self.src_transform[:6])
        dst = Affine(*self.dst_transform[:6])
        moved = PixelGrid(self.src_crs, src * ~dst * g, grid.width, grid.height)
        return self.input.read(moved)
