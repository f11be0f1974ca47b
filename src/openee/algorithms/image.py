"""Image: loading, band selection and naming, masks, casts, metadata."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from openee.algorithms.assets import load_image
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import DEFAULT_PROJECTION, Band, Image, constant_image
from openee.raster.pixeltype import pixel_type_info
from openee.raster.sources import CastBand, MaskedBand, MaskOfBand, UnmaskedBand
from openee.values.date import Date
from openee.values.projection import Projection


def _paired(image: Image, other: Image, what: str) -> list[tuple[Band, Band]]:
    """Pair each band of `image` with a band of `other`: one-to-one, or one band for all."""
    if len(other.bands) == 1:
        return [(b, other.bands[0]) for b in image.bands]
    if len(other.bands) != len(image.bands):
        raise InvalidArgumentError(
            f"The {what} image must have 1 band or as many bands as the input "
            f"({len(other.bands)} vs {len(image.bands)})."
        )
    return list(zip(image.bands, other.bands, strict=True))


@algorithm("Image.load")
def image_load(id: str, version: int = -1) -> Image:
    """Loads an image by asset id.

    Args:
        id: The asset id of the image.
        version: The asset version; only the current version is stored.
    """
    return load_image(id)


@algorithm("Image.constant")
def image_constant(value: Any) -> Image:
    """Creates an image with a constant value everywhere, one band per value; an Array gives
    one band 'constant' holding that array at every pixel.

    Args:
        value: A number, a list of numbers for a multi-band image, or an Array.
    """
    from openee.algorithms.array_value import ArrayValue
    from openee.raster.array_bands import ArrayConstantBand

    if isinstance(value, ArrayValue):
        return Image((Band("constant", ArrayConstantBand(value.values, value.dtype_name)),))
    values = value if isinstance(value, list) else [value]
    if not values:
        raise InvalidArgumentError("Image.constant: the list of values is empty.")
    return constant_image(values)


@algorithm("Image.select")
def image_select(
    input: Image, bandSelectors: list[Any], newNames: list[str] | None = None
) -> Image:
    """Selects bands by name, regular expression or index, and optionally renames them.

    Args:
        input: The image to select bands from.
        bandSelectors: Band names, regular expressions matching whole names, or indices.
        newNames: New names for the selected bands, one per selected band.
    """
    return input.select(bandSelectors, newNames)


@algorithm("Image.rename")
def image_rename(input: Image, names: list[str]) -> Image:
    """Renames the bands of an image.

    Args:
        input: The image.
        names: The new names, one per band.
    """
    return input.rename(names)


@algorithm("Image.addBands")
def add_bands(
    dstImg: Image, srcImg: Image, names: list[str] | None = None, overwrite: bool = False
) -> Image:
    """Returns an image with the bands of the first image followed by bands of the second.

    Args:
        dstImg: The image that receives the bands; its properties are kept.
        srcImg: The image whose bands are added.
        names: The bands of srcImg to add. Default: all.
        overwrite: Whether bands of the same name replace those of dstImg.
    """
    return dstImg.add_bands(srcImg, names, overwrite)


@algorithm("Image.bandNames")
def band_names(image: Image) -> list[str]:
    """Returns the names of the bands of an image.

    Args:
        image: The image.
    """
    return image.band_names


@algorithm("Image.bandTypes")
def band_types(image: Image) -> dict[str, Any]:
    """Returns the pixel type of each band, by band name.

    Args:
        image: The image.
    """
    return {b.name: pixel_type_info(b.source.dtype, b.source.rank) for b in image.bands}


def _no_arrays(image: Image, what: str, instead: str) -> None:
    """Masks are per pixel: array-valued bands cannot serve as (or be filled like) masks."""
    for b in image.bands:
        if b.source.rank:
            raise InvalidArgumentError(
                f"Image.{what}: band '{b.name}' holds array-valued pixels; {instead}."
            )


@algorithm("Image.unmask")
def unmask(input: Image, value: Image | None = None, sameFootprint: bool = True) -> Image:
    """Replaces masked pixels with the corresponding pixels of `value` (0 by default).

    Args:
        input: The image.
        value: The image (or number) whose pixels fill masked pixels. Default: 0.
        sameFootprint: If true, pixels outside the input's footprint stay masked.
    """
    fill = value if value is not None else constant_image([0])
    _no_arrays(input, "unmask", "unmask the scalar bands made by arrayFlatten or arrayGet")
    bands = [
        replace(b, source=UnmaskedBand(b.source, f.source, sameFootprint))
        for b, f in _paired(input, fill, "value")
    ]
    return replace(input, bands=tuple(bands))


@algorithm("Image.updateMask")
def update_mask(image: Image, mask: Image) -> Image:
    """Masks the pixels where `mask` is zero or masked, keeping existing masks.

    Args:
        image: The image.
        mask: The mask image: one band for all bands, or one band per band.
    """
    _no_arrays(mask, "updateMask", "mask array elements with arrayMask")
    bands = [
        replace(b, source=MaskedBand(b.source, m.source)) for b, m in _paired(image, mask, "mask")
    ]
    return replace(image, bands=tuple(bands))


@algorithm("Image.mask")
def image_mask(image: Image, mask: Image | None = None) -> Image:
    """Without `mask`, returns the image's mask as 0/1 bands; with it, applies it like updateMask.

    Args:
        image: The image.
        mask: The mask image to apply.
    """
    if mask is None:
        return replace(
            image, bands=tuple(replace(b, source=MaskOfBand(b.source)) for b in image.bands)
        )
    return update_mask(image, mask)


@algorithm("Image.selfMask")
def self_mask(image: Image) -> Image:
    """Masks each band where its own value is zero.

    Args:
        image: The image.
    """
    _no_arrays(image, "selfMask", "mask array elements with arrayMask")
    bands = [replace(b, source=MaskedBand(b.source, b.source)) for b in image.bands]
    return replace(image, bands=tuple(bands))


def _cast(name: str, dtype: str) -> None:
    def cast(value: Image) -> Image:
        return replace(
            value, bands=tuple(replace(b, source=CastBand(b.source, dtype)) for b in value.bands)
        )

    cast.__doc__ = (
        f"Casts every band of the image to {dtype}; values out of range saturate.\n\n"
        "Args:\n    value: The image to cast.\n"
    )
    algorithm(f"Image.{name}")(cast)


for _name, _dtype in {
    "toFloat": "float32",
    "toDouble": "float64",
    "toInt": "int32",
    "toUint8": "uint8",
    "toInt8": "int8",
    "toUint16": "uint16",
    "toInt16": "int16",
    "toUint32": "uint32",
    "toInt32": "int32",
    "toInt64": "int64",
}.items():
    _cast(_name, _dtype)


@algorithm("Image.id")
def image_id(element: Image) -> str | None:
    """Returns the asset id of an image, or null.

    Args:
        element: The image.
    """
    return element.id


@algorithm("Image.date")
def image_date(image: Image) -> Date:
    """Returns the acquisition time of the image (its system:time_start).

    Args:
        image: The image.
    """
    value = image.properties.get("system:time_start")
    if not isinstance(value, int | float):
        raise InvalidArgumentError("Image has no 'system:time_start' property.")
    return Date(int(value))


@algorithm("Image.projection")
def image_projection(image: Image) -> Projection:
    """Returns the default projection of an image; all its bands must share it.

    Args:
        image: The image.
    """
    projections = {b.projection or DEFAULT_PROJECTION for b in image.bands}
    if len(projections) > 1:
        raise InvalidArgumentError(
            "The bands of the specified image contains different projections. "
            "Use Image.select to pick a single band."
        )
    return projections.pop() if projections else DEFAULT_PROJECTION
