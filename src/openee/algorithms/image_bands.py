"""Image band plumbing: renaming by pattern, slicing, concatenating, casting per band, a band
from a property, properties copied from another element, and reducing across bands."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from openee.algorithms.element import copy_properties as element_copy_properties
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Band, Image, ImageCollection
from openee.raster.sources import CastBand, ConstantBand, ReducedBand
from openee.reducers.registry import Context, require
from openee.values.pixel_type import PixelType
from openee.values.reducer import Reducer

# The pixel type names Image.cast accepts, as numpy types.
CAST_TYPES = {
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "byte": "uint8",
    "short": "int16",
    "int": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
}


def _java_replacement(replacement: str) -> str:
    """Earth Engine's (Java's) replacement syntax, $1 and \\$, in Python's: \\g<1> and $."""
    out: list[str] = []
    i = 0
    while i < len(replacement):
        ch = replacement[i]
        if ch == "\\" and i + 1 < len(replacement):
            nxt = replacement[i + 1]
            out.append("\\\\" if nxt == "\\" else nxt)
            i += 2
        elif ch == "$":
            match = re.match(r"\d+", replacement[i + 1 :])
            if match is None:
                raise InvalidArgumentError(f"Illegal group reference in '{replacement}'.")
            out.append(f"\\g<{match.group()}>")
            i += 1 + len(match.group())
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@algorithm("Image.regexpRename")
def regexp_rename(input: Image, regex: str, replacement: str, all: bool = True) -> Image:
    """Renames the bands of an image by applying a regular expression replacement to each name.

    Args:
        input: The image whose bands are renamed.
        regex: A regular expression matched against each band name.
        replacement: The replacement; $1, $2, ... insert the groups of the match.
        all: If true, every match in a name is replaced; otherwise only the first.
    """
    try:
        pattern = re.compile(regex)
    except re.error as exc:
        raise InvalidArgumentError(f"Invalid regular expression '{regex}': {exc}.") from None
    python_replacement = _java_replacement(replacement)
    try:
        names = [
            pattern.sub(python_replacement, b.name, count=0 if all else 1) for b in input.bands
        ]
    except (re.error, IndexError) as exc:
        raise InvalidArgumentError(f"Invalid replacement '{replacement}': {exc}.") from None
    return input.rename(names)


@algorithm("Image.slice")
def image_slice(image: Image, start: int, end: int | None = None) -> Image:
    """Selects a contiguous range of bands, from start (inclusive) to end (exclusive); negative
    indices count from the last band.

    Args:
        image: The image.
        start: The index of the first band; negative counts from the end.
        end: The index after the last band; negative counts from the end. Default: all bands.
    """
    n = len(image.bands)
    first = start + n if start < 0 else start
    stop = n if end is None else (end + n if end < 0 else end)
    if not 0 <= first <= n or not 0 <= stop <= n:
        raise InvalidArgumentError(
            f"Band index out of bounds: slice({start}, {end}) of an image with {n} bands."
        )
    if stop <= first:
        raise InvalidArgumentError(f"Empty band slice: slice({start}, {end}) selects no band.")
    return replace(image, bands=image.bands[first:stop])


@algorithm("Image.cat")
def image_cat(images: list[Any]) -> Image:
    """Concatenates the bands of several images into one image; a repeated band name gets a
    suffix (B4, B4_1). The first image's properties are kept.

    Args:
        images: The images (or numbers, taken as constant images) to concatenate.
    """
    from openee.algorithms.coerce import coerce

    if not images:
        raise InvalidArgumentError("the list of images is empty.")
    parts = [coerce(img, "Image", "images", optional=False) for img in images]
    result: Image = parts[0]
    for part in parts[1:]:
        result = result.add_bands(part, None, False)
    return result


def _pixel_type(band: str, value: object) -> str:
    if isinstance(value, str) and value in CAST_TYPES:
        return CAST_TYPES[value]
    if isinstance(value, PixelType):
        return value.dtype().name
    if isinstance(value, dict) and value.get("precision") in ("float", "double"):
        return "float32" if value["precision"] == "float" else "float64"
    raise InvalidArgumentError(
        f"Invalid pixel type {value!r} for band '{band}': use one of {', '.join(CAST_TYPES)}."
    )


@algorithm("Image.cast")
def image_cast(
    image: Image, bandTypes: dict[str, Any], bandOrder: list[str] | None = None
) -> Image:
    """Casts some or all bands of an image to the given types; a named band that the image
    lacks is added as a fully masked band of that type.

    Args:
        image: The image to cast.
        bandTypes: Band name to pixel type: 'int8', 'int16', 'int32', 'int64', 'uint8',
            'uint16', 'uint32', 'byte', 'short', 'int', 'long', 'float' or 'double'.
        bandOrder: The order of the bands in the result; must name every band of the result.
    """
    types = {name: _pixel_type(name, value) for name, value in bandTypes.items()}
    bands = [
        replace(b, source=CastBand(b.source, types[b.name])) if b.name in types else b
        for b in image.bands
    ]
    present = {b.name for b in bands}
    bands += [
        Band(name, ConstantBand(0.0, dtype, masked=True))
        for name, dtype in types.items()
        if name not in present
    ]
    if bandOrder is not None:
        by_name = {b.name: b for b in bands}
        if sorted(bandOrder) != sorted(by_name):
            raise InvalidArgumentError(
                f"bandOrder {bandOrder} must name every band of the result, {sorted(by_name)}."
            )
        bands = [by_name[name] for name in bandOrder]
    return replace(image, bands=tuple(bands))


@algorithm("Image.metadata")
def metadata(image: Image, property: str, name: str | None = None) -> Image:
    """Creates a constant double image from a numeric property of the image.

    Args:
        image: The image whose property is read.
        property: The name of the property; its value must be a number.
        name: The name of the output band. Default: the property name.
    """
    value = image.get(property)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(f"property '{property}' is not a number (it is {value!r}).")
    return Image((Band(name or property, ConstantBand(float(value), "float64")),))


# An image's properties are copied as any element's; its bands are unchanged.
algorithm("Image.copyProperties")(element_copy_properties)


@algorithm("Image.reduce")
def image_reduce(image: Image, reducer: Reducer) -> Image:
    """Applies a reducer across the bands of an image at each pixel, skipping masked bands; the
    output bands are named after the reducer's outputs ('mean', 'p10', ...).

    Args:
        image: The image whose bands are reduced.
        reducer: A single-input reducer: mean, median, min, max, sum, count, first, last,
            stdDev, variance, percentile or mode.
    """
    require(reducer, Context.BANDS)
    if not image.bands:
        raise InvalidArgumentError("the image has no bands.")
    inputs = tuple(b.source for b in image.bands)
    projections = {b.projection for b in image.bands}
    first = image.bands[0]
    same = len(projections) == 1
    params: tuple[float | None, ...] = reducer.params or (None,) * len(reducer.outputs)
    bands = tuple(
        Band(
            output,
            ReducedBand(reducer.name, inputs, param),
            first.projection if same else None,
            first.dimensions if same else None,
        )
        for output, param in zip(reducer.outputs, params, strict=True)
    )
    return replace(image, bands=bands)


@algorithm("Image.retile")
def retile(image: Image, size: int) -> Image:
    """Sets the tile size in which the image is computed; a hint only, since openee computes in
    the chunks of the request grid. The pixels are unchanged.

    Args:
        image: The image.
        size: The tile size in pixels, from 1 to 2048.
    """
    if not 1 <= size <= 2048:
        raise InvalidArgumentError(f"size must be from 1 to 2048, got {size}.")
    return image


def _names(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InvalidArgumentError(f"{what} must be a name or a list of names.")
    return names


@algorithm("Image.linkCollection")
def link_collection(
    input: Image,
    imageCollection: ImageCollection,
    linkedBands: Any = None,
    linkedProperties: Any = None,
    matchPropertyName: str = "system:index",
) -> Image:
    """Adds bands and properties to an image from the image of a collection that has the same
    value of a property (system:index by default), replacing those of the same name. Without a
    match, the linked bands are fully masked and the linked properties null.

    Args:
        input: The image to which the bands and properties are added.
        imageCollection: The collection searched for the matching image.
        linkedBands: The band names to take from the matching image.
        linkedProperties: The property names to take from the matching image.
        matchPropertyName: The property whose values must be equal for a match.
    """
    bands = _names(linkedBands, "linkedBands")
    properties = _names(linkedProperties, "linkedProperties")
    key = input.get(matchPropertyName)
    images = imageCollection.images
    match = next(
        (img for img in images if key is not None and img.get(matchPropertyName) == key), None
    )
    result = input
    if bands:
        if match is not None:
            added = match.select(bands)
        else:
            # No match: masked bands of the type the collection's images give them.
            typed = {b.name: b.source.dtype.name for img in images for b in img.bands}
            added = Image(
                tuple(
                    Band(name, ConstantBand(0.0, typed.get(name, "float64"), masked=True))
                    for name in bands
                )
            )
        # Replaced bands keep their place; new ones follow.
        incoming = {b.name: b for b in added.bands}
        kept = tuple(incoming.pop(b.name, b) for b in result.bands)
        result = replace(result, bands=(*kept, *incoming.values()))
    if properties:
        updated = dict(result.properties)
        for name in properties:
            value = match.get(name) if match is not None else None
            if value is None:
                updated.pop(name, None)
            else:
                updated[name] = value
        result = replace(result, properties=updated)
    return result
