"""Reducer: the constructors of the registry's reducers, and the modifiers (repeat, setOutputs,
forEachBand, ...), as data (see `openee.values.reducer`).

Lists of values are reduced by `openee.algorithms.aggregate`; pixels by `openee.raster.reduce`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from openee.algorithms.aggregate import evaluate
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Image
from openee.reducers.constructors import for_each
from openee.reducers.registry import SPECS, UNWEIGHTED, spec
from openee.values.reducer import Reducer

# The constructors of the reducers of the registry (openee.reducers.constructors); the
# functions below change a reducer they are given.
for _spec in SPECS.values():
    if _spec.make is not None:
        algorithm(f"Reducer.{_spec.name}")(_spec.make)


# -- combinators ----------------------------------------------------------------------------------


@algorithm("Reducer.repeat")
def repeat(reducer: Reducer, count: int) -> Reducer:
    """Creates a reducer that applies the given reducer to `count` inputs independently.

    Each output becomes a list, with one value per copy.

    Args:
        reducer: The reducer to repeat.
        count: The number of copies.
    """
    if count < 1:
        raise InvalidArgumentError("Reducer.repeat: count must be at least 1.")
    if spec(reducer.name).combinator or reducer.repeat != 1:
        raise InvalidArgumentError("Reducer.repeat: only simple reducers can be repeated.")
    return replace(reducer, repeat=count)


@algorithm("Reducer.forEachBand")
def for_each_band(reducer: Reducer, image: Image) -> Reducer:
    """Creates a reducer that applies a copy of the reducer to each band of the image, the
    outputs named after the bands (as Reducer.forEach with the band names).

    Args:
        reducer: The reducer to copy.
        image: The image whose band names name the copies.
    """
    return for_each(reducer, image.band_names)


@algorithm("Reducer.setOutputs")
def set_outputs(reducer: Reducer, outputs: list[str]) -> Reducer:
    """Returns the reducer with its outputs renamed.

    Args:
        reducer: The reducer.
        outputs: The new output names, as many as the reducer has outputs.
    """
    if len(outputs) != len(reducer.outputs):
        raise InvalidArgumentError(
            f"Reducer.setOutputs: the reducer has {len(reducer.outputs)} outputs, "
            f"but {len(outputs)} names were given."
        )
    return reducer.with_outputs(tuple(outputs))


@algorithm("Reducer.getOutputs")
def get_outputs(reducer: Reducer) -> list[Any]:
    """Returns the output names of the reducer.

    Args:
        reducer: The reducer.
    """
    return list(reducer.outputs)


@algorithm("Reducer.unweighted")
def unweighted(reducer: Reducer) -> Reducer:
    """Returns a version of the reducer with its weighted inputs made unweighted: over a
    region, every pixel whose centre is inside weighs 1 (docs/decisions/0054).

    Args:
        reducer: The reducer.
    """
    if reducer.parts:
        return replace(reducer, parts=tuple(unweighted(part) for part in reducer.parts))
    options = tuple(o for o in reducer.options if o[0] != UNWEIGHTED)
    return replace(reducer, options=(*options, (UNWEIGHTED, True)))


def reduce_values(reducer: Reducer, values: list[Any]) -> Any:
    """Reduce one column of values with a single-input, single-output reducer."""
    return evaluate(reducer if reducer.repeat == 1 else replace(reducer, repeat=1), [values])[0]
