"""ImageCollection: loading, building, mosaics and per-pixel reductions (composites)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from openee.algorithms.assets import load_collection
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Band, Image, ImageCollection
from openee.raster.reduce_stats import StatBand
from openee.raster.sources import BandSource, MosaicBand, QualityMosaicBand, ReducedBand
from openee.reducers.registry import Context, refusal, require, shortcuts, spec, split
from openee.values.reducer import Reducer, simple


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

    A one-input reducer is applied to each band: with `suffixed`, output bands are
    '<band>_<output>' for each output of the reducer, band by band (B4_p10, B4_p90, B8_p10,
    ...); the `reduce.*` shortcuts keep the band names. A reducer of n inputs takes the n bands
    of the images as its inputs, and its output bands keep the reducer's output names.
    """
    parts = _pixel_parts(reducer)
    names, inputs = _per_band(collection)
    if not names:
        return Image(())
    bands = []
    if reducer.num_inputs() == 1:
        for n in names:
            for output, (part, index, _) in zip(reducer.outputs, parts, strict=True):
                name = f"{n}_{output}" if suffixed else n
                bands.append(Band(name, _pixel_source(part, index, [inputs[n]])))
        return Image(tuple(bands))
    if len(names) != reducer.num_inputs():
        raise InvalidArgumentError(
            f"The reducer takes {reducer.num_inputs()} inputs, but the images have "
            f"{len(names)} bands."
        )
    for output, (part, index, offset) in zip(reducer.outputs, parts, strict=True):
        stacks = [inputs[names[offset + k]] for k in range(part.inputs)]
        bands.append(Band(output, _pixel_source(part, index, stacks)))
    return Image(tuple(bands))


def _pixel_parts(reducer: Reducer, offset: int = 0) -> list[tuple[Reducer, int, int]]:
    """(simple reducer, its output index, its first input) for each output of `reducer`."""
    parts = split(reducer)  # combine, forEach: each part from its first input on
    if parts is not None:
        return [p for part, inputs in parts for p in _pixel_parts(part, offset + inputs.start)]
    if require(reducer, Context.COLLECTION, simple=True).inputs != reducer.inputs:
        raise refusal(reducer.name, Context.COLLECTION)
    return [(reducer, i, offset) for i in range(len(reducer.outputs))]


def _pixel_source(reducer: Reducer, index: int, stacks: list[list[BandSource]]) -> BandSource:
    if spec(reducer.name).pixel is not None:  # a kernel of openee.raster.reduce
        param = reducer.params[index] if reducer.params else None
        return ReducedBand(reducer.name, tuple(stacks[0]), param)
    if len({len(s) for s in stacks}) > 1:
        raise InvalidArgumentError("Every image must have every band the reducer takes.")
    flat = tuple(source for stack in stacks for source in stack)
    return StatBand(reducer.name, index, flat, len(stacks))


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
    # As a table's features, images without an index are numbered '0', '1', ... (their
    # 'system:index', which toBands prefixes: ee-imagecollection-tobands.js sorts and the
    # prefixes follow the images).
    return ImageCollection(
        static=tuple(
            i if "system:index" in i.properties else _with_index(i, str(n))
            for n, i in enumerate(images)
        )
    )


def _with_index(image: Image, index: str) -> Image:
    return replace(image, properties={**image.properties, "system:index": index})


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
    """Reduces a collection pixel by pixel. A one-input reducer is applied to each band (output
    bands '<band>_<reducer output>'); a reducer of n inputs takes the images' n bands (output
    bands named after its outputs). Reducers: mean, median, min, max, sum, count, first, last,
    stdDev, variance, percentile, mode, sampleVariance, sampleStdDev, skew, kurtosis, product,
    anyNonZero, allNonZero, countDistinct(NonNull), countEvery, minMax, linearFit, combine and
    forEach (forEachBand); linearRegression gives array bands 'coefficients' and 'residuals'
    over the images valid in all bands at each pixel.

    Args:
        collection: The collection to reduce.
        reducer: The reducer; masked inputs are skipped.
        parallelScale: Accepted for compatibility; it has no effect here.
    """
    if spec(reducer.name).pixel_regression:
        return regression_image(collection, reducer)
    return composite(collection, reducer, suffixed=True)


def regression_image(collection: ImageCollection, reducer: Reducer) -> Image:
    """Reducer.linearRegression per pixel: array bands 'coefficients' (numX x numY) and
    'residuals' (numY), over the images valid in all their bands at each pixel."""
    from openee.raster.array_bands import ArrayOpBand, CollectionArrayBand

    num_x, num_y = int(reducer.option("numX")), int(reducer.option("numY"))
    images = collection.images
    for img in images:
        if len(img.bands) != num_x + num_y:
            raise InvalidArgumentError(
                f"The reducer takes {num_x + num_y} inputs, but an image has {len(img.bands)} "
                "bands."
            )
    table = CollectionArrayBand(tuple(tuple(b.source for b in img.bands) for img in images))
    return Image(
        tuple(
            Band(part, ArrayOpBand(f"regression.{part}", (table,), (num_x,)))
            for part in ("coefficients", "residuals")
        )
    )


def _shortcut(name: str, reducer: str) -> None:
    def shortcut(collection: ImageCollection) -> Image:
        return composite(collection, simple(reducer), suffixed=False)

    shortcut.__doc__ = (
        f"Reduces a collection pixel by pixel with the {reducer} reducer, keeping band names.\n\n"
        "Args:\n    collection: The collection to reduce; masked inputs are skipped.\n"
    )
    algorithm(f"reduce.{name}")(shortcut)


# ImageCollection.mean(), ...; and() / or() are the allNonZero / anyNonZero reducers.
for _name, _reducer in shortcuts():
    _shortcut(_name, _reducer)


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
