"""ee.Terrain: slope, aspect, hillshade and products of an elevation image (metres).

The pixel work is `openee.raster.terrain.TerrainBand` (4-connected gradient, geodesic distances,
on the requested grid).
"""

from __future__ import annotations

from dataclasses import replace

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.hill_shadow import ShadowBand
from openee.raster.image import Band, Image
from openee.raster.sink_fill import FilledBand
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


# Reach of Terrain.hillShadow when neighborhoodSize is 0 (pixels toward the sun).
DEFAULT_SHADOW_REACH = 64
MAX_NEIGHBORHOOD = 1024


@algorithm("Terrain.fillMinima")
def fill_minima(image: Image, borderValue: int | None = None, neighborhood: int = 50) -> Image:
    """Fills local minima: each pixel is raised to the lowest level from which water could flow
    (8-connected) off the window of `neighborhood` pixels around the requested area; masked
    pixels drain.

    Args:
        image: The elevation image; every band is filled.
        borderValue: The level of the window's edge that water must pass over. Default: the
            smallest value of the type (no effect).
        neighborhood: The size of the neighbourhood to compute over, in pixels on each side.
    """
    if not 0 <= neighborhood <= MAX_NEIGHBORHOOD:
        raise InvalidArgumentError(f"neighborhood must be from 0 to {MAX_NEIGHBORHOOD}.")
    border = float(borderValue) if borderValue is not None else None
    return image.map_bands(lambda b: replace(b, source=FilledBand(b.source, neighborhood, border)))


@algorithm("Terrain.hillShadow")
def hill_shadow(
    image: Image,
    azimuth: float,
    zenith: float,
    neighborhoodSize: int = 0,
    hysteresis: bool = False,
) -> Image:
    """Creates a shadow band 'shadow': 1 where the sun lights the pixel, 0 where terrain toward
    the sun rises above the sun's ray. Rays are traced on the requested grid, which must be
    projected (metres) with square north-up pixels.

    Args:
        image: The elevation image, in metres.
        azimuth: The sun's azimuth in degrees, clockwise from north.
        zenith: The sun's zenith angle in degrees (0: overhead).
        neighborhoodSize: How many pixels toward the sun to search. Default (0): 64.
        hysteresis: Accepted for compatibility; it has no effect here.
    """
    if not 0 <= zenith < 90:
        raise InvalidArgumentError("Terrain.hillShadow: zenith must be from 0 to 90 degrees.")
    if not 0 <= neighborhoodSize <= MAX_NEIGHBORHOOD:
        raise InvalidArgumentError(
            f"Terrain.hillShadow: neighborhoodSize must be from 0 to {MAX_NEIGHBORHOOD}."
        )
    reach = neighborhoodSize or DEFAULT_SHADOW_REACH
    band = elevation_band(image)
    source = ShadowBand(band.source, float(azimuth), float(zenith), reach)
    return _single(image, replace(band, name="shadow", source=source))
