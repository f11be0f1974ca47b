"""ImageCollection: loading, building, mosaics and per-pixel reductions (composites)."""

from __future__ import annotations

from typing import Any

from openee.algorithms.assets import load_collection
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Band, Image, ImageCollection
from openee.raster.sources import BandSource, MosaicBand, QualityMosaicBand, ReducedBand
from openee.values.reducer import Reducer, simple

# Reducers that have a per-pixel kernel (openee.raster.reduce).
PIXEL_REDUCERS = (
    "mean",
    "median",
    "min",
    "max",
    "sum",
    "count",
    "first",
    "last",
    "stdDev",
    "variance",
    "percentile",
    "mode",
)


def _per_band(collection: ImageCollection) -> tuple[list[str], dict[str, list[BandSource]]]:
    """Band names of the first image, each with that band's source in every image that has it."""
    images = collection.images
    names = images[0].band_names if images else []
    inputs: dict[str, list[BandSource]] = {n: [] for n in names}
    for image in images:
        for band in image.bands:
            if band.name in inputs:
                inputs[band.name].append(band.source)
    return names, inputs


def composite(collection: ImageCollection, reducer: Reducer, suffixed: bool) -> Image:
    """Reduce a collection pixel by pixel; composites have no fixed projection.

    With `suffixed`, output bands are '<band>_<output>' for each output of the reducer, band by
    band (B4_p10, B4_p90, B8_p10, ...); the `reduce.*` shortcuts keep the band names.
    """
    if reducer.name not in PIXEL_REDUCERS:
        raise InvalidArgumentError(
            f"Reducer '{reducer.name}' is not supported on image collections yet."
        )
    names, inputs = _per_band(collection)
    params: tuple[float | None, ...] = reducer.params or (None,) * len(reducer.outputs)
    bands = []
    for n in names:
        for output, param in zip(reducer.outputs, params, strict=True):
            name = f"{n}_{output}" if suffixed else n
            bands.append(Band(name, ReducedBand(reducer.name, tuple(inputs[n]), param)))
    return Image(tuple(bands))


@algorithm("ImageCollection.load")
def image_collection_load(id: str, version: int | None = None) -> ImageCollection:
    """Loads a stored image collection by asset id.

    Args:
        id: The asset id of the collection.
        version: The asset version; only the current version is stored.
    """
    return load_collection(id)


@algorithm("ImageCollection.fromImages")
def from_images(images: list[Any]) -> ImageCollection:
    """Creates an image collection from a list of images.

    Args:
        images: The images.
    """
    if not all(isinstance(i, Image) for i in images):
        raise InvalidArgumentError("ImageCollection.fromImages: every element must be an Image.")
    return ImageCollection(static=tuple(images))


@algorithm("ImageCollection.mosaic")
def mosaic(collection: ImageCollection) -> Image:
    """Composites the images in order: the last image is on top wherever it is unmasked.

    Args:
        collection: The collection to mosaic.
    """
    names, inputs = _per_band(collection)
    return Image(tuple(Band(n, MosaicBand(tuple(inputs[n]))) for n in names))


@algorithm("ImageCollection.reduce")
def reduce(collection: ImageCollection, reducer: Reducer, parallelScale: float = 1.0) -> Image:
    """Reduces a collection pixel by pixel; output bands are named '<band>_<reducer output>'.

    Args:
        collection: The collection to reduce.
        reducer: The reducer; masked inputs are skipped.
        parallelScale: Accepted for compatibility; it has no effect here.
    """
    return composite(collection, reducer, suffixed=True)


def _shortcut(name: str) -> None:
    def shortcut(collection: ImageCollection) -> Image:
        return composite(collection, simple(name), suffixed=False)

    shortcut.__doc__ = (
        f"Reduces a collection pixel by pixel with the {name} reducer, keeping band names.\n\n"
        "Args:\n    collection: The collection to reduce; masked inputs are skipped.\n"
    )
    algorithm(f"reduce.{name}")(shortcut)


for _name in ("mean", "median", "min", "max", "sum", "count", "mode"):
    _shortcut(_name)


@algorithm("ImageCollection.qualityMosaic")
def quality_mosaic(collection: ImageCollection, qualityBand: str) -> Image:
    """Composites each pixel from the image whose quality band is highest there.

    Args:
        collection: The collection to mosaic.
        qualityBand: The band whose value decides which image each pixel comes from.
    """
    images = collection.images
    names = images[0].band_names if images else []
    bands = []
    for n in names:
        with_band = [img for img in images if n in img.band_names]
        sources = tuple(img.band(n).source for img in with_band)
        qualities = tuple(img.band(qualityBand).source for img in with_band)
        bands.append(Band(n, QualityMosaicBand(sources, qualities)))
    return Image(tuple(bands))
