"""Pixels of one band on one grid: values and a validity mask (Earth Engine's per-band mask).

An array-valued band (docs/decisions/0015-array-valued-pixels.md) has `data` of shape
(height, width, *dims): every pixel's array is padded to the chunk's largest extent per axis.
`lengths`, when present, has shape (height, width, rank) and gives each pixel's own extent per
axis; None means every pixel uses the whole padded extent. `valid` masks whole pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pixels:
    """`data` starts with the grid's (height, width) shape; `valid` is the band's mask."""

    data: np.ndarray
    valid: np.ndarray
    lengths: np.ndarray | None = None

    @classmethod
    def empty(cls, shape: tuple[int, int], dtype: np.dtype) -> Pixels:
        return cls(np.zeros(shape, dtype=dtype), np.zeros(shape, dtype=bool))

    @property
    def rank(self) -> int:
        """The number of array dimensions of each pixel (0 for scalar pixels)."""
        return self.data.ndim - self.valid.ndim

    def extents(self) -> np.ndarray:
        """Each pixel's extent per axis, shape (*valid.shape, rank)."""
        if self.lengths is not None:
            return self.lengths
        dims = np.asarray(self.data.shape[self.valid.ndim :], dtype=np.int64)
        return np.broadcast_to(dims, (*self.valid.shape, self.rank))
