"""Visualization: bands to 8-bit RGB(A), as Earth Engine's visualizationOptions describe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

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

    @classmethod
    def from_wire(cls, options: dict[str, Any] | None) -> Visualization:
        if not options:
            return cls()
        if not isinstance(options, dict):
            raise InvalidArgumentError("visualizationOptions must be an object.")
        unsupported = sorted(set(options) - {"ranges", "opacity"})
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
        return cls(tuple(ranges), float(opacity))


def to_rgba8(raster: ComputedRaster, vis: Visualization) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 1 or 3) uint8 values and an (H, W) uint8 alpha (0 where any band is masked)."""
    count = len(raster.bands)
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
        scaled = (band.data.astype(np.float64) - r.min) / (span if span else 1.0) * 255.0
        channels.append(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))
    alpha = np.where(raster.all_valid(), round(255 * vis.opacity), 0).astype(np.uint8)
    return np.stack(channels, axis=-1), alpha
