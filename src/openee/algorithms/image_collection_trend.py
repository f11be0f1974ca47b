"""ImageCollection.formaTrend: long- and short-term trends of a per-pixel time series
(raster/forma_trend.py holds the statistics and their definitions; ADR 0018)."""

from __future__ import annotations

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.forma_trend import STATISTICS, FormaTrendBand
from openee.raster.image import Band, Image, ImageCollection
from openee.raster.sources import BandSource


def _single_bands(collection: ImageCollection, what: str) -> tuple[BandSource, ...]:
    sources = []
    for i, image in enumerate(collection.images):
        if len(image.bands) != 1:
            raise InvalidArgumentError(
                f"formaTrend: every image of the {what} must have exactly one band; image {i} "
                f"has {len(image.bands)}."
            )
        sources.append(image.bands[0].source)
    return tuple(sources)


@algorithm("ImageCollection.formaTrend")
def forma_trend(
    timeSeries: ImageCollection, covariates: ImageCollection | None = None, windowSize: int = 6
) -> Image:
    """Computes the long- and short-term trends of a time series, or of its ratio to a
    covariate series, per pixel. The images (one band each) are taken in collection order as
    evenly spaced, one time unit apart. Bands (float): 'long-trend', the OLS slope on the whole
    series; 'short-trend', the least OLS slope over windows of windowSize consecutive images;
    'long-tstat', the t statistic of the long-term slope; 'hansen-stat', Hansen's (1992) L_c
    test of the stability of the fit's parameters and variance. A pixel masked in any image is
    masked.

    Args:
        timeSeries: The collection from which to extract trends.
        covariates: Values the series is divided by, image by image (same length).
        windowSize: The short-term trend window, in images (at least 2).
    """
    series = _single_bands(timeSeries, "time series")
    covs = _single_bands(covariates, "covariates") if covariates is not None else ()
    if covs and len(covs) != len(series):
        raise InvalidArgumentError(
            f"formaTrend: the covariates have {len(covs)} images; the time series {len(series)}."
        )
    if len(series) < 3:
        raise InvalidArgumentError(
            f"formaTrend needs a time series of at least 3 images, not {len(series)}."
        )
    if not 2 <= windowSize <= len(series):
        raise InvalidArgumentError(
            f"formaTrend: windowSize must be between 2 and the series length {len(series)}, "
            f"not {windowSize}."
        )
    bands = tuple(Band(name, FormaTrendBand(name, series, covs, windowSize)) for name in STATISTICS)
    return Image(bands)
