"""Image.paint: features burnt into a band on the request grid (rasterio.features.rasterize)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import rasterio.features
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource
from openee.values.geometry import Geometry

# (GeoJSON text, CRS, colour, outline width in pixels or None to fill): text keeps it hashable.
Stroke = tuple[str, str, float, float | None]


def _shape_on(stroke: Stroke, grid: PixelGrid) -> BaseGeometry:
    text, crs, _, width = stroke
    shape = Geometry(shapely.geometry.shape(json.loads(text)), crs).transformed(grid.crs)
    if width is None:
        return shape
    pixel = float(np.hypot(grid.transform.a, grid.transform.d))
    outline = shape.boundary if shape.geom_type in ("Polygon", "MultiPolygon") else shape
    return outline.buffer(width * pixel / 2)


@dataclass(frozen=True)
class PaintedBand(BandSource):
    """The input with the features painted on it in order (later ones on top); painted pixels
    are unmasked. A polygon is filled, or outlined when it has a width; lines and points are
    drawn through the pixels they touch, or that width wide."""

    input: BandSource
    strokes: tuple[Stroke, ...]
    dtype_name: str

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        data = base.data.astype(self.dtype)
        valid = base.valid.copy()
        # Painted pixels are whole; the others keep the input's fraction (ADR 0055).
        weight = base.weight.copy() if base.weight is not None else None
        for stroke in self.strokes:
            shape = _shape_on(stroke, grid)
            if shape.is_empty:
                continue
            burnt = rasterio.features.rasterize(
                [(shape, 1)],
                out_shape=grid.shape,
                transform=grid.transform,
                fill=0,
                dtype="uint8",
                all_touched=shape.geom_type not in ("Polygon", "MultiPolygon"),
            ).astype(bool)
            data[burnt] = stroke[2]
            valid |= burnt
            if weight is not None:
                weight[burnt] = 1
        return Pixels(data, valid, weight=weight)
