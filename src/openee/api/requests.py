"""The request JSON of the pixels methods, checked once and turned into the typed requests of
services/requests.py: computePixels, getPixels, thumbnails, map tiles and video frames all read
`fileFormat`, `bandIds`, `visualizationOptions`, `grid` and `region` here and nowhere else."""

from __future__ import annotations

import json
from typing import Any

from openee.encode.formats import format_for
from openee.encode.visualize import Visualization
from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.services.requests import DEFAULT_FILE_FORMAT, GridRequest, PixelsRequest
from openee.values.geometry import Geometry


def pixels_request(body: dict[str, Any]) -> PixelsRequest:
    """A pixels request from its JSON (a request body, or a stored thumbnail or map request)."""
    return PixelsRequest(
        file_format=file_format_name(body.get("fileFormat")),
        band_ids=band_ids(body.get("bandIds")),
        visualization=Visualization.from_wire(body.get("visualizationOptions")),
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
    crs, transform, dims = PixelGrid.from_wire(raw)
    return GridRequest(crs, transform, dims)


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
