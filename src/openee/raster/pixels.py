"""Pixels of one band on one grid: values and a validity mask (Earth Engine's per-band mask)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pixels:
    """`data` and `valid` have the grid's (height, width) shape; `valid` is the band's mask."""

    data: np.ndarray
    valid: np.ndarray

    @classmethod
    def empty(cls, shape: tuple[int, int], dtype: np.dtype) -> Pixels:
        return cls(np.zeros(shape, dtype=dtype), np.zeros(shape, dtype=bool))
