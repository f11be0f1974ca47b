"""Images made from feature collections: Collection.reduceToImage, distance, draw and style.

The pixel work is in `openee.raster.features`; these images have no fixed projection, so they
are computed on whatever grid a request gives.
"""

from __future__ import annotations

import re
from typing import Any

from PIL import ImageColor

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.features import (
    DistanceBand,
    FeatureReductionBand,
    PaintedBand,
    Shapes,
    shapes_of,
)
from openee.raster.image import Band, Image
from openee.reducers.registry import Context, require
from openee.values.feature import Feature, FeatureCollection
from openee.values.geometry import Geometry
from openee.values.reducer import Reducer

VIS_BANDS = ("vis-red", "vis-green", "vis-blue")
POINT_SHAPES = ("circle", "square")
MAX_FEATURES = 100_000


def _features(collection: Any, what: str) -> list[Feature]:
    if not isinstance(collection, FeatureCollection):
        raise InvalidArgumentError("The collection must be a FeatureCollection.")
    features = [f for f in collection.features if isinstance(f, Feature)]
    if len(features) > MAX_FEATURES:
        raise InvalidArgumentError(f"More than {MAX_FEATURES} features.")
    return [f for f in features if f.geometry is not None]


def parse_color(value: Any, what: str) -> tuple[int, int, int, int]:
    """'RRGGBB' or 'RRGGBBAA' hex (with or without '#'), or a CSS colour name, as RGBA."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"Invalid {what} {value!r}.")
    text = value.strip()
    if re.fullmatch(r"[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}", text):
        text = "#" + text
    try:
        rgba = ImageColor.getcolor(text, "RGBA")
    except ValueError:
        raise InvalidArgumentError(f"Invalid {what} '{value}'.") from None
    assert isinstance(rgba, tuple)
    return rgba[0], rgba[1], rgba[2], rgba[3]


# (shapes, fill RGB and opacity or None, stroke RGB and opacity or None, width, point radius,
# point shape); an opacity is in [0, 1].
Color = tuple[int, int, int, float]
Layer = tuple[Shapes, Color | None, Color | None, float, float, str]
# An unset fillColor is "the 'color' at 0.66 opacity" (ee.FeatureCollection.style).
DEFAULT_FILL_OPACITY = 0.66


def _painted(layers: list[Layer]) -> Image:
    """Three uint8 bands vis-red, vis-green, vis-blue of the painted layers."""
    bands = []
    for channel, name in enumerate(VIS_BANDS):
        per_channel = tuple(
            (
                shapes,
                int(fill[channel]) if fill is not None else None,
                int(stroke[channel]) if stroke is not None else None,
                width,
                radius,
                shape,
                fill[3] if fill is not None else 1.0,
                stroke[3] if stroke is not None else 1.0,
            )
            for shapes, fill, stroke, width, radius, shape in layers
        )
        bands.append(Band(name, PaintedBand(per_channel)))
    return Image(tuple(bands))


@algorithm("Collection.reduceToImage")
def reduce_to_image(
    collection: FeatureCollection, properties: list[str], reducer: Reducer
) -> Image:
    """Creates an image by reducing, at each pixel, a property of the features that cover it
    (polygons: pixel centres inside; points and lines: pixels touched). Bands are named after
    the reducer's outputs; a pixel no feature covers is masked.

    Args:
        collection: The features.
        properties: The property to reduce (one per reducer input).
        reducer: A one-input reducer: mean, median, min, max, sum, count, first, last,
            stdDev, variance, percentile or mode.
    """
    if reducer.num_inputs() != len(properties):
        raise InvalidArgumentError(
            f"the reducer takes {reducer.num_inputs()} inputs but "
            f"{len(properties)} properties were given."
        )
    require(reducer, Context.FEATURE_IMAGE, simple=True)
    rows: list[tuple[Geometry, float]] = []
    for feature in _features(collection, "Collection.reduceToImage"):
        value = feature.properties.get(properties[0])
        if value is None or feature.geometry is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgumentError(f"property '{properties[0]}' must be a number.")
        rows.append((feature.geometry, float(value)))
    shapes = shapes_of([g for g, _ in rows])
    values = tuple(v for _, v in rows)
    params: tuple[float | None, ...] = reducer.params or (None,) * len(reducer.outputs)
    bands = [
        Band(name, FeatureReductionBand(shapes, values, reducer.name, param))
        for name, param in zip(reducer.outputs, params, strict=True)
    ]
    return Image(tuple(bands))


@algorithm("Collection.distance")
def distance(
    features: FeatureCollection, searchRadius: float = 100000.0, maxError: float = 100.0
) -> Image:
    """Produces a 'distance' image (double): metres from each pixel centre to the nearest point,
    line or polygon boundary of the collection (inside polygons too); masked beyond
    searchRadius.

    Args:
        features: The features to measure distance to.
        searchRadius: The maximum distance, in metres, to search for features.
        maxError: The tolerated error, in metres; distances here are exact to well under it.
    """
    if not searchRadius > 0:
        raise InvalidArgumentError("searchRadius must be positive.")
    if not maxError > 0:
        raise InvalidArgumentError("maxError must be positive.")
    geometries = [f.geometry for f in _features(features, "Collection.distance") if f.geometry]
    return Image((Band("distance", DistanceBand(shapes_of(geometries), float(searchRadius))),))


@algorithm("Collection.draw")
def draw(
    collection: FeatureCollection, color: str, pointRadius: int = 3, strokeWidth: int = 2
) -> Image:
    """Paints a collection for display: an RGB image (vis-red, vis-green, vis-blue) with polygons
    filled, lines stroked strokeWidth pixels wide and points drawn as discs, in one colour;
    masked where nothing is painted.

    Args:
        collection: The features to paint.
        color: The colour: 'RRGGBB' hex or a CSS colour name.
        pointRadius: The radius of points, in pixels.
        strokeWidth: The width of lines and polygon outlines, in pixels.
    """
    rgba = parse_color(color, "color")
    if pointRadius < 0 or strokeWidth < 0:
        raise InvalidArgumentError("pointRadius and strokeWidth must be >= 0.")
    geometries = [f.geometry for f in _features(collection, "Collection.draw") if f.geometry]
    rgb: Color = (rgba[0], rgba[1], rgba[2], 1.0)
    layer: Layer = (
        shapes_of(geometries),
        rgb,
        rgb,
        float(strokeWidth),
        float(pointRadius),
        "circle",
    )
    return _painted([layer])


@algorithm("Collection.style")
def style(
    collection: FeatureCollection,
    color: str = "black",
    pointSize: int = 3,
    pointShape: str = "circle",
    width: float = 2.0,
    fillColor: str | None = None,
    styleProperty: str | None = None,
    neighborhood: int = 5,
    lineType: str = "solid",
) -> Image:
    """Paints a collection with a style: an RGB image (vis-red, vis-green, vis-blue), masked where
    nothing is painted. Polygons are filled with fillColor then outlined; a colour's alpha is
    its opacity, painted over what is below and kept as the image's mask fraction.

    Args:
        collection: The features to paint.
        color: The outline and point colour: 'RRGGBB' or 'RRGGBBAA' hex, or a CSS name.
        pointSize: The size of points, in pixels (the diameter of a circle, the side of a
            square).
        pointShape: 'circle' or 'square'.
        width: The width of lines and polygon outlines, in pixels.
        fillColor: The polygon fill colour. Default: `color` at 0.66 opacity.
        styleProperty: A per-feature property holding a dictionary of style overrides (color,
            pointSize, pointShape, width, fillColor, lineType).
        neighborhood: Accepted for compatibility; features are painted on the requested grid.
        lineType: 'solid' (the only line type drawn here).
    """
    defaults = {
        "color": color,
        "pointSize": pointSize,
        "pointShape": pointShape,
        "width": width,
        "fillColor": fillColor,
        "lineType": lineType,
    }
    layers = []
    for feature in _features(collection, "Collection.style"):
        settings = dict(defaults)
        if styleProperty is not None:
            override = feature.properties.get(styleProperty)
            if isinstance(override, dict):
                settings.update({k: v for k, v in override.items() if k in defaults})
        layers.append(_style_layer(feature, settings))
    return _painted(layers)


def _style_layer(feature: Feature, settings: dict[str, Any]) -> Layer:
    stroke = parse_color(settings["color"], "color")
    fill_setting = settings["fillColor"]
    fill = parse_color(fill_setting, "fillColor") if fill_setting is not None else stroke
    fill_opacity = fill[3] / 255 * (DEFAULT_FILL_OPACITY if fill_setting is None else 1.0)
    shape = str(settings["pointShape"]).lower()
    if shape not in POINT_SHAPES:
        raise InvalidArgumentError(
            f"Point shape '{settings['pointShape']}' is not supported; use "
            f"{' or '.join(POINT_SHAPES)}."
        )
    if settings["lineType"] != "solid":
        raise InvalidArgumentError("Only the 'solid' line type is supported.")
    size, line_width = float(settings["pointSize"]), float(settings["width"])
    if size < 0 or line_width < 0:
        raise InvalidArgumentError("pointSize and width must be >= 0.")
    assert feature.geometry is not None
    stroke_rgb: Color | None = (*stroke[:3], stroke[3] / 255) if stroke[3] > 0 else None
    fill_rgb: Color | None = (*fill[:3], fill_opacity) if fill_opacity > 0 else None
    return (shapes_of([feature.geometry]), fill_rgb, stroke_rgb, line_width, size / 2, shape)
