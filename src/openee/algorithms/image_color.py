"""Image colour algorithms: hsvToRgb, rgbToHsv, blend, randomVisualizer and sldStyle (an OGC SLD
RasterSymbolizer's ColorMap turned into an 8-bit RGB image, like Image.visualize's)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

from openee.algorithms.image_math import combine
from openee.algorithms.image_visualize import VIS_RGB, _color
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.color import BlendBand, ColorMapBand, ColorSpaceBand, ValueColorBand
from openee.raster.image import Band, Image

MAX_SLD_CHARS = 100_000
COLOR_MAP_TYPES = ("ramp", "intervals", "values")


def _three_bands(image: Image, what: str) -> tuple[Band, Band, Band]:
    if len(image.bands) != 3:
        raise InvalidArgumentError(
            f"Image.{what}: expected a 3-band image, got {len(image.bands)} bands."
        )
    first, second, third = image.bands
    return first, second, third


def _converted(image: Image, conversion: str, names: tuple[str, str, str]) -> Image:
    bands = _three_bands(image, conversion)
    sources = (bands[0].source, bands[1].source, bands[2].source)
    out = tuple(
        Band(name, ColorSpaceBand(sources, conversion, i), bands[0].projection, bands[0].dimensions)
        for i, name in enumerate(names)
    )
    return replace(image, bands=out)


@algorithm("Image.rgbToHsv")
def rgb_to_hsv(image: Image) -> Image:
    """Transforms a 3-band RGB image with values in [0, 1] to HSV: bands 'hue', 'saturation'
    and 'value', in [0, 1].

    Args:
        image: The image to transform.
    """
    return _converted(image, "rgbToHsv", ("hue", "saturation", "value"))


@algorithm("Image.hsvToRgb")
def hsv_to_rgb(image: Image) -> Image:
    """Transforms a 3-band HSV image with values in [0, 1] to RGB: bands 'red', 'green' and
    'blue', in [0, 1].

    Args:
        image: The image to transform.
    """
    return _converted(image, "hsvToRgb", ("red", "green", "blue"))


@algorithm("Image.blend")
def blend(bottom: Image, top: Image) -> Image:
    """Overlays one image on another, blending them with their masks as opacities (alpha
    compositing: docs/decisions/0055); a one-band image is used against every band of the
    other. The result is masked where both are.

    Args:
        bottom: The bottom image.
        top: The top image.
    """
    return combine(bottom, top, lambda b, t: BlendBand(b, t))


@algorithm("Image.randomVisualizer")
def random_visualizer(image: Image) -> Image:
    """Gives each distinct value of the first band a random colour: 8-bit bands 'viz-red',
    'viz-green' and 'viz-blue', followed by the bands of the input.

    Args:
        image: The image; its first band is coloured.
    """
    if not image.bands:
        raise InvalidArgumentError("the image has no bands.")
    first = image.bands[0]
    colors = tuple(
        Band(name, ValueColorBand(first.source, i), first.projection, first.dimensions)
        for i, name in enumerate(("viz-red", "viz-green", "viz-blue"))
    )
    return replace(image, bands=(*colors, *image.bands))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(node: ET.Element, name: str) -> ET.Element | None:
    return next((e for e in node.iter() if _local(e.tag) == name), None)


def _parse_sld(xml: str) -> ET.Element:
    if len(xml) > MAX_SLD_CHARS:
        raise InvalidArgumentError(f"the SLD is longer than {MAX_SLD_CHARS}.")
    # Entities (and so entity-expansion attacks) are refused before parsing.
    if re.search(r"<!(DOCTYPE|ENTITY)", xml, re.IGNORECASE):
        raise InvalidArgumentError("DOCTYPE and ENTITY declarations are refused.")
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise InvalidArgumentError(f"invalid XML: {exc}.") from None
    symbolizers = [e for e in root.iter() if _local(e.tag) == "RasterSymbolizer"]
    if len(symbolizers) != 1:
        raise InvalidArgumentError(
            f"exactly one RasterSymbolizer is required, found {len(symbolizers)}."
        )
    return symbolizers[0]


def _source_band(image: Image, symbolizer: ET.Element) -> Band:
    """The band a ChannelSelection names (by band name, or 1-based number), else the first."""
    channel = _find(symbolizer, "SourceChannelName")
    if channel is None or not (channel.text or "").strip():
        if not image.bands:
            raise InvalidArgumentError("the image has no bands.")
        return image.bands[0]
    name = (channel.text or "").strip()
    if name in image.band_names:
        return image.band(name)
    if name.isdigit() and 1 <= int(name) <= len(image.bands):
        return image.bands[int(name) - 1]
    raise InvalidArgumentError(f"no band '{name}' in the image.")


@algorithm("Image.sldStyle")
def sld_style(input: Image, sldXml: str) -> Image:
    """Styles one band with the ColorMap of an OGC SLD RasterSymbolizer (type ramp, intervals
    or values; entries with quantity, color and opacity), giving 8-bit bands 'vis-red',
    'vis-green' and 'vis-blue'. The document may be complete or just the RasterSymbolizer.

    Args:
        input: The image to style.
        sldXml: The SLD XML: exactly one RasterSymbolizer with a ColorMap.
    """
    symbolizer = _parse_sld(sldXml)
    color_map = _find(symbolizer, "ColorMap")
    if color_map is None:
        raise InvalidArgumentError("the RasterSymbolizer has no ColorMap.")
    kind = color_map.get("type", "ramp")
    if kind not in COLOR_MAP_TYPES:
        raise InvalidArgumentError(
            f"ColorMap type '{kind}' is not one of {', '.join(COLOR_MAP_TYPES)}."
        )
    entries = []
    for entry in color_map:
        if _local(entry.tag) != "ColorMapEntry":
            continue
        try:
            quantity = float(entry.get("quantity", ""))
            opacity = float(entry.get("opacity", "1"))
        except ValueError:
            raise InvalidArgumentError(
                "a ColorMapEntry needs a numeric quantity (and opacity)."
            ) from None
        entries.append((quantity, _color(entry.get("color", "#000000")), opacity))
    if not entries:
        raise InvalidArgumentError("the ColorMap has no ColorMapEntry.")
    entries.sort(key=lambda e: e[0])
    quantities = tuple(e[0] for e in entries)
    colors = tuple(e[1] for e in entries)
    opacities = tuple(e[2] for e in entries)
    band = _source_band(input, symbolizer)
    bands = tuple(
        Band(
            name,
            ColorMapBand(band.source, kind, quantities, colors, opacities, i),
            band.projection,
            band.dimensions,
        )
        for i, name in enumerate(VIS_RGB)
    )
    return replace(input, bands=bands)
