"""The request JSON of the pixels methods, checked once and turned into the typed requests of
services/requests.py: computePixels, getPixels, thumbnails, map tiles and video frames all read
`fileFormat`, `bandIds`, `visualizationOptions`, `grid` and `region` here and nowhere else
(the wire forms of a PixelGrid and of VisualizationOptions included)."""

from __future__ import annotations

import json
import re
from typing import Any

from affine import Affine
from PIL import ImageColor

from openee.encode.formats import format_for
from openee.encode.visualize import Range, Visualization
from openee.errors import InvalidArgumentError
from openee.services.requests import DEFAULT_FILE_FORMAT, GridRequest, PixelsRequest
from openee.values.geometry import Geometry
from openee.values.projection import crs_label, parse_crs


def pixels_request(body: dict[str, Any]) -> PixelsRequest:
    """A pixels request from its JSON (a request body, or a stored thumbnail or map request)."""
    return PixelsRequest(
        file_format=file_format_name(body.get("fileFormat")),
        band_ids=band_ids(body.get("bandIds")),
        visualization=visualization(body.get("visualizationOptions")),
        grid=grid_request(body.get("grid")),
        region=None if body.get("region") is None else region_geometry(body["region"]),
    )


def file_format_name(raw: object) -> str:
    """A known `fileFormat`, upper case (AUTO_JPEG_PNG when omitted); 400 or 501 otherwise."""
    if raw is None or raw == "":
        return DEFAULT_FILE_FORMAT
    if not isinstance(raw, str):
        raise InvalidArgumentError("fileFormat must be a string.")
    format_for(raw)  # raises for unknown or unimplemented formats
    return raw.upper()


def band_ids(raw: object) -> tuple[str, ...]:
    if not raw:
        return ()
    if not isinstance(raw, list) or not all(isinstance(b, str) for b in raw):
        raise InvalidArgumentError("bandIds must be a list of band names.")
    return tuple(raw)


def grid_request(raw: object) -> GridRequest | None:
    """The parts of a wire PixelGrid that are given; None for no grid (or an empty one)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidArgumentError("grid must be an object.")
    if not raw:
        return None
    return GridRequest(_grid_crs(raw), _affine(raw.get("affineTransform")), _dims(raw))


def _grid_crs(grid: dict[str, Any]) -> str | None:
    if grid.get("crsCode"):
        crs = str(grid["crsCode"])
        crs = crs_label(parse_crs(crs)) if not crs.upper().startswith("EPSG:") else crs
        parse_crs(crs)
        return crs
    if grid.get("crsWkt"):
        return crs_label(parse_crs(str(grid["crsWkt"])))
    return None


def _affine(at: object) -> Affine | None:
    """A wire AffineTransform {scaleX, shearX, translateX, shearY, scaleY, translateY}."""
    if not isinstance(at, dict):
        return None
    try:
        return Affine(
            float(at.get("scaleX", 0)),
            float(at.get("shearX", 0)),
            float(at.get("translateX", 0)),
            float(at.get("shearY", 0)),
            float(at.get("scaleY", 0)),
            float(at.get("translateY", 0)),
        )
    except (TypeError, ValueError):
        raise InvalidArgumentError("Invalid affineTransform in grid.") from None


def _dims(grid: dict[str, Any]) -> tuple[int, int] | None:
    d = grid.get("dimensions")
    if not isinstance(d, dict):
        return None
    try:
        dims = (int(d.get("width", 0)), int(d.get("height", 0)))
    except (TypeError, ValueError):
        raise InvalidArgumentError("Invalid dimensions in grid.") from None
    if dims[0] <= 0 or dims[1] <= 0:
        raise InvalidArgumentError(
            f"Grid dimensions must be positive, got width={dims[0]}, height={dims[1]}."
        )
    return dims


def region_geometry(raw: object) -> Geometry:
    """A request's `region`: a GeoJSON geometry object (or its JSON text)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise InvalidArgumentError("region must be a GeoJSON geometry.") from None
    if not isinstance(raw, dict):
        raise InvalidArgumentError("region must be a GeoJSON geometry.")
    return Geometry.from_geojson(raw)


def visualization(options: dict[str, Any] | None) -> Visualization:
    """`visualizationOptions`: ranges, opacity, paletteColors, gamma."""
    if not options:
        return Visualization()
    if not isinstance(options, dict):
        raise InvalidArgumentError("visualizationOptions must be an object.")
    unsupported = sorted(set(options) - {"ranges", "opacity", "paletteColors", "gamma"})
    if unsupported:
        raise InvalidArgumentError(
            f"visualizationOptions field(s) not supported yet: {', '.join(unsupported)}."
        )
    ranges = []
    for r in options.get("ranges") or []:
        if not isinstance(r, dict):
            raise InvalidArgumentError("Each visualization range must be {min, max}.")
        try:
            ranges.append(Range(float(r.get("min", 0)), float(r.get("max", 1))))
        except (TypeError, ValueError):
            raise InvalidArgumentError("Visualization range min and max must be numbers.") from None
    opacity = options.get("opacity", 1.0)
    if not isinstance(opacity, int | float) or not 0 <= opacity <= 1:
        raise InvalidArgumentError("visualizationOptions.opacity must be between 0 and 1.")
    return Visualization(
        tuple(ranges),
        float(opacity),
        tuple(_color(c) for c in options.get("paletteColors") or []),
        _gamma(options.get("gamma")),
    )


def _color(value: object) -> tuple[int, int, int]:
    """A palette colour: 'RRGGBB', '#RRGGBB', or a CSS colour name."""
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError(f"Invalid palette colour {value!r}.")
    text = value if not re.fullmatch(r"[0-9a-fA-F]{6}|[0-9a-fA-F]{3}", value) else "#" + value
    try:
        rgb = ImageColor.getrgb(text)
    except ValueError:
        raise InvalidArgumentError(f"Invalid palette colour '{value}'.") from None
    return rgb[0], rgb[1], rgb[2]


def _gamma(value: object) -> tuple[float, ...]:
    """`gamma` is a number, `{"value": g}`, or a list of them (one per band)."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        g = item.get("value") if isinstance(item, dict) else item
        if isinstance(g, bool) or not isinstance(g, int | float) or g <= 0:
            raise InvalidArgumentError("visualizationOptions.gamma must be positive numbers.")
        out.append(float(g))
    return tuple(out)
