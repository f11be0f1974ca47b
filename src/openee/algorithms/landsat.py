"""ee.Algorithms.Landsat: radiance, TOA reflectance and brightness temperature from the MTL
coefficients an image carries, the simple cloud score, and the simple TOA composite.

Formulas, band choices and their sources: docs/decisions/0028-landsat-algorithms-and-l2-properties.md.
Pixel kernels: `openee.raster.landsat`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import replace

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.bandmath import BinaryBand, UnaryBand
from openee.raster.image import Band, Image, ImageCollection
from openee.raster.landsat import CalibratedBand, CloudScoreBand, SimpleCompositeBand
from openee.raster.sources import BandSource, CastBand, ConstantBand

# Earth Engine's Landsat band names and the MTL key suffix of each: B4 -> 4, B6_VCID_1 -> 6_VCID_1.
_BAND = re.compile(r"B(\d+(?:_VCID_\d)?)")

# Bands of the simple cloud score by SENSOR_ID: blue, green, red, nir, swir1, swir2, thermal.
CLOUD_SCORE_BANDS = {
    "OLI_TIRS": ("B2", "B3", "B4", "B5", "B6", "B7", "B10"),
    "TM": ("B1", "B2", "B3", "B4", "B5", "B7", "B6"),
    "ETM": ("B1", "B2", "B3", "B4", "B5", "B7", "B6_VCID_1"),
    "ETM+": ("B1", "B2", "B3", "B4", "B5", "B7", "B6_VCID_1"),
}


def _number(image: Image, key: str) -> float | None:
    value = image.properties.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _coefficients(image: Image, band: str, *prefixes: str) -> list[float] | None:
    """The image's `<prefix>_BAND_<n>` properties for band `Bn`, or None if one is missing."""
    match = _BAND.fullmatch(band)
    if match is None:
        return None
    values = [_number(image, f"{prefix}_BAND_{match[1]}") for prefix in prefixes]
    return None if any(v is None for v in values) else [float(v or 0.0) for v in values]


def _radiance(image: Image, band: Band) -> CalibratedBand | None:
    found = _coefficients(image, band.name, "RADIANCE_MULT", "RADIANCE_ADD")
    if found is None:
        return None
    return CalibratedBand(band.source, "radiance", found[0], found[1])


def _toa(image: Image, band: Band) -> CalibratedBand | None:
    """TOA reflectance (reflective bands) or brightness temperature (thermal bands) of a band,
    or None when the image carries no coefficients for it."""
    elevation = _number(image, "SUN_ELEVATION")
    found = _coefficients(image, band.name, "REFLECTANCE_MULT", "REFLECTANCE_ADD")
    if found is not None and elevation is not None:
        sine = math.sin(math.radians(elevation))
        return CalibratedBand(band.source, "reflectance", found[0], found[1], divisor=sine)
    found = _coefficients(
        image, band.name, "RADIANCE_MULT", "RADIANCE_ADD", "K1_CONSTANT", "K2_CONSTANT"
    )
    if found is not None:
        mult, add, k1, k2 = found
        return CalibratedBand(band.source, "temperature", mult, add, k1=k1, k2=k2)
    return None


def _calibrated(
    image: Image, calibrate: Callable[[Image, Band], BandSource | None], what: str, needs: str
) -> Image:
    sources = [calibrate(image, band) for band in image.bands]
    if not any(sources):
        raise InvalidArgumentError(
            f"Landsat.{what}: the image has no {needs} property for any of its bands"
            f" ({', '.join(image.band_names) or 'no bands'})."
        )
    bands = tuple(
        replace(band, source=source) if source is not None else band
        for band, source in zip(image.bands, sources, strict=True)
    )
    return replace(image, bands=bands)


@algorithm("Landsat.calibratedRadiance")
def calibrated_radiance(image: Image) -> Image:
    """Calibrates each band of an image by applying linear transformation with slope
    RADIANCE_MULT_BAND_N and y-intercept RADIANCE_ADD_BAND_N; these values are extracted from
    the image metadata. Bands without these properties (QA bands) are kept unchanged.

    Args:
        image: The input Landsat image.
    """
    return _calibrated(image, _radiance, "calibratedRadiance", "RADIANCE_MULT_BAND_N")


@algorithm("Landsat.TOA")
def toa(input: Image) -> Image:
    """Calibrates Landsat DN to TOA reflectance and brightness temperature, with the calibration
    coefficients of the image metadata: reflectance (DN * REFLECTANCE_MULT_BAND_N +
    REFLECTANCE_ADD_BAND_N) / sin(SUN_ELEVATION) for reflective bands, brightness temperature
    K2 / ln(K1 / L + 1) of the radiance L for thermal bands; other bands are kept unchanged.
    Scenes without these coefficients (older than Collection 1) are refused: the coefficients
    of Chander et al. (2009) that Earth Engine uses for them are not served.

    Args:
        input: The Landsat image to process.
    """
    return _calibrated(input, _toa, "TOA", "REFLECTANCE_MULT_BAND_N or K1_CONSTANT_BAND_N")


def _cloud_band(image: Image, where: str) -> Band:
    """The 'cloud' band of a TOA image, on the grid of its blue band."""
    sensor = image.properties.get("SENSOR_ID")
    names = CLOUD_SCORE_BANDS.get(str(sensor))
    if names is None:
        raise InvalidArgumentError(
            f"Landsat.{where}: SENSOR_ID must be one of {', '.join(CLOUD_SCORE_BANDS)}"
            f" (got {sensor!r}); set it on mosaics and composites."
        )
    bands = [image.band(name) for name in names]
    source = CloudScoreBand(tuple(b.source for b in bands))
    return Band("cloud", source, bands[0].projection, bands[0].dimensions)


@algorithm("Landsat.simpleCloudScore")
def simple_cloud_score(image: Image) -> Image:
    """Computes a simple cloud-likelihood score in the range [0,100] using a combination of
    brightness, temperature, and NDSI, added to the image as a band 'cloud'. This is not a
    robust cloud detector, and is intended mainly to compare multiple looks at the same point
    for relative cloud likelihood. The bands are chosen by the image's SENSOR_ID.

    Args:
        image: The Landsat TOA image to process.
    """
    return replace(image, bands=(*image.bands, _cloud_band(image, "simpleCloudScore")))


def _cloud_cover(image: Image) -> float:
    cover = _number(image, "CLOUD_COVER")
    return 100.0 if cover is None else cover


def _uint8(source: BandSource, op: str, value: float) -> BandSource:
    scaled = BinaryBand(op, source, ConstantBand(value, "float64"))
    return CastBand(UnaryBand("round", scaled), "uint8")


@algorithm("Landsat.simpleComposite")
def simple_composite(
    collection: ImageCollection,
    percentile: int = 50,
    cloudScoreRange: int = 10,
    maxDepth: int = 40,
    asFloat: bool = False,
) -> Image:
    """Computes a Landsat TOA composite from a collection of raw Landsat scenes: each scene is
    calibrated with Landsat.TOA and scored with Landsat.simpleCloudScore; at each pixel the
    scenes whose score is within cloudScoreRange of the lowest score there are accepted, and
    each band is the given percentile of the accepted pixels. At each pixel only the maxDepth
    least cloudy scenes (by CLOUD_COVER) covering it are used.

    Args:
        collection: The raw Landsat ImageCollection to composite.
        percentile: The percentile value to use when compositing each band.
        cloudScoreRange: The size of the range of cloud scores to accept per pixel.
        maxDepth: An approximate limit on the maximum number of scenes used to compute each
            pixel.
        asFloat: If true, output bands are in the same units as the Landsat.TOA algorithm; if
            false, TOA values are converted to uint8 by multiplying by 255 (reflective bands)
            or subtracting 100 (thermal bands) and rounding to the nearest integer.
    """
    if not 0 <= percentile <= 100:
        raise InvalidArgumentError("Landsat.simpleComposite: percentile must be from 0 to 100.")
    if maxDepth < 1:
        raise InvalidArgumentError("Landsat.simpleComposite: maxDepth must be positive.")
    # Least cloudy first: at each pixel the first maxDepth scenes that cover it are used.
    images = sorted(collection.images, key=_cloud_cover)
    if not images:
        return Image(())
    scenes = [toa(image) for image in images]
    clouds = tuple(_cloud_band(scene, "simpleComposite").source for scene in scenes)
    bands = []
    for band in scenes[0].bands:
        if not isinstance(band.source, CalibratedBand):
            continue  # QA and angle bands are not composited
        values = tuple(
            scene.band(band.name).source
            if band.name in scene.band_names
            else ConstantBand(0.0, "float32", masked=True)
            for scene in scenes
        )
        source: BandSource = SimpleCompositeBand(
            values, clouds, float(percentile), float(cloudScoreRange), maxDepth
        )
        if not asFloat:
            thermal = band.source.kind == "temperature"
            source = (
                _uint8(source, "subtract", 100.0) if thermal else _uint8(source, "multiply", 255.0)
            )
        bands.append(Band(band.name, source))
    return Image(tuple(bands))
