"""Confusion (error) matrices: counts of actual classes (rows) against predicted ones (columns)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ConfusionMatrix:
    """A square matrix of counts. Row i holds the samples whose actual class is `order[i]`,
    column j those predicted as `order[j]`."""

    counts: tuple[tuple[float, ...], ...]
    order: tuple[int, ...]

    def array(self) -> np.ndarray:
        return np.asarray(self.counts, dtype=np.float64).reshape(len(self.order), len(self.order))

    def info(self) -> list[list[float]]:
        # getInfo of an Earth Engine ConfusionMatrix is its array, as nested lists.
        return [list(row) for row in self.counts]
