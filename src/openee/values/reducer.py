"""Reducers as data. The numeric kernels live with the values they reduce (raster/, algorithms/).

A simple reducer is named after its Earth Engine constructor ('mean', 'minMax', 'percentile',
...). Combinators are reducers too: 'combine' (parts: the two reducers), 'forEach', 'group' and
'forEachElement' and 'disaggregate' (parts: the reducer they apply). `repeat` copies a reducer over that many inputs; `outputs` are
the output names, which `setOutputs` may replace.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Reducer:
    """A named reducer; `outputs` are the output names Earth Engine gives it."""

    name: str
    outputs: tuple[str, ...]
    repeat: int = 1
    # Numeric parameters, e.g. the percentiles of Reducer.percentile, one per output.
    params: tuple[float, ...] = ()
    # Inputs of one copy (2 for linearFit, the tuple size of toList, ...; a combinator's are
    # those its parts take).
    inputs: int = 1
    # The reducers a combinator applies.
    parts: tuple[Reducer, ...] = ()
    # Other settings, as (name, value) pairs: histogram bounds, group field, ...
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)

    def num_inputs(self) -> int:
        """How many input values one reduction step takes (a combinator's constructor sets
        `inputs` from its parts)."""
        return self.inputs * self.repeat

    def with_outputs(self, outputs: tuple[str, ...]) -> Reducer:
        return replace(self, outputs=outputs)

    def info(self) -> dict[str, object]:
        return {"type": "Reducer", "name": self.name, "outputs": list(self.outputs)}


def simple(name: str) -> Reducer:
    return Reducer(name, (name,))
