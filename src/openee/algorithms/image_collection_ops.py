"""ImageCollection: casting, merging, joining bands by id, stacking into one image, and pixel
values as a table (getRegion)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from openee.algorithms.context import current
from openee.algorithms.registry import algorithm
from openee.engine.regions import analysis_projection, fit_region, gather
from openee.errors import InvalidArgumentError
from openee.raster.image import Band, Image, ImageCollection
from openee.raster.sources import CastBand
from openee.values.geometry import WGS84, Geometry
from openee.values.projection import Projection

# Earth Engine's pixel type names, as ImageCollection.cast accepts them.
PIXEL_TYPES = {
    "int8": "int8",
    "uint8": "uint8",
    "byte": "uint8",
    "int16": "int16",
    "short": "int16",
    "uint16": "uint16",
    "int32": "int32",
    "int": "int32",
    "uint32": "uint32",
    "int64": "int64",
    "long": "int64",
    "float": "float32",
    "double": "float64",
}
GET_REGION_MAX_PIXELS = 1_048_576  # Earth Engine's limit on the rows of getRegion


def _index(image: Image, position: int) -> str:
    value = image.properties.get("system:index")
    return str(value) if value is not None else str(position)


def _pixel_type(value: Any, band: str) -> str:
    name = value.get("precision") if isinstance(value, dict) else value
    if not isinstance(name, str) or name.lower() not in PIXEL_TYPES:
        raise InvalidArgumentError(
            f"invalid type {value!r} for band '{band}'; use one of {', '.join(PIXEL_TYPES)}."
        )
    return PIXEL_TYPES[name.lower()]


@algorithm("ImageCollection.cast")
def cast(
    collection: ImageCollection, bandTypes: dict[str, Any], bandOrder: list[str]
) -> ImageCollection:
    """Casts some or all bands of each image to the given pixel types, then selects the bands
    in bandOrder. Values out of an integer type's range saturate.

    Args:
        collection: The collection to cast.
        bandTypes: A dictionary from band name to pixel type: 'int8', 'int16', 'int32',
            'int64', 'uint8', 'uint16', 'uint32', 'byte', 'short', 'int', 'long', 'float' or
            'double'.
        bandOrder: The band names of the output images, in order.
    """
    types = {band: _pixel_type(value, band) for band, value in bandTypes.items()}

    def cast_image(image: Image) -> Image:
        bands = tuple(
            replace(b, source=CastBand(b.source, types[b.name])) if b.name in types else b
            for b in image.bands
        )
        return replace(image, bands=bands).select(list(bandOrder))

    return collection.with_images([cast_image(i) for i in collection.images])


@algorithm("ImageCollection.merge")
def merge(collection1: ImageCollection, collection2: ImageCollection) -> ImageCollection:
    """Merges two image collections; system:index values are prefixed with '1_' and '2_' to
    keep them unique.

    Args:
        collection1: The first collection.
        collection2: The second collection.
    """
    images = [
        replace(image, properties={**image.properties, "system:index": f"{n}_{_index(image, i)}"})
        for n, collection in ((1, collection1), (2, collection2))
        for i, image in enumerate(collection.images)
    ]
    return ImageCollection(static=tuple(images))


@algorithm("ImageCollection.combine")
def combine(
    primary: ImageCollection, secondary: ImageCollection, overwrite: bool = False
) -> ImageCollection:
    """An inner join on system:index: each primary image with the bands of the secondary image
    of the same index added. A secondary band whose name the primary image has replaces it
    with overwrite, and is left out otherwise.

    Args:
        primary: The images whose properties are kept.
        secondary: The images whose bands are added.
        overwrite: Whether secondary bands replace primary bands of the same name.
    """
    by_index = {_index(image, i): image for i, image in enumerate(secondary.images)}
    out = []
    for i, image in enumerate(primary.images):
        other = by_index.get(_index(image, i))
        if other is None:
            continue
        if overwrite:
            out.append(image.add_bands(other, None, True))
        else:
            taken = set(image.band_names)
            added = tuple(b for b in other.bands if b.name not in taken)
            out.append(replace(image, bands=(*image.bands, *added)))
    return ImageCollection(static=tuple(out), properties=dict(primary.properties))


@algorithm("ImageCollection.toBands")
def to_bands(collection: ImageCollection) -> Image:
    """Stacks every band of every image into one image; bands are named '<system:index>_<band>'.

    Args:
        collection: The collection to stack.
    """
    bands: list[Band] = []
    for i, image in enumerate(collection.images):
        prefix = _index(image, i)
        bands.extend(replace(b, name=f"{prefix}_{b.name}") for b in image.bands)
    return Image(tuple(bands))


@algorithm("ImageCollection.getRegion")
def get_region(
    collection: ImageCollection,
    geometry: Geometry,
    scale: float | None = None,
    crs: Projection | dict[str, Any] | None = {  # noqa: B006 - Earth Engine's default; never mutated
        "crs": "EPSG:4326",
        "transform": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        "type": "Projection",
    },
    crsTransform: list[float] | None = None,
) -> list[Any]:
    """The values of every pixel of every image in a region, as a table: a header row ['id',
    'longitude', 'latitude', 'time', bands...], then one row per image and pixel (pixel centres
    in degrees, time as system:time_start, null where a band is masked).

    Args:
        collection: The image collection.
        geometry: The region.
        scale: The nominal scale in metres of the projection to work in.
        crs: The projection to work in. Default: each image's first band's projection.
        crsTransform: The CRS transform, replacing the projection's; exclusive with scale.
    """
    default = Projection.of("EPSG:4326", [1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    given = crs if isinstance(crs, Projection) and crs != default else None
    # Without a projection: each image's own, or WGS84 at `scale` when that is given.
    projection = given if given is not None else (default if scale is not None else None)
    images = collection.images
    names = images[0].band_names if images else []
    table: list[Any] = [["id", "longitude", "latitude", "time", *names]]
    ctx = current()
    for i, image in enumerate(images):
        proj = analysis_projection(image, scale, projection, crsTransform)
        region = fit_region(geometry, proj, GET_REGION_MAX_PIXELS, False)
        present = [n for n in names if n in image.band_names]
        sources = [image.band(n).source for n in present]
        pixels = gather(sources, region, ctx.executor, ctx.chunk_size)
        lons, lats = pixels.centres(proj, WGS84)
        columns = {
            n: [v if ok else None for v, ok in zip(values.tolist(), valid.tolist(), strict=True)]
            for n, values, valid in zip(present, pixels.values, pixels.valid, strict=True)
        }
        time = image.properties.get("system:time_start")
        index = _index(image, i)
        for k in range(int(np.size(lons))):
            row = [index, float(lons[k]), float(lats[k]), time]
            row.extend(columns[n][k] if n in columns else None for n in names)
            table.append(row)
        if len(table) > GET_REGION_MAX_PIXELS:
            raise InvalidArgumentError(f"Too many values: more than {GET_REGION_MAX_PIXELS} rows.")
    return table
