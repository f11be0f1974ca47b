"""List: the basics, plus map and iterate with functions from the expression."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError


def _index(items: list[Any], index: int) -> int:
    i = index + len(items) if index < 0 else index
    if not 0 <= i < len(items):
        raise InvalidArgumentError(f"List index out of bounds: {index} (size {len(items)}).")
    return i


@algorithm("List.size")
def list_size(list: list[Any]) -> int:
    """Returns the number of elements in list.

    Args:
        list: The list.
    """
    return len(list)


@algorithm("List.length")
def list_length(list: list[Any]) -> int:
    """Returns the number of elements in list.

    Args:
        list: The list.
    """
    return len(list)


@algorithm("List.get")
def list_get(list: list[Any], index: int) -> Any:
    """Returns the element at the index; a negative index counts from the end.

    Args:
        list: The list.
        index: The position of the element.
    """
    return list[_index(list, index)]


@algorithm("List.slice")
def list_slice(
    list: list[Any], start: int, end: int | None = None, step: int | None = None
) -> list[Any]:
    """Returns a portion of the list between start (inclusive) and end (exclusive).

    Args:
        list: The list.
        start: The first position; negative counts from the end.
        end: The position after the last; negative counts from the end. Default: the end.
        step: The step between positions. Default: 1.
    """
    if step == 0:
        raise InvalidArgumentError("List.slice step must not be 0.")
    return list[start:end:step]


@algorithm("List.map")
def list_map(
    list: list[Any], baseAlgorithm: Callable[..., Any], dropNulls: bool = False
) -> list[Any]:
    """Maps an algorithm over a list.

    Args:
        list: The list.
        baseAlgorithm: A function of one argument, applied to each element.
        dropNulls: If true, results that are null are left out.
    """
    out = [baseAlgorithm(item) for item in list]
    return [v for v in out if v is not None] if dropNulls else out


@algorithm("List.iterate")
def list_iterate(list: list[Any], function: Callable[..., Any], first: Any) -> Any:
    """Applies a function of (element, previous result) to each element in turn.

    Args:
        list: The list.
        function: A function of two arguments: the element and the result so far.
        first: The initial result.
    """
    acc = first
    for item in list:
        acc = function(item, acc)
    return acc


@algorithm("List.cat")
def list_cat(list: list[Any], other: list[Any]) -> list[Any]:
    """Concatenates two lists.

    Args:
        list: The first list.
        other: The list appended to it.
    """
    return [*list, *other]


@algorithm("List.add")
def list_add(list: list[Any], element: Any) -> list[Any]:
    """Appends an element to the end of a list.

    Args:
        list: The list.
        element: The element to append.
    """
    return [*list, element]


@algorithm("List.contains")
def list_contains(list: list[Any], element: Any) -> bool:
    """Returns true if the list contains the element.

    Args:
        list: The list.
        element: The element to look for.
    """
    return element in list


@algorithm("List.reverse")
def list_reverse(list: list[Any]) -> list[Any]:
    """Reverses the order of the elements.

    Args:
        list: The list.
    """
    return list[::-1]


@algorithm("List.sequence")
def list_sequence(
    start: float, end: float | None = None, step: float = 1.0, count: int | None = None
) -> list[Any]:
    """Generates a sequence of numbers from start to end (inclusive) by step, or count numbers.

    Args:
        start: The first number.
        end: The last number (inclusive), if count is not given.
        step: The increment. Default: 1.
        count: How many numbers, if end is not given.
    """
    if (end is None) == (count is None):
        raise InvalidArgumentError("List.sequence needs exactly one of end and count.")
    if step == 0:
        raise InvalidArgumentError("List.sequence step must not be 0.")
    if count is None:
        assert end is not None
        count = int((end - start) / step + 1e-9) + 1 if (end - start) * step >= 0 else 0
    if count > 10_000_000:
        raise InvalidArgumentError("List.sequence: the sequence is too long.")
    ints = all(float(v).is_integer() for v in (start, step))
    return [int(start + i * step) if ints else start + i * step for i in range(max(count, 0))]


@algorithm("List.indexOf")
def list_index_of(list: list[Any], element: Any) -> int:
    """Returns the position of the first occurrence of the element, or -1.

    Args:
        list: The list.
        element: The element to look for.
    """
    return list.index(element) if element in list else -1


@algorithm("List.flatten")
def list_flatten(list: list[Any]) -> list[Any]:
    """Flattens nested lists into one list.

    Args:
        list: The list.
    """
    out: builtins.list[Any] = []
    for item in list:
        # `list` is the argument here (Earth Engine's name), hence builtins.list.
        nested = isinstance(item, builtins.list | tuple)
        out.extend(list_flatten(item) if nested else [item])
    return out


@algorithm("List.zip")
def list_zip(list: list[Any], other: list[Any]) -> list[list[Any]]:
    """Pairs the elements of two lists; the result is as long as the shorter one.

    Args:
        list: The first list.
        other: The second list.
    """
    return [[a, b] for a, b in zip(list, other, strict=False)]
