"""List: the basics, plus map and iterate with functions from the expression."""

from __future__ import annotations

import builtins
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openee.algorithms.aggregate import reduce_columns
from openee.algorithms.array_value import ArrayValue
from openee.algorithms.coerce import coerce
from openee.algorithms.registry import algorithm
from openee.algorithms.string import display, encode_json
from openee.errors import InvalidArgumentError
from openee.values.filter import Filter
from openee.values.geometry import Geometry
from openee.values.reducer import Reducer
from openee.values.size import MAX_ELEMENTS, ValueTooLargeError, check_count, check_leaves


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
    check_count(len(list) + len(other))  # before building: doubling is the usual bomb
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
        end: The last number (inclusive).
        step: The increment. Default: 1. Ignored when both end and count are given.
        count: How many numbers; with end, they are spread evenly from start to end.
    """
    if end is None and count is None:
        raise InvalidArgumentError("List.sequence needs end or count.")
    if end is not None and count is not None:
        # Earth Engine ignores step then: sequence(0, 10, 2, 3) is [0, 5, 10] (ee_list_sequence.py).
        step = (end - start) / (count - 1) if count > 1 else 1.0
    if step == 0:
        raise InvalidArgumentError("List.sequence step must not be 0.")
    if count is None:
        assert end is not None
        count = int((end - start) / step + 1e-9) + 1 if (end - start) * step >= 0 else 0
    if count > MAX_ELEMENTS:
        raise ValueTooLargeError(count)
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
    check_leaves(list)  # before building: nesting multiplies sizes
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


def sort_key(value: Any) -> tuple[int, Any]:
    """A total order over list elements: numbers, then strings, then other values by JSON."""
    if isinstance(value, bool | int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, encode_json(value))


@algorithm("List.sort")
def list_sort(list: list[Any], keys: list[Any] | None = None) -> list[Any]:
    """Sorts the list into ascending order, or by the corresponding elements of keys.

    Args:
        list: The list.
        keys: Sort keys, one per element; the list is ordered as the keys would be.
    """
    if keys is None:
        return sorted(list, key=sort_key)
    if len(keys) != len(list):
        raise InvalidArgumentError(
            f"List.sort: the keys ({len(keys)}) and the list ({len(list)}) differ in length."
        )
    order = sorted(range(len(list)), key=lambda i: sort_key(keys[i]))
    return [list[i] for i in order]


@algorithm("List.distinct")
def list_distinct(list: list[Any]) -> list[Any]:
    """Returns the list without duplicates, in order of first occurrence.

    Args:
        list: The list.
    """
    check_leaves(list)  # before building: nesting multiplies sizes
    out: builtins.list[Any] = []
    for item in list:
        if item not in out:
            out.append(item)
    return out


@algorithm("List.frequency")
def list_frequency(list: list[Any], element: Any) -> int:
    """Returns the number of elements equal to the element.

    Args:
        list: The list.
        element: The element to count.
    """
    return sum(1 for item in list if item == element)


@algorithm("List.equals")
def list_equals(list: list[Any], other: list[Any]) -> bool:
    """Returns true if the lists have equal elements in the same order.

    Args:
        list: The list.
        other: The list to compare with.
    """
    return list == other


@algorithm("List.containsAll")
def list_contains_all(list: list[Any], other: list[Any]) -> bool:
    """Returns true if the list contains every element of other.

    Args:
        list: The list.
        other: The elements to look for.
    """
    return all(item in list for item in other)


def _typed_get(items: builtins.list[Any], index: int, kind: str, check: Any) -> Any:
    value = items[_index(items, index)]
    if not check(value):
        raise InvalidArgumentError(f"Element {index} of the list is not a {kind}.")
    return value


@algorithm("List.getNumber")
def list_get_number(list: list[Any], index: int) -> Any:
    """Returns the number at the index; a negative index counts from the end.

    Args:
        list: The list.
        index: The position of the element.
    """
    return _typed_get(list, index, "number", lambda v: isinstance(v, int | float))


@algorithm("List.getString")
def list_get_string(list: list[Any], index: int) -> str:
    """Returns the string at the index; a negative index counts from the end.

    Args:
        list: The list.
        index: The position of the element.
    """
    return str(_typed_get(list, index, "string", lambda v: isinstance(v, str)))


@algorithm("List.getGeometry")
def list_get_geometry(list: list[Any], index: int) -> Geometry:
    """Returns the geometry at the index; a negative index counts from the end.

    Args:
        list: The list.
        index: The position of the element.
    """
    value = list[_index(list, index)]
    geometry = coerce(value, "Geometry", "element", optional=False)
    assert isinstance(geometry, Geometry)
    return geometry


def _find_sublist(items: builtins.list[Any], target: builtins.list[Any], last: bool) -> int:
    n, m = len(items), len(target)
    starts = range(n - m, -1, -1) if last else range(n - m + 1)
    for i in starts:
        if items[i : i + m] == target:
            return i
    return -1


@algorithm("List.indexOfSublist")
def list_index_of_sublist(list: list[Any], target: list[Any]) -> int:
    """Returns the start of the first occurrence of target as a sublist, or -1.

    Args:
        list: The list.
        target: The sublist to look for.
    """
    return _find_sublist(list, target, last=False)


@algorithm("List.lastIndexOfSubList")
def list_last_index_of_sublist(list: list[Any], target: list[Any]) -> int:
    """Returns the start of the last occurrence of target as a sublist, or -1.

    Args:
        list: The list.
        target: The sublist to look for.
    """
    return _find_sublist(list, target, last=True)


@algorithm("List.insert")
def list_insert(list: list[Any], index: int, element: Any) -> list[Any]:
    """Inserts the element at the index; a negative index counts from the end.

    Args:
        list: The list.
        index: The position of the new element.
        element: The element to insert.
    """
    i = index + len(list) if index < 0 else index
    if not 0 <= i <= len(list):
        raise InvalidArgumentError(f"List index out of bounds: {index} (size {len(list)}).")
    return [*list[:i], element, *list[i:]]


@algorithm("List.set")
def list_set(list: list[Any], index: int, element: Any) -> list[Any]:
    """Replaces the element at the index; a negative index counts from the end.

    Args:
        list: The list.
        index: The position of the element.
        element: The new element.
    """
    i = _index(list, index)
    return [*list[:i], element, *list[i + 1 :]]


@algorithm("List.join")
def list_join(list: list[Any], separator: str = "") -> str:
    """Joins the elements into a string; numbers are written plainly, other values as JSON.

    Args:
        list: The list.
        separator: The string between elements.
    """
    return separator.join(display(item) for item in list)


@algorithm("List.remove")
def list_remove(list: list[Any], element: Any) -> list[Any]:
    """Removes the first occurrence of the element.

    Args:
        list: The list.
        element: The element to remove.
    """
    if element not in list:
        return builtins.list(list)
    i = list.index(element)
    return [*list[:i], *list[i + 1 :]]


@algorithm("List.removeAll")
def list_remove_all(list: list[Any], other: list[Any]) -> list[Any]:
    """Removes every element that is in other.

    Args:
        list: The list.
        other: The elements to remove.
    """
    return [item for item in list if item not in other]


@algorithm("List.repeat")
def list_repeat(value: Any, count: int) -> list[Any]:
    """Returns a list holding the value count times.

    Args:
        value: The value.
        count: The number of copies.
    """
    if count < 0:
        raise InvalidArgumentError("List.repeat: count must not be negative.")
    check_leaves(value, copies=count)
    return [value] * count


@algorithm("List.replace")
def list_replace(list: list[Any], oldval: Any, newval: Any) -> list[Any]:
    """Replaces the first occurrence of oldval with newval.

    Args:
        list: The list.
        oldval: The value to replace.
        newval: The replacement.
    """
    if oldval not in list:
        return builtins.list(list)
    i = list.index(oldval)
    return [*list[:i], newval, *list[i + 1 :]]


@algorithm("List.replaceAll")
def list_replace_all(list: list[Any], oldval: Any, newval: Any) -> list[Any]:
    """Replaces every occurrence of oldval with newval.

    Args:
        list: The list.
        oldval: The value to replace.
        newval: The replacement.
    """
    return [newval if item == oldval else item for item in list]


@algorithm("List.rotate")
def list_rotate(list: list[Any], distance: int) -> list[Any]:
    """Rotates the elements: the element at i moves to (i + distance) modulo the size.

    Args:
        list: The list.
        distance: The distance to rotate by; negative rotates towards the start.
    """
    if not list:
        return []
    shift = distance % len(list)
    return [*list[len(list) - shift :], *list[: len(list) - shift]]


@algorithm("List.shuffle")
def list_shuffle(list: list[Any], seed: Any = None) -> list[Any]:
    """Randomly permutes the list; the same seed gives the same permutation (not Earth Engine's).

    Args:
        list: The list.
        seed: The seed of the random generator; random if null.
    """
    out = builtins.list(list)
    random.Random(encode_json(seed) if seed is not None else None).shuffle(out)
    return out


@algorithm("List.splice")
def list_splice(
    list: list[Any], start: int, count: int, other: list[Any] | None = None
) -> list[Any]:
    """Removes count elements from start and inserts the elements of other there.

    Args:
        list: The list.
        start: The position to start at; negative counts from the end.
        count: The number of elements to remove.
        other: The elements to insert. Default: none.
    """
    i = max(0, start + len(list)) if start < 0 else min(start, len(list))
    if count < 0:
        raise InvalidArgumentError("List.splice: count must not be negative.")
    return [*list[:i], *(other or []), *list[i + count :]]


@algorithm("List.swap")
def list_swap(list: list[Any], pos1: int, pos2: int) -> list[Any]:
    """Swaps the elements at two positions.

    Args:
        list: The list.
        pos1: The position of the first element.
        pos2: The position of the second element.
    """
    out = builtins.list(list)
    i, j = _index(out, pos1), _index(out, pos2)
    out[i], out[j] = out[j], out[i]
    return out


@algorithm("List.unzip")
def list_unzip(list: list[Any]) -> list[list[Any]]:
    """Transposes a list of lists; the result is as long as the shortest inner list.

    Args:
        list: The list of lists.
    """
    if not all(isinstance(item, builtins.list | tuple) for item in list):
        raise InvalidArgumentError("List.unzip: every element must be a list.")
    if not list:
        return []
    return [builtins.list(column) for column in zip(*list, strict=False)]


@dataclass(frozen=True)
class ListItem:
    """A list element as a filterable element: its value is the property 'item'."""

    value: Any

    def get(self, name: str) -> object:
        return self.value if name == "item" else None

    def footprint(self) -> Geometry | None:
        return self.value if isinstance(self.value, Geometry) else None


@algorithm("List.filter")
def list_filter(list: list[Any], filter: Filter) -> list[Any]:
    """Keeps the elements that pass the filter; the filter sees each element as 'item'.

    Args:
        list: The list.
        filter: The filter, e.g. ee.Filter.gt('item', 3).
    """
    return [item for item in list if filter.matches(ListItem(item))]


@algorithm("List.reduce")
def list_reduce(list: list[Any], reducer: Reducer) -> Any:
    """Reduces the list with a reducer.

    With a multi-input reducer each element is a list of inputs; a single output is returned
    as is, several as a dictionary.

    Args:
        list: The list.
        reducer: The reducer.
    """
    n = reducer.num_inputs()
    if n == 1:
        columns = [builtins.list(list)]
    else:
        if not all(isinstance(row, builtins.list | tuple) and len(row) == n for row in list):
            raise InvalidArgumentError(
                f"List.reduce: the reducer takes {n} inputs; every element must be a list of {n}."
            )
        columns = [[row[i] for row in list] for i in range(n)]
    result = reduce_columns(reducer, columns)
    return next(iter(result.values())) if len(result) == 1 else result


def as_array(value: Any, what: str) -> builtins.list[Any]:
    """An Earth Engine Array as it travels here: a number or a rectangular nested list of them,
    or an ee.Array stored as a property or element (ee_featurecollection_getarray.py)."""
    if isinstance(value, ArrayValue):
        return builtins.list(value.info())

    def shape(v: Any) -> tuple[int, ...]:
        if isinstance(v, bool) or not isinstance(v, int | float | builtins.list | tuple):
            raise InvalidArgumentError(f"{what} is not an array of numbers.")
        if isinstance(v, int | float):
            return ()
        shapes = {shape(x) for x in v}
        if len(shapes) > 1:
            raise InvalidArgumentError(f"{what} is not a rectangular array.")
        return (len(v), *(shapes.pop() if shapes else ()))

    shape(value)
    return value if isinstance(value, builtins.list) else [value]


@algorithm("List.getArray")
def list_get_array(list: list[Any], index: int) -> list[Any]:
    """Returns the array (a list of numbers, or nested lists) at the index.

    Args:
        list: The list.
        index: The position of the element; negative counts from the end.
    """
    return as_array(list[_index(list, index)], f"Element {index} of the list")
