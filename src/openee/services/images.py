"""imageCollection:computeImages — the images of a computed collection, as REST resources."""

from __future__ import annotations

from typing import Any

from openee.errors import InvalidArgumentError
from openee.raster.grid import affine_to_wire
from openee.raster.image import Image, ImageCollection
from openee.raster.pixeltype import asset_data_type
from openee.values.date import Date

MAX_PAGE = 1000


def image_resource(image: Image) -> dict[str, Any]:
    """An Image in the REST form the client reads (type, id, properties, times, bands)."""
    out: dict[str, Any] = {"type": "IMAGE"}
    if image.id:
        out["id"] = image.id
    props = {k: v for k, v in image.properties.items() if not k.startswith("system:")}
    if props:
        out["properties"] = {k: (v.info() if hasattr(v, "info") else v) for k, v in props.items()}
    start = image.properties.get("system:time_start")
    if isinstance(start, int | float):
        out["startTime"] = Date(int(start)).iso()
    bands = []
    for band in image.bands:
        entry: dict[str, Any] = {"id": band.name, "dataType": asset_data_type(band.source.dtype)}
        if band.projection is not None:
            grid: dict[str, Any] = {
                "crsCode": band.projection.crs,
                "affineTransform": affine_to_wire(band.projection.transform),
            }
            if band.dimensions is not None:
                grid["dimensions"] = {"width": band.dimensions[0], "height": band.dimensions[1]}
            entry["grid"] = grid
        bands.append(entry)
    out["bands"] = bands
    return out


def images_page(collection: object, offset: int, size: int) -> tuple[list[dict[str, Any]], bool]:
    """The REST resources of images [offset, offset + size) and whether more follow."""
    if not isinstance(collection, ImageCollection):
        raise InvalidArgumentError(
            f"computeImages needs an ImageCollection expression, got {type(collection).__name__}."
        )
    images = collection.images
    page = [image_resource(img) for img in images[offset : offset + size]]
    return page, len(images) > offset + size
