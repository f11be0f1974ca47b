"""Kernels as data: a small frozen tree that becomes a weight matrix for a given pixel size.

A kernel in pixel units has one matrix; a kernel whose radius is in metres ('meters' units)
becomes a matrix only once the pixel size of the grid it is applied to is known, so a kernel is
kept as its definition (shape and arguments, or the kernels an `add`/`rotate`/`inverse` combines)
and `matrix(metres_per_pixel)` builds the weights.

Shapes, with offsets (dx, dy) from the focus in pixels and r the radius in pixels:
square |dx|, |dy| <= r; rectangle |dx| <= rx, |dy| <= ry; circle dx² + dy² <= r²;
diamond |dx| + |dy| <= r; octagon additionally |dx| + |dy| <= r·√2; plus dx = 0 or dy = 0;
cross |dx| = |dy| (the diagonals). The matrix spans floor(r) pixels each side of the focus.
Distance kernels (euclidean, manhattan, chebyshev) hold the distance itself over the whole
square; gaussian holds exp(-(dx² + dy²) / 2σ²) over |dx|, |dy| < r (radius 3: 5x5). `normalize` divides by the sum (when it is not
zero), then `magnitude` scales. Earth Engine's documented example matrices of these
constructors (radius 3) are reproduced exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from openee.errors import InvalidArgumentError

Weights = tuple[tuple[float, ...], ...]

# The boolean shapes and the distance shapes that take a radius.
RADIUS_SHAPES = (
    "square",
    "circle",
    "diamond",
    "octagon",
    "plus",
    "cross",
    "euclidean",
    "manhattan",
    "chebyshev",
    "gaussian",
)

FIXED_WEIGHTS: dict[str, list[list[float]]] = {
    "laplacian4": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "laplacian8": [[1, 1, 1], [1, -8, 1], [1, 1, 1]],
    "sobel": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    # Opposite in sign to sobel, as Earth Engine prints it (ee_kernel_prewitt.py).
    "prewitt": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
    "roberts": [[1, 0], [0, -1]],
    "compass": [[1, 1, -1], [1, -2, -1], [1, 1, -1]],
    "kirsch": [[5, -3, -3], [5, 0, -3], [5, -3, -3]],
}

# A kernel wider than this many pixels is refused (a metric radius on a fine grid).
MAX_KERNEL_SIDE = 1025


@dataclass(frozen=True)
class KernelMatrix:
    """Weights (rows top to bottom) and the focus: column `x` and row `y` of the matrix."""

    weights: Weights
    x: int
    y: int

    @property
    def width(self) -> int:
        return len(self.weights[0])

    @property
    def height(self) -> int:
        return len(self.weights)

    def array(self) -> np.ndarray:
        return np.asarray(self.weights, dtype=np.float64)

    @classmethod
    def of(cls, weights: np.ndarray, x: int, y: int) -> KernelMatrix:
        rows = tuple(tuple(float(v) for v in row) for row in np.asarray(weights, np.float64))
        return cls(rows, x, y)


@dataclass(frozen=True)
class Kernel:
    """A kernel's definition. `kind` is a constructor name ('square', 'fixed', 'sobel', ...) or a
    combinator ('add', 'rotate', 'inverse') applied to `operands`."""

    kind: str
    radius: float = 0.0
    y_radius: float = 0.0  # rectangle
    sigma: float = 1.0  # gaussian
    units: str = "pixels"
    normalize: bool = False
    magnitude: float = 1.0
    fixed: KernelMatrix | None = None
    operands: tuple[Kernel, ...] = ()
    rotations: int = 0

    @property
    def metric(self) -> bool:
        """Whether the kernel's size depends on the pixel size (units of meters somewhere)."""
        return self.units == "meters" or any(k.metric for k in self.operands)

    def matrix(self, metres_per_pixel: float | None = None) -> KernelMatrix:
        """The weights for pixels of the given size (needed only by metric kernels)."""
        if self.kind == "add":
            first, second = (k.matrix(metres_per_pixel) for k in self.operands)
            return _finish(_add(first, second), self.normalize, 1.0)
        if self.kind == "rotate":
            return _rotate(self.operands[0].matrix(metres_per_pixel), self.rotations)
        if self.kind == "inverse":
            inner = self.operands[0].matrix(metres_per_pixel)
            w = inner.array()
            with np.errstate(divide="ignore"):
                inverted = np.where(w != 0, 1.0 / np.where(w != 0, w, 1.0), 0.0)
            return KernelMatrix.of(inverted, inner.x, inner.y)
        if self.kind == "fixed":
            assert self.fixed is not None
            return _finish(self.fixed, self.normalize, self.magnitude)
        if self.kind in FIXED_WEIGHTS:
            w = np.asarray(FIXED_WEIGHTS[self.kind], dtype=np.float64)
            return _finish(
                KernelMatrix.of(w, w.shape[1] // 2, w.shape[0] // 2), self.normalize, self.magnitude
            )
        scale = 1.0
        if self.units == "meters":
            if metres_per_pixel is None or metres_per_pixel <= 0:
                raise InvalidArgumentError(
                    "A kernel in meters needs a grid to be applied to before it has weights."
                )
            scale = 1.0 / metres_per_pixel
        if self.kind == "rectangle":
            w = _rectangle(self.radius * scale, self.y_radius * scale)
        else:
            w = _shape(self.kind, self.radius * scale, self.sigma * scale)
        return _finish(
            KernelMatrix.of(w, w.shape[1] // 2, w.shape[0] // 2), self.normalize, self.magnitude
        )

    def info(self) -> dict[str, Any]:
        """getInfo: the weights with their size and focus (what Kernel.fixed takes back); a metric
        kernel, whose weights depend on the grid, is described by its definition instead."""
        if self.metric:
            info: dict[str, Any] = {"type": "Kernel", "kind": self.kind, "units": "meters"}
            if self.kind in RADIUS_SHAPES or self.kind == "rectangle":
                info["radius"] = self.radius
            if self.kind == "rectangle":
                info["yRadius"] = self.y_radius
            return info
        m = self.matrix()
        return {
            "type": "Kernel",
            "width": m.width,
            "height": m.height,
            "x": m.x,
            "y": m.y,
            "weights": [list(row) for row in m.weights],
        }


def check_units(units: str) -> str:
    if units not in ("pixels", "meters"):
        raise InvalidArgumentError(f"Invalid units '{units}': use 'pixels' or 'meters'.")
    return units


def _half(radius: float) -> int:
    if not math.isfinite(radius) or radius < 0:
        raise InvalidArgumentError(f"Invalid kernel radius {radius}.")
    n = math.floor(radius + 1e-9)
    if 2 * n + 1 > MAX_KERNEL_SIDE:
        raise InvalidArgumentError(
            f"The kernel is too large: {2 * n + 1} pixels wide (at most {MAX_KERNEL_SIDE})."
        )
    return n


def _offsets(n_x: int, n_y: int) -> tuple[np.ndarray, np.ndarray]:
    dy, dx = np.mgrid[-n_y : n_y + 1, -n_x : n_x + 1].astype(np.float64)
    return dx, dy


def _rectangle(x_radius: float, y_radius: float) -> np.ndarray:
    dx, _ = _offsets(_half(x_radius), _half(y_radius))
    return np.ones_like(dx)


def _shape(kind: str, radius: float, sigma: float) -> np.ndarray:
    n = _half(radius)
    if kind == "gaussian":
        # Earth Engine's Gaussian spans the pixels strictly inside the radius: radius 3 gives
        # a 5x5 kernel normalized over those 25 pixels (ee_kernel_gaussian.py; ADR 0039).
        n = max(0, math.ceil(radius - 1e-9) - 1)
    dx, dy = _offsets(n, n)
    ax, ay = np.abs(dx), np.abs(dy)
    eps = 1e-9
    if kind == "square":
        inside = np.ones_like(dx, dtype=bool)
    elif kind == "circle":
        inside = dx**2 + dy**2 <= radius**2 + eps
    elif kind == "diamond":
        inside = ax + ay <= radius + eps
    elif kind == "octagon":
        inside = ax + ay <= radius * math.sqrt(2) + eps
    elif kind == "plus":
        inside = (dx == 0) | (dy == 0)
    elif kind == "cross":
        inside = ax == ay
    elif kind == "euclidean":
        return np.hypot(dx, dy)
    elif kind == "manhattan":
        return ax + ay
    elif kind == "chebyshev":
        return np.maximum(ax, ay)
    elif kind == "gaussian":
        if sigma <= 0:
            raise InvalidArgumentError("The sigma of a Gaussian kernel must be positive.")
        return np.exp(-(dx**2 + dy**2) / (2 * sigma**2))
    else:  # pragma: no cover - the constructors only pass known shapes
        raise InvalidArgumentError(f"Unknown kernel shape '{kind}'.")
    return inside.astype(np.float64)


def _finish(m: KernelMatrix, normalize: bool, magnitude: float) -> KernelMatrix:
    w = m.array()
    total = w.sum()
    if normalize and total != 0:
        w = w / total
    return KernelMatrix.of(w * magnitude, m.x, m.y)


def _add(a: KernelMatrix, b: KernelMatrix) -> KernelMatrix:
    """Pointwise sum with the two foci aligned; the result covers both."""
    left = max(a.x, b.x)
    top = max(a.y, b.y)
    right = max(a.width - 1 - a.x, b.width - 1 - b.x)
    bottom = max(a.height - 1 - a.y, b.height - 1 - b.y)
    out = np.zeros((top + bottom + 1, left + right + 1))
    for m in (a, b):
        r0, c0 = top - m.y, left - m.x
        out[r0 : r0 + m.height, c0 : c0 + m.width] += m.array()
    return KernelMatrix.of(out, left, top)


def _rotate(m: KernelMatrix, rotations: int) -> KernelMatrix:
    """Quarter turns, clockwise for positive counts; the focus turns with the weights."""
    w, x, y = m.array(), m.x, m.y
    for _ in range(rotations % 4):
        h = w.shape[0]
        w = np.rot90(w, -1)  # clockwise: new[r][c] = old[h-1-c][r]
        x, y = h - 1 - y, x
    return KernelMatrix.of(w, x, y)
