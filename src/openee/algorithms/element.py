"""Element (what features, images and collections share) and the generic algorithms.

`If`, `IsEqual`, `ObjectType` and `Describe` are `ee.Algorithms.*` in the client. `If` gets
both cases evaluated (the evaluator evaluates arguments before the call) and returns one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from openee.algorithms.coerce import type_name
from openee.algorithms.lists import as_array
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values.feature import Feature
from openee.values.info import to_info


def _typed_property(object: Any, property: str, kind: str, check: Any) -> Any:
    value = object.get(property)
    if value is not None and not check(value):
        raise InvalidArgumentError(f"Property '{property}' is not a {kind}.")
    return value


@algorithm("Element.getNumber")
def get_number(object: Any, property: str) -> Any:
    """Extracts a number property from an element; null if it is absent.

    Args:
        object: The element.
        property: The property name.
    """
    return _typed_property(object, property, "number", lambda v: isinstance(v, int | float))


@algorithm("Element.getString")
def get_string(object: Any, property: str) -> Any:
    """Extracts a string property from an element; null if it is absent.

    Args:
        object: The element.
        property: The property name.
    """
    return _typed_property(object, property, "string", lambda v: isinstance(v, str))


@algorithm("Element.copyProperties")
def copy_properties(
    destination: Any = None,
    source: Any = None,
    properties: list[str] | None = None,
    exclude: list[str] | None = None,
) -> Any:
    """Copies properties from one element to another.

    Args:
        destination: The element to copy properties to.
        source: The element to copy properties from.
        properties: The properties to copy. Default: all non-system properties.
        exclude: Properties not to copy (only when properties is not given).
    """
    if destination is None or source is None:
        raise InvalidArgumentError("Element.copyProperties: destination and source are required.")
    if properties is not None and exclude is not None:
        raise InvalidArgumentError(
            "Element.copyProperties: give either properties or exclude, not both."
        )
    available = dict(source.properties)
    if properties is None:
        skipped = set(exclude or [])
        chosen = {
            k: v for k, v in available.items() if not k.startswith("system:") and k not in skipped
        }
    else:
        chosen = {k: source.get(k) for k in properties if source.get(k) is not None}
    return replace(destination, properties={**destination.properties, **chosen})


@algorithm("Element.replaceProperties")
def replace_properties(destination: Any, source: Any = None) -> Any:
    """Replaces all the properties of an element with those of another (or none).

    Args:
        destination: The element whose properties are replaced.
        source: The element whose properties are taken. Default: none.
    """
    return replace(destination, properties=dict(source.properties) if source is not None else {})


def truthy(value: Any) -> bool:
    """Earth Engine's truth: 0, NaN, null, false and empty strings, lists and dicts are false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str | list | tuple | dict):
        return len(value) > 0
    return True


@algorithm("If", lazy=("trueCase", "falseCase"))
def if_(
    condition: Any = None,
    trueCase: Callable[[], Any] | None = None,
    falseCase: Callable[[], Any] | None = None,
) -> Any:
    """Selects one of its inputs based on a condition.

    Args:
        condition: The condition; 0, NaN, null, false and empty strings, lists and
            dictionaries are false, everything else true.
        trueCase: The result if the condition is true; evaluated only then.
        falseCase: The result if the condition is false; evaluated only then.
    """
    branch = trueCase if truthy(condition) else falseCase
    return branch() if branch is not None else None


@algorithm("IsEqual")
def is_equal(left: Any = None, right: Any = None) -> bool:
    """Returns whether two values are equal (as their JSON descriptions).

    Args:
        left: The first value.
        right: The second value.
    """
    try:
        return bool(to_info(left) == to_info(right))
    except TypeError:
        return left is right


@algorithm("ObjectType")
def object_type(value: Any = None) -> str:
    """Returns the type of a value as a string, e.g. 'Integer', 'String' or 'Image'.

    Args:
        value: The value.
    """
    return type_name(value)


@algorithm("Describe")
def describe(input: Any) -> Any:
    """Describes a value: its JSON description, as getInfo returns it.

    Args:
        input: The value.
    """
    try:
        return to_info(input)
    except TypeError:
        raise InvalidArgumentError(f"Cannot describe a {type_name(input)}.") from None


@algorithm("Element.getArray")
def get_array(object: Any, property: str) -> Any:
    """Extracts an array property (a list of numbers, or nested lists) from an element.

    Args:
        object: The element.
        property: The property name.
    """
    value = object.get(property)
    return None if value is None else as_array(value, f"Property '{property}'")


@algorithm("Feature.toArray")
def to_array(feature: Feature, properties: list[str]) -> list[Any]:
    """Returns the given number properties of a feature as a 1-D array.

    Args:
        feature: The feature.
        properties: The properties, which must all be numbers.
    """
    values = [feature.get(p) for p in properties]
    for name, value in zip(properties, values, strict=True):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgumentError(f"Feature.toArray: property '{name}' is not a number.")
    return values
