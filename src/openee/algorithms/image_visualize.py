"""Image.visualize and Image.clipToBoundsAndScale: what getThumbURL, getMapId and
getDownloadURL fold into the expression they send.

`Image.visualize` turns 1 or 3 bands into an 8-bit RGB (or grey) image, as Earth Engine's does:
min/max (or gain/bias) stretch, gamma, a palette for one band, an opacity. `Image.clipToBoundsAndScale`
clips an image to a geometry's bounding box and gives it the grid that box implies at a size
(width/height/maxDimension) or a scale, in the image's default projection (EPSG:4326 for
composites); a thumbnail or download without an explicit grid is computed on that grid.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely.geometry
from affine import Affine
from PIL import ImageColor

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.image import DEFAULT_PROJECTION, Band, Image
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource, ClippedBand, children
from openee.values.geometry import Geometry
from openee.values.projection import Projection

VIS_RGB = ("vis-red", "vis-green", "vis-blue")
VIS_GRAY = "vis-gray"
# Integer inputs whose values span fewer levels than this (and than the pixels) are visualized
# through a table of their levels.
MAX_LOOKUP = 1 << 16


@dataclass(frozen=True)
class VisualizedBand(BandSource):
    """One 8-bit output channel of Image.visualize.

    `input` is stretched from [lo, hi] to [0, 1], gamma-corrected, then either scaled to
    0-255 or, with a palette, interpolated between its colours (`channel` picks R, G or B).
    The channel is valid where the input is; its mask is the input's times `opacity` ("the
    opacity of the image", a fraction of its mask: docs/decisions/0055), which PNG alpha shows.
    """

    input: BandSource
    lo: float
    hi: float
    gamma: float = 1.0
    palette: tuple[tuple[int, int, int], ...] = ()
    channel: int = 0
    opacity: float = 1.0

    dtype = np.dtype(np.uint8)

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        if self.opacity == 0:  # a mask of 0 is masked, not a valid pixel of weight 0
            base = replace(base, valid=np.zeros(grid.shape, dtype=bool))
        data = base.data
        if data.dtype.kind in "iu" and data.size:
            # Integer pixels (a uint16 reflectance band): the channel of each value present,
            # looked up, instead of the float arithmetic on every pixel. Same function of the
            # same values, so the same bytes.
            low, high = int(data.min()), int(data.max())
            if high - low < min(data.size, MAX_LOOKUP):
                table = self._channel(np.arange(low, high + 1, dtype=data.dtype))
                offsets = data - low if data.dtype.kind == "u" else data.astype(np.intp) - low
                return Pixels(table[offsets], base.valid, weight=self._weight(base))
        return Pixels(self._channel(data), base.valid, weight=self._weight(base))

    def _weight(self, base: Pixels) -> np.ndarray | None:
        if self.opacity == 1.0:
            return base.weight
        if base.weight is None:
            return np.full(base.valid.shape, self.opacity, dtype=np.float32)
        return (base.weight * np.float32(self.opacity)).astype(np.float32)

    def _channel(self, values: np.ndarray) -> np.ndarray:
        span = self.hi - self.lo
        with np.errstate(invalid="ignore", over="ignore"):
            unit = (values.astype(np.float64) - self.lo) / (span if span else 1.0)
            unit = np.clip(np.nan_to_num(unit, nan=0.0), 0.0, 1.0)
            if self.gamma != 1.0:
                unit = unit ** (1.0 / self.gamma)
        if self.palette:
            colors = np.array([c[self.channel] for c in self.palette], dtype=np.float64)
            if len(colors) == 1:
                value = np.full(unit.shape, colors[0])
            else:
                value = np.interp(unit, np.linspace(0.0, 1.0, len(colors)), colors)
        else:
            value = unit * 255.0
        return np.clip(np.rint(value), 0, 255).astype(np.uint8)


class BoundsClippedBand(ClippedBand):
    """A band clipped to the bounding box that Image.clipToBoundsAndScale gave it a grid for.

    Its grid's edge pixels are whole pixels of that box snapped outward, unmasked when their
    centre is inside, as before ADR 0054: Earth Engine documents fractional edges for clip(),
    not for the box of a thumbnail or download (what it does there is not known here)."""

    fractional = False


def has_bounds_grid(image: Image) -> bool:
    """Whether the image's grid was set by Image.clipToBoundsAndScale (for every band)."""
    return bool(image.bands) and all(_under_bounds(b.source) for b in image.bands)


def _under_bounds(source: BandSource) -> bool:
    if isinstance(source, BoundsClippedBand):
        return True
    kids = children(source)
    return bool(kids) and all(_under_bounds(k) for k in kids)


# -- Image.visualize ---------------------------------------------------------------------------


def _strings(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InvalidArgumentError(f"{what} must be a list of strings or a comma-separated string.")


def _color(value: str) -> tuple[int, int, int]:
    """A palette colour: 'RRGGBB' or 'RGB' hex (with or without '#'), or a CSS colour name."""
    text = value.strip()
    if len(text) in (3, 6) and all(ch in "0123456789abcdefABCDEF" for ch in text):
        text = "#" + text
    try:
        rgb = ImageColor.getrgb(text)
    except ValueError:
        raise InvalidArgumentError(f"Invalid palette colour '{value}'.") from None
    return rgb[0], rgb[1], rgb[2]


def _numbers(value: Any, what: str) -> list[float] | None:
    if value is None:
        return None
    items: list[Any]
    if isinstance(value, str):
        items = [s for s in value.split(",") if s.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        items = [value]
    out = []
    for item in items:
        if isinstance(item, bool):
            raise InvalidArgumentError(f"{what} must be numbers.")
        try:
            number = float(item)
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"{what} must be numbers, got {item!r}.") from None
        if not math.isfinite(number):
            raise InvalidArgumentError(f"{what} must be finite numbers.")
        out.append(number)
    if not out:
        raise InvalidArgumentError(f"{what} must not be empty.")
    return out


def _per_band(values: list[float] | None, count: int, what: str) -> list[float] | None:
    if values is None:
        return None
    if len(values) == 1:
        return values * count
    if len(values) != count:
        raise InvalidArgumentError(f"{what} must have 1 or {count} values, got {len(values)}.")
    return values


def _type_range(dtype: np.dtype) -> tuple[float, float]:
    """Earth Engine's default stretch: the pixel type's range; [0, 1] for floats."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return float(info.min), float(info.max)
    if dtype.kind == "b":
        return 0.0, 1.0
    return 0.0, 1.0


@algorithm("Image.visualize")
def visualize(
    image: Image,
    bands: Any = None,
    gain: Any = None,
    bias: Any = None,
    min_: Any = None,
    max_: Any = None,
    gamma: Any = None,
    opacity: float | None = None,
    palette: Any = None,
    forceRgbOutput: bool = False,
) -> Image:
    """Produces an RGB or greyscale visualization of an image: 8-bit bands 'vis-red',
    'vis-green' and 'vis-blue' (or one band 'vis-gray'). Each of gain, bias, min, max and gamma
    is one value for all bands or one per band.

    Args:
        image: The image to visualize.
        bands: The bands to visualize, 1 or 3; by default the first band of a 1-band image or
            the first 3 bands.
        gain: Values multiplying each pixel value; exclusive with min and max.
        bias: Values added to each value after the gain; exclusive with min and max.
        min: Values mapped to 0; by default the pixel type's minimum (0 for floats).
        max: Values mapped to 255; by default the pixel type's maximum (1 for floats).
        gamma: Gamma correction factors.
        opacity: The opacity of the image, from 0 (transparent) to 1.
        palette: CSS colours or hex strings ('ff0000') spread over min to max; one band only.
        forceRgbOutput: Whether to produce RGB output for a single band without a palette.
    """
    if bands is None:
        if len(image.bands) == 1 or (palette is not None and image.bands):
            selected = image.select([0])
        elif len(image.bands) >= 3:
            selected = image.select([0, 1, 2])
        else:
            raise InvalidArgumentError(
                f"Expected a 1-band or at least 3-band image, got {len(image.bands)} bands; "
                "use 'bands' to choose."
            )
    else:
        selected = image.select(_strings(bands, "bands"))
    count = len(selected.bands)
    if count not in (1, 3):
        raise InvalidArgumentError(f"Expected 1 or 3 bands to visualize, got {count}.")
    colors = tuple(_color(c) for c in _strings(palette, "palette")) if palette is not None else ()
    if palette is not None and not colors:
        raise InvalidArgumentError("The palette is empty.")
    if colors and count != 1:
        raise InvalidArgumentError("A palette can only be used with one band.")
    if (gain is not None or bias is not None) and (min_ is not None or max_ is not None):
        raise InvalidArgumentError("Specify either gain/bias or min/max, not both.")
    if opacity is not None and not 0 <= opacity <= 1:
        raise InvalidArgumentError("opacity must be between 0 and 1.")
    gains = _per_band(_numbers(gain, "gain"), count, "gain")
    biases = _per_band(_numbers(bias, "bias"), count, "bias")
    mins = _per_band(_numbers(min_, "min"), count, "min")
    maxs = _per_band(_numbers(max_, "max"), count, "max")
    gammas = _per_band(_numbers(gamma, "gamma"), count, "gamma") or [1.0] * count
    if any(g <= 0 for g in gammas):
        raise InvalidArgumentError("gamma must be positive.")

    stretches = []
    for i, band in enumerate(selected.bands):
        if gains is not None or biases is not None:
            # value * gain + bias over 0..255 is the stretch from -bias/gain to (255-bias)/gain.
            g = gains[i] if gains is not None else 1.0
            b = biases[i] if biases is not None else 0.0
            if g == 0:
                raise InvalidArgumentError("gain must not be 0.")
            stretches.append((-b / g, (255.0 - b) / g))
        else:
            lo, hi = _type_range(band.source.dtype)
            stretches.append((mins[i] if mins else lo, maxs[i] if maxs else hi))

    alpha = 1.0 if opacity is None else float(opacity)
    if colors or (count == 1 and forceRgbOutput):
        band = selected.bands[0]
        lo, hi = stretches[0]
        out = tuple(
            Band(
                name,
                VisualizedBand(band.source, lo, hi, gammas[0], colors, channel, alpha),
                band.projection,
                band.dimensions,
            )
            for channel, name in enumerate(VIS_RGB)
        )
    elif count == 1:
        band = selected.bands[0]
        lo, hi = stretches[0]
        source = VisualizedBand(band.source, lo, hi, gammas[0], opacity=alpha)
        out = (Band(VIS_GRAY, source, band.projection, band.dimensions),)
    else:
        out = tuple(
            Band(
                name,
                VisualizedBand(b.source, lo, hi, gm, opacity=alpha),
                b.projection,
                b.dimensions,
            )
            for name, b, (lo, hi), gm in zip(
                VIS_RGB, selected.bands, stretches, gammas, strict=True
            )
        )
    return replace(image, bands=out)


# -- Image.clipToBoundsAndScale ----------------------------------------------------------------


def default_projection(image: Image) -> Projection:
    """The image's default projection: its first band's, or EPSG:4326 for composites."""
    for band in image.bands:
        if band.projection is not None:
            return band.projection
        break
    return DEFAULT_PROJECTION


def image_bounds(
    image: Image, geometry: Geometry | None, crs: str
) -> tuple[float, float, float, float]:
    """The bounds in `crs` of the geometry, else of the image's footprint, else of its grid."""
    if geometry is not None:
        shape = geometry.transformed(crs)
    elif image.footprint_geometry is not None:
        shape = image.footprint_geometry.transformed(crs)
    else:
        band = image.bands[0] if image.bands else None
        if band is None or band.projection is None or band.dimensions is None:
            raise InvalidArgumentError(
                "The image has no bounds (it is unbounded); give a geometry to clip to."
            )
        native = PixelGrid(
            band.projection.crs, Affine(*band.projection.transform), *band.dimensions
        )
        box = shapely.geometry.box(*native.bounds())
        shape = Geometry(box, band.projection.crs, False).transformed(crs)
    if shape.is_empty:
        raise InvalidArgumentError("The geometry to clip to is empty.")
    xmin, ymin, xmax, ymax = shape.bounds
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        raise InvalidArgumentError("The geometry's bounds cannot be expressed in the image's CRS.")
    return xmin, ymin, xmax, ymax


def bounds_grid(
    bounds: tuple[float, float, float, float],
    projection: Projection,
    width: int | None,
    height: int | None,
    max_dimension: int | None,
    scale: float | None,
) -> tuple[tuple[float, float, float, float, float, float], int, int]:
    """The north-up grid over `bounds` (in the projection's CRS) at a size or a scale.

    Returns:
        The transform [xScale, 0, xmin, 0, -yScale, ymax] and the width and height in pixels.
    """
    xmin, ymin, xmax, ymax = bounds
    dx, dy = xmax - xmin, ymax - ymin
    for name, value in (("width", width), ("height", height), ("maxDimension", max_dimension)):
        if value is not None and value <= 0:
            raise InvalidArgumentError(f"{name} must be positive.")
    if width is not None or height is not None or max_dimension is not None:
        if dx <= 0 or dy <= 0:
            raise InvalidArgumentError("The geometry's bounds have no area.")
        if width is not None and height is not None:
            w, h = width, height
        elif width is not None:
            w, h = width, max(1, round(dy * width / dx))
        elif height is not None:
            w, h = max(1, round(dx * height / dy)), height
        else:
            assert max_dimension is not None
            side = max(dx, dy) / max_dimension
            w, h = max(1, round(dx / side)), max(1, round(dy / side))
        return (dx / w, 0.0, xmin, 0.0, -dy / h, ymax), w, h
    if scale is not None:
        if scale <= 0:
            raise InvalidArgumentError("scale must be positive.")
        projection = projection.at_scale(scale)
    # The projection's own pixels, snapped to its grid.
    a, _, c, _, e, f = projection.transform
    sx, sy = abs(a), abs(e) or abs(a)
    col0 = math.floor((xmin - c) / sx + 1e-9)
    col1 = math.ceil((xmax - c) / sx - 1e-9)
    row0 = math.floor((f - ymax) / sy + 1e-9)
    row1 = math.ceil((f - ymin) / sy - 1e-9)
    w, h = max(1, col1 - col0), max(1, row1 - row0)
    return (sx, 0.0, c + col0 * sx, 0.0, -sy, f - row0 * sy), w, h


@algorithm("Image.clipToBoundsAndScale")
def clip_to_bounds_and_scale(
    input: Image,
    geometry: Geometry | None = None,
    width: int | None = None,
    height: int | None = None,
    maxDimension: int | None = None,
    scale: float | None = None,
) -> Image:
    """Clips an image to the bounds of a geometry and scales the clipped image to a size or a
    scale, in the image's default projection. Without a size or scale the projection's own
    pixels are kept.

    Args:
        input: The image to clip and scale.
        geometry: The geometry whose bounds the image is clipped to; by default the image's
            footprint.
        width: The width in pixels to scale to.
        height: The height in pixels to scale to.
        maxDimension: The larger of width and height to scale to, keeping the aspect ratio.
        scale: The pixel size in meters, instead of a size.
    """
    if not input.bands:
        return input
    projection = default_projection(input)
    crs = projection.crs
    bounds = image_bounds(input, geometry, crs)
    transform, w, h = bounds_grid(bounds, projection, width, height, maxDimension, scale)
    grid = Projection(crs, transform)
    box = json.dumps(shapely.geometry.mapping(shapely.geometry.box(*bounds)))
    return replace(
        input,
        bands=tuple(
            Band(b.name, BoundsClippedBand(b.source, box, crs), grid, (w, h)) for b in input.bands
        ),
        footprint_geometry=Geometry(shapely.geometry.box(*bounds), crs, False),
    )
