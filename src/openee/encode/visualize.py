"""Visualization: bands to 8-bit RGB(A), as Earth Engine's visualizationOptions describe."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import ImageColor

from openee.encode.raster import ComputedRaster
from openee.errors import InvalidArgumentError


@dataclass(frozen=True)
class Range:
    min: float
    max: float


@dataclass(frozen=True)
class Visualization:
    ranges: tuple[Range, ...] = ()
    opacity: float = 1.0
    palette: tuple[tuple[int, int, int], ...] = ()
    gamma: tuple[float, ...] = ()

    @classmethod
    def from_wire(cls, options: dict[str, Any] | None) -> Visualization:
        if not options:
            return cls()
        if not isinstance(options, dict):
            raise InvalidArgumentError("visualizationOptions must be an object.")
        unsupported = sorted(set(options) - {"ranges", "opacity", "paletteColors", "gamma"})
        if unsupported:
            raise InvalidArgumentError(
                f"visualizationOptions field(s) not supported yet: {', '.join(unsupported)}."
            )
        ranges = []
        for r in options.get("ranges") or []:
            if not isinstance(r, dict):
                raise InvalidArgumentError("Each visualization range must be {min, max}.")
            try:
                ranges.append(Range(float(r.get("min", 0)), float(r.get("max", 1))))
            except (TypeError, ValueError):
                raise InvalidArgumentError(
                    "Visualization range min and max must be numbers."
                ) from None
        opacity = options.get("opacity", 1.0)
        if not isinstance(opacity, int | float) or not 0 <= opacity <= 1:
            raise InvalidArgumentError("visualizationOptions.opacity must be between 0 and 1.")
        return cls(
            tuple(ranges),
            float(opacity),
            tuple(_color(c) for c in options.get("paletteColors") or []),
            _gamma(options.get("gamma")),
        )


def _color(value: object) -> tuple[int, int, int]:
    """A palette colour: 'RRGGBB', '#RRGGBB', or a CSS colour name."""
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError(f"Invalid palette colour {value!r}.")
    text = value if not re.fullmatch(r"[0-9a-fA-F]{6}|[0-9a-fA-F]{3}", value) else "#" + value
    try:
        rgb = ImageColor.getrgb(text)
    except ValueError:
        raise InvalidArgumentError(f"Invalid palette colour '{value}'.") from None
    return rgb[0], rgb[1], rgb[2]


def _gamma(value: object) -> tuple[float, ...]:
    """`gamma` is a number, `{"value": g}`, or a list of them (one per band)."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        g = item.get("value") if isinstance(item, dict) else item
        if isinstance(g, bool) or not isinstance(g, int | float) or g <= 0:
            raise InvalidArgumentError("visualizationOptions.gamma must be positive numbers.")
        out.append(float(g))
    return tuple(out)


def to_rgba8(raster: ComputedRaster, vis: Visualization) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 1 or 3) uint8 values and an (H, W) uint8 alpha (0 where any band is masked)."""
    count = len(raster.bands)
    if vis.palette and count != 1:
        raise InvalidArgumentError(f"A palette needs exactly 1 band, got {count}.")
    if count not in (1, 3):
        raise InvalidArgumentError(
            f"Expected 1 or 3 bands for a visualized image, got {count}; use bandIds to choose."
        )
    if vis.ranges and len(vis.ranges) not in (1, count):
        raise InvalidArgumentError(
            f"visualizationOptions.ranges must have 1 or {count} entries, got {len(vis.ranges)}."
        )
    channels = []
    for i, band in enumerate(raster.bands):
        if vis.ranges:
            r = vis.ranges[i if len(vis.ranges) > 1 else 0]
        elif band.data.dtype == np.uint8:
            r = Range(0, 255)
        else:
            r = Range(0, 1) if band.data.dtype.kind == "f" else Range(0, 255)
        span = r.max - r.min
        unit = np.clip((band.data.astype(np.float64) - r.min) / (span if span else 1.0), 0, 1)
        if vis.gamma:
            unit = unit ** (1.0 / vis.gamma[i if len(vis.gamma) > 1 else 0])
        channels.append(unit)
    alpha = np.where(raster.all_valid(), round(255 * vis.opacity), 0).astype(np.uint8)
    if vis.palette:
        return _apply_palette(channels[0], vis.palette), alpha
    return np.stack([_byte(c) for c in channels], axis=-1), alpha


def _byte(unit: np.ndarray) -> np.ndarray:
    return np.rint(unit * 255.0).astype(np.uint8)


def _apply_palette(unit: np.ndarray, palette: tuple[tuple[int, int, int], ...]) -> np.ndarray:
    """Linear interpolation between palette colours spread evenly over [0, 1]."""
    colors = np.array(palette, dtype=np.float64)
    if len(colors) == 1:
        return np.broadcast_to(colors[0].astype(np.uint8), (*unit.shape, 3)).copy()
    stops = np.linspace(0.0, 1.0, len(colors))
    rgb = [np.interp(unit, stops, colors[:, c]) for c in range(3)]
    return np.clip(np.rint(np.stack(rgb, axis=-1)), 0, 255).astype(np.uint8)
