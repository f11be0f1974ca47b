"""Band recipes drawn from vector features, on any grid: a reduction of feature properties over
the pixels each feature covers, the distance to the nearest feature, and painted features.

Features are stored as (GeoJSON text, CRS) pairs so that the recipes stay hashable and
picklable. A polygon covers the pixels whose centres fall in it; points and lines cover the
pixels they touch (rasterio's rasterize rules).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import rasterio.enums
import rasterio.features
import shapely
import shapely.affinity
import shapely.geometry
import shapely.ops
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from openee.raster.grid import PixelGrid, pixel_lon_lat
from openee.raster.pixels import Pixels, mask_weight
from openee.raster.reduce import output_dtype, reduce_stack
from openee.raster.sources import BandSource
from openee.reducers.burn import BurnKernel
from openee.reducers.registry import spec
from openee.values.geometry import Geometry

Shapes = tuple[tuple[str, str], ...]  # (GeoJSON text, CRS) per feature


def shapes_of(geometries: Sequence[Geometry]) -> Shapes:
    return tuple((json.dumps(shapely.geometry.mapping(g.shape)), g.crs) for g in geometries)


def _in_crs(shapes: Shapes, crs: str) -> list[BaseGeometry]:
    out = []
    for text, source_crs in shapes:
        out.append(Geometry(shapely.geometry.shape(json.loads(text)), source_crs).transformed(crs))
    return out


def _covered(shape: BaseGeometry, grid: PixelGrid) -> np.ndarray:
    if shape.is_empty:
        return np.zeros(grid.shape, dtype=bool)
    burned = rasterio.features.rasterize(
        [(shape, 1)], out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8"
    )
    return burned.astype(bool)


@dataclass(frozen=True)
class FeatureReductionBand(BandSource):
    """Per pixel, a reducer over the values of the features that cover the pixel; masked where
    no feature does."""

    shapes: Shapes
    values: tuple[float, ...]
    reducer: str
    param: float | None = None

    @property
    def dtype(self) -> np.dtype:
        return output_dtype(self.reducer, np.dtype(np.float64))

    def read(self, grid: PixelGrid) -> Pixels:
        box = shapely.geometry.box(*grid.bounds())
        pairs = [
            (shape, value)
            for shape, value in zip(_in_crs(self.shapes, grid.crs), self.values, strict=True)
            if not shape.is_empty and shape.intersects(box)
        ]
        burn = spec(self.reducer).burn
        if burn is not None:  # one rasterization of all features
            return self._burned(burn, pairs, grid)
        # The others stack the features that touch the chunk (openee.raster.reduce).
        covers = [(m, v) for shape, v in pairs if (m := _covered(shape, grid)).any()]
        if not covers:
            return Pixels.empty(grid.shape, self.dtype)
        stack = [Pixels(np.full(grid.shape, v, dtype=np.float64), m) for m, v in covers]
        return reduce_stack(self.reducer, stack, self.dtype, self.param)

    def _burned(
        self, kernel: BurnKernel, pairs: list[tuple[BaseGeometry, float]], grid: PixelGrid
    ) -> Pixels:
        """Running reductions with one rasterization each (`openee.reducers.burn`)."""
        count = _burn([(shape, 1.0) for shape, _ in pairs], grid, add=True)
        valid = count > 0
        if kernel.everywhere:
            return Pixels(count.astype(self.dtype), np.ones(grid.shape, dtype=bool))
        if kernel.finish is not None:
            data = kernel.finish(_burn(pairs, grid, add=True), count)
        else:
            assert kernel.order is not None  # a burn kernel either adds up or orders
            ordered = kernel.order(list(pairs))
            data = _burn(ordered, grid, add=False)
        return Pixels(np.where(valid, data, 0).astype(self.dtype), valid)


def _burn(pairs: Sequence[tuple[BaseGeometry, float]], grid: PixelGrid, add: bool) -> np.ndarray:
    if not pairs:
        return np.zeros(grid.shape)
    return rasterio.features.rasterize(
        pairs,
        out_shape=grid.shape,
        transform=grid.transform,
        fill=0,
        dtype="float64",
        merge_alg=rasterio.enums.MergeAlg.add if add else rasterio.enums.MergeAlg.replace,
    )


@dataclass(frozen=True)
class DistanceBand(BandSource):
    """Metres from each pixel centre to the nearest point, line or polygon boundary; masked
    beyond `search_radius`.

    Distances are measured in an azimuthal equidistant projection centred on the grid, which
    keeps them true to well under a metre over the extent of a request chunk.
    """

    shapes: Shapes
    search_radius: float

    reads_other_grid = False

    dtype = np.dtype(np.float64)

    @cached_property
    def _wgs84(self) -> list[BaseGeometry]:
        return _in_crs(self.shapes, "EPSG:4326")

    def read(self, grid: PixelGrid) -> Pixels:
        lon, lat = pixel_lon_lat(grid)
        lon0, lat0 = float(np.mean(lon)), float(np.mean(lat))
        aeqd = f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m"
        to_local = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
        px, py = to_local.transform(lon, lat)
        targets = []
        for shape in self._wgs84:
            local = shapely.ops.transform(to_local.transform, shape)
            # Distance inside a polygon is to its boundary.
            polygonal = local.geom_type in ("Polygon", "MultiPolygon")
            targets.append(local.boundary if polygonal else local)
        if not targets:
            return Pixels.empty(grid.shape, self.dtype)
        nearest = shapely.union_all(targets)
        points = shapely.points(np.asarray(px).ravel(), np.asarray(py).ravel())
        distance = shapely.distance(points, nearest).reshape(grid.shape)
        valid = distance <= self.search_radius
        return Pixels(np.where(valid, distance, 0.0), valid)


@dataclass(frozen=True)
class PaintedBand(BandSource):
    """One colour channel of painted features: polygons filled with `fill` and outlined,
    lines stroked `width` pixels wide, points drawn as discs (or squares) of `point_radius`
    pixels; masked where nothing is painted. Layers are painted in the order given, each
    a (shapes, fill value or None, stroke value, width, point radius, point shape, fill
    opacity, stroke opacity) tuple. A colour less than opaque is painted over what is below
    (alpha compositing, as Image.blend) and leaves its opacity as the mask's fraction."""

    layers: tuple[tuple[Shapes, int | None, int | None, float, float, str, float, float], ...]

    dtype = np.dtype(np.uint8)

    def read(self, grid: PixelGrid) -> Pixels:
        data = np.zeros(grid.shape, dtype=np.uint8)
        valid = np.zeros(grid.shape, dtype=bool)
        weight: np.ndarray | None = None
        to_pixels = ~grid.transform
        matrix = [to_pixels.a, to_pixels.b, to_pixels.d, to_pixels.e, to_pixels.c, to_pixels.f]
        for shapes, fill, stroke, width, radius, point_shape, fill_a, stroke_a in self.layers:
            for shape in _in_crs(shapes, grid.crs):
                local = shapely.affinity.affine_transform(shape, matrix)
                fill_part, stroke_part = _paint_parts(local, width, radius, point_shape)
                for part, value, opacity in (
                    (fill_part, fill, fill_a),
                    (stroke_part, stroke, stroke_a),
                ):
                    if value is None or part is None or part.is_empty:
                        continue
                    mask = rasterio.features.geometry_mask(
                        [part], out_shape=grid.shape, transform=rasterio.Affine.identity(),
                        invert=True,
                    )  # fmt: skip
                    if opacity < 1 and weight is None:
                        weight = np.ones(grid.shape, dtype=np.float32)
                    if weight is not None:
                        _paint_over(data, valid, weight, mask, value, opacity)
                    else:
                        data[mask] = value
                    valid |= mask
        return Pixels(data, valid, weight=mask_weight(weight) if weight is not None else None)


def _paint_over(
    data: np.ndarray,
    valid: np.ndarray,
    weight: np.ndarray,
    mask: np.ndarray,
    value: int,
    opacity: float,
) -> None:
    """Paints `value` at `opacity` over the pixels of `mask` ("over" compositing)."""
    below = np.where(valid[mask], weight[mask], 0).astype(np.float64) * (1 - opacity)
    alpha = opacity + below
    mixed = (value * opacity + data[mask] * below) / np.where(alpha > 0, alpha, 1)
    data[mask] = np.clip(np.floor(mixed + 0.5), 0, 255).astype(np.uint8)
    weight[mask] = alpha


def _paint_parts(
    shape: BaseGeometry, width: float, radius: float, point_shape: str
) -> tuple[BaseGeometry | None, BaseGeometry | None]:
    """(area to fill, area to stroke) of a geometry in pixel coordinates."""
    fills, strokes = [], []
    for part in getattr(shape, "geoms", [shape]):
        kind = part.geom_type
        if kind in ("Polygon", "MultiPolygon"):
            fills.append(part)
            if width > 0:
                strokes.append(part.boundary.buffer(width / 2))
        elif kind in ("LineString", "LinearRing", "MultiLineString"):
            if width > 0:
                strokes.append(part.buffer(width / 2, cap_style="flat"))
        elif kind in ("Point", "MultiPoint"):
            cap = "square" if point_shape == "square" else "round"
            strokes.append(part.buffer(max(radius, 0.5), cap_style=cap))
        elif kind == "GeometryCollection":
            fill, stroke = _paint_parts(part, width, radius, point_shape)
            fills.extend([fill] if fill is not None else [])
            strokes.extend([stroke] if stroke is not None else [])
    fill_area = shapely.union_all(fills) if fills else None
    stroke_area = shapely.union_all(strokes) if strokes else None
    return fill_area, stroke_area
