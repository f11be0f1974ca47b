"""Visualization: bands to 8-bit RGB(A), as Earth Engine's visualizationOptions describe."""

from __future__ import annotations

from dataclasses import dataclass

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
    palette: tuple[tuple[int, int, int], ...] = ()
    gamma: tuple[float, ...] = ()


def to_rgba8(raster: ComputedRaster, vis: Visualization) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 1 or 3) uint8 values and an (H, W) uint8 alpha (0 where any band is masked,
    the least mask fraction of the bands times the opacity elsewhere)."""
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
    alpha = _alpha(raster, vis.opacity)
    if not (vis.ranges or vis.gamma or vis.palette) and all(
        band.data.dtype == np.uint8 for band in raster.bands
    ):
        # Bytes stretched over 0-255 to bytes are the bytes themselves (what getMapId and
        # getThumbURL send: Image.visualize did the stretch), without the float round trip.
        return np.stack([band.data for band in raster.bands], axis=-1), alpha
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
    if vis.palette:
        return _apply_palette(channels[0], vis.palette), alpha
    return np.stack([_byte(c) for c in channels], axis=-1), alpha


def _alpha(raster: ComputedRaster, opacity: float) -> np.ndarray:
    """round(255 * mask * opacity) where every band is valid, else 0: a fractional mask is the
    pixel's opacity ("Floating point mask values between 0 and 1 will be used to define
    opacity in visualization", ee_image_updatemask.py); halves round up (0.5 gives 128)."""
    valid = raster.all_valid()
    weight = raster.weight()
    if weight is None:
        return np.where(valid, int(np.floor(255.0 * opacity + 0.5)), 0).astype(np.uint8)
    scaled = np.floor(weight.astype(np.float64) * (255.0 * opacity) + 0.5)
    return np.where(valid, np.clip(scaled, 0, 255), 0).astype(np.uint8)


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
