"""ee.Terrain: slope, aspect, hillshade and products of an elevation image (metres).

The pixel work is `openee.raster.terrain.TerrainBand` (4-connected gradient, geodesic distances,
on the requested grid).
"""

from __future__ import annotations

from dataclasses import replace

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Band, Image
from openee.raster.terrain import TerrainBand


def elevation_band(image: Image) -> Band:
    """The elevation band: the only band, or the band named 'elevation'."""
    if len(image.bands) == 1:
        return image.bands[0]
    for band in image.bands:
        if band.name == "elevation":
            return band
    raise InvalidArgumentError(
        "The terrain image must have a single band, or a band named 'elevation'."
    )


def _product(image: Image, product: str, azimuth: float = 270.0, elevation: float = 45.0) -> Band:
    band = elevation_band(image)
    return replace(band, name=product, source=TerrainBand(band.source, product, azimuth, elevation))


def _single(image: Image, band: Band) -> Image:
    return Image(
        (band,), dict(image.properties), image.id, footprint_geometry=image.footprint_geometry
    )


@algorithm("Terrain.slope")
def slope(input: Image) -> Image:
    """Calculates slope in degrees from a terrain DEM. The local gradient is computed using the
    4-connected neighbors of each pixel, so missing values occur around the edges of an image.

    Args:
        input: An elevation image, in meters.
    """
    return _single(input, _product(input, "slope"))


@algorithm("Terrain.aspect")
def aspect(input: Image) -> Image:
    """Calculates aspect in degrees (clockwise from north, the direction the slope faces) from a
    terrain DEM, using the 4-connected neighbors of each pixel.

    Args:
        input: An elevation image, in meters.
    """
    return _single(input, _product(input, "aspect"))


@algorithm("Terrain.hillshade")
def hillshade(input: Image, azimuth: float = 270.0, elevation: float = 45.0) -> Image:
    """Computes a simple hillshade from a DEM: an unsigned byte band 'hillshade' (0-255).

    Args:
        input: An elevation image, in meters.
        azimuth: The illumination azimuth in degrees from north.
        elevation: The illumination elevation in degrees.
    """
    return _single(input, _product(input, "hillshade", azimuth, elevation))


def _products(input: Image) -> Image:
    added = tuple(_product(input, p) for p in ("slope", "aspect", "hillshade"))
    return replace(input, bands=(*input.bands, *added))


@algorithm("Terrain.products")
def products(input: Image) -> Image:
    """Calculates slope, aspect and a simple hillshade from a terrain DEM, added as bands
    'slope' and 'aspect' (degrees) and 'hillshade' (unsigned byte); all other bands and the
    properties are copied from the input.

    Args:
        input: An elevation image: a single band, or a band named 'elevation', in meters.
    """
    return _products(input)


@algorithm("Terrain")
def terrain(input: Image) -> Image:
    """Calculates slope, aspect and a simple hillshade from a terrain DEM (as Terrain.products).

    Args:
        input: An elevation image: a single band, or a band named 'elevation', in meters.
    """
    return _products(input)
