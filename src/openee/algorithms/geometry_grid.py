"""the cells of a projection's pixel grid that a geometry touches."""

from __future__ import annotations

import math

import shapely
import shapely.affinity
import shapely.geometry
from affine import Affine

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values import geometry_space
from openee.values.feature import Feature, FeatureCollection
from openee.values.geometry import Geometry
from openee.values.projection import Projection

MAX_CELLS = 1_000_000


@algorithm("Geometry.coveringGrid")
def covering_grid(
    geometry: Geometry, proj: Projection, scale: float | None = None
) -> FeatureCollection:
    """Returns the cells of the projection's grid (corners at integer pixel positions) that
    intersect the geometry, as features whose geometry is the cell's rectangle in the
    projection's CRS and whose id is '<column>,<row>'.

    Args:
        geometry: The geometry to cover.
        proj: The projection whose pixel grid gives the cells.
        scale: Overrides the projection's scale, in metres at its point of true scale.
    """
    if scale is not None and not (scale > 0 and math.isfinite(scale)):
        raise InvalidArgumentError(f"scale must be positive, got {scale}.")
    grid = proj.at_scale(scale) if scale is not None else proj
    to_grid = Affine(*grid.transform)
    to_pixels = ~to_grid
    in_crs = geometry_space.in_crs(geometry, grid.crs)
    matrix = [to_pixels.a, to_pixels.b, to_pixels.d, to_pixels.e, to_pixels.c, to_pixels.f]
    in_pixels = shapely.affinity.affine_transform(in_crs, matrix)
    if in_pixels.is_empty:
        return FeatureCollection(())
    xmin, ymin, xmax, ymax = in_pixels.bounds
    col0, row0 = math.floor(xmin), math.floor(ymin)
    col1, row1 = max(math.floor(xmax) + 1, col0 + 1), max(math.floor(ymax) + 1, row0 + 1)
    if (col1 - col0) * (row1 - row0) > MAX_CELLS:
        raise InvalidArgumentError(f"more than {MAX_CELLS} grid cells; use a coarser scale.")
    shapely.prepare(in_pixels)
    features = []
    for row in range(row0, row1):
        for col in range(col0, col1):
            cell = shapely.geometry.box(col, row, col + 1, row + 1)
            if not in_pixels.intersects(cell):
                continue
            corners = [to_grid * (x, y) for x, y in cell.exterior.coords]
            polygon = Geometry(shapely.geometry.Polygon(corners), grid.crs, False)
            features.append(Feature(polygon, {}, f"{col},{row}"))
    return FeatureCollection(tuple(features))
