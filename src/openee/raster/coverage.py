"""How much of each pixel of a grid a geometry covers: Earth Engine's weights of the pixels in a
region (weighted reducers) and the fractional mask of Image.clip (docs/decisions/0054).

A pixel that the polygon's boundary does not cross is wholly inside or wholly outside, so only
the boundary's pixels (those its lines touch) are measured: each pixel's square is intersected
with the polygon by shapely, in the grid's pixel space. Points and lines have no area: they
weigh 1 in every pixel they touch, as they do for the centroid rule.

Earth Engine holds these weights as 8-bit integers, 255 for a whole pixel ("pixel intersection
weights are represented internally as 8-bit integers (0 to 255) ... any coverage fraction less
than approximately 1/256 (~0.4%) rounds down to a weight of 0", guide "Weighted reductions"):
`quantized` takes floor(fraction * 255) / 255.
"""

from __future__ import annotations

import numpy as np
import rasterio.features
import shapely
import shapely.affinity
from affine import Affine
from shapely.geometry.base import BaseGeometry

from openee.values.geometry_space import point_set

LEVELS = 255
# A fraction computed from areas can miss a whole level by a rounding error (0.99999...).
_SLACK = 1e-6

_AREAL = ("Polygon", "MultiPolygon")
# Rows of pixels cut from the polygon at once before each row is cut from them.
_BLOCK = 64


def quantized(fraction: np.ndarray) -> np.ndarray:
    """Fractions as Earth Engine's 8-bit weights: floor(fraction * 255) / 255 (float64, so that
    sums of weights are those of the levels, not of their float32 roundings)."""
    levels = np.floor(np.clip(fraction, 0.0, 1.0) * LEVELS + _SLACK)
    return levels / LEVELS


def coverage(shape: BaseGeometry, transform: Affine, height: int, width: int) -> np.ndarray:
    """The quantized fraction of each pixel of the (height, width) grid at `transform` that
    `shape` (in the grid's CRS) covers (float64); points and lines give 1 where they touch."""
    out = np.zeros((height, width), dtype=np.float64)
    if shape.is_empty or height == 0 or width == 0:
        return out
    areal, other = _split(shape)
    if areal is not None:
        # The parts of a multi-polygon may overlap (Earth Engine takes them; GEOS's cuts
        # refuse them): the union, as the centroid rule's rasterization burns.
        areal = point_set(areal)
    if other is not None:
        touched = rasterio.features.rasterize(
            [(other, 1)], out_shape=(height, width), transform=transform, fill=0, dtype="uint8"
        )
        out[touched.astype(bool)] = 1.0
    if areal is not None:
        np.maximum(out, _fractions(areal, transform, height, width), out=out)
    return out


def _split(shape: BaseGeometry) -> tuple[BaseGeometry | None, BaseGeometry | None]:
    """The polygons of a shape, and its other parts (points, lines)."""
    if shape.geom_type in _AREAL:
        return shape, None
    parts = list(shapely.get_parts(shape)) if shape.geom_type.startswith(("Multi", "Geom")) else []
    if not parts:
        return None, shape
    areal = [p for p in parts if p.geom_type in _AREAL]
    other = [p for p in parts if p.geom_type not in _AREAL and not p.is_empty]
    return (
        shapely.union_all([point_set(p) for p in areal]) if areal else None,
        shapely.GeometryCollection(other) if other else None,
    )


def _fractions(shape: BaseGeometry, transform: Affine, height: int, width: int) -> np.ndarray:
    """The covered fraction of each pixel: 0 or 1 off the boundary, measured on it."""
    # A pixel the boundary does not cross is whole, inside exactly when its centre is.
    out = rasterio.features.rasterize(
        [(shape, 1)], out_shape=(height, width), transform=transform, fill=0, dtype="uint8"
    ).astype(np.float64)
    crossed = rasterio.features.rasterize(
        [(shape.boundary, 1)],
        out_shape=(height, width),
        transform=transform,
        fill=0,
        dtype="uint8",
        all_touched=True,
    )
    rows, cols = np.nonzero(crossed)
    if rows.size == 0:
        return out
    to_pixels = ~transform
    matrix = [to_pixels.a, to_pixels.b, to_pixels.d, to_pixels.e, to_pixels.c, to_pixels.f]
    # Only the grid's part of the polygon matters (a chunk of a country's outline).
    in_pixels = shapely.intersection(
        shapely.affinity.affine_transform(shape, matrix),
        shapely.box(-1.0, -1.0, width + 1.0, height + 1.0),
    )
    fractions = np.empty(rows.size, dtype=np.float64)
    # Each row of pixels meets only the part of the polygon in its band: the polygon is cut
    # into blocks of rows, each block into rows, each row into pixels, so that a pixel's cut
    # costs the few vertices near it.
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    block: tuple[int, BaseGeometry] | None = None
    for start, stop in zip(starts, np.r_[starts[1:], rows.size], strict=True):
        row = int(rows[start])
        if block is None or row // _BLOCK != block[0]:
            first = row // _BLOCK * _BLOCK
            block = (row // _BLOCK, _cut(in_pixels, 0.0, first, width, first + _BLOCK))
        band = _cut(block[1], 0.0, row, width, row + 1)
        if _has_holes(band):
            boxes = shapely.box(cols[start:stop], row, cols[start:stop] + 1.0, row + 1.0)
            fractions[start:stop] = shapely.area(shapely.intersection(band, boxes))
            continue
        for k in range(start, stop):
            col = float(cols[k])
            fractions[k] = shapely.clip_by_rect(band, col, row, col + 1.0, row + 1.0).area
    out[rows, cols] = quantized(fractions)
    return out


def _has_holes(shape: BaseGeometry) -> bool:
    return bool(np.any(shapely.get_num_interior_rings(shapely.get_parts(shape))))


def _cut(shape: BaseGeometry, x0: float, y0: float, x1: float, y1: float) -> BaseGeometry:
    """The part of `shape` in a rectangle. A rectangle cut (clip_by_rect) is several times
    faster than a general intersection, but it can turn a polygon with holes inside out (its
    output need not be valid): those are intersected exactly."""
    if _has_holes(shape):
        return shapely.intersection(shape, shapely.box(x0, y0, x1, y1))
    return shapely.clip_by_rect(shape, x0, y0, x1, y1)
