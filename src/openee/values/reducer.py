"""Reducers as data. The numeric kernels live with the values they reduce (raster/, algorithms/)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reducer:
    """A named reducer; `outputs` are the output names Earth Engine gives it."""

    name: str
    outputs: tuple[str, ...]
    repeat: int = 1
    # Numeric parameters, e.g. the percentiles of Reducer.percentile, one per output.
    params: tuple[float, ...] = ()

    def info(self) -> dict[str, object]:
        return {"type": "Reducer", "name": self.name, "outputs": list(self.outputs)}


def simple(name: str) -> Reducer:
    return Reducer(name, (name,))
