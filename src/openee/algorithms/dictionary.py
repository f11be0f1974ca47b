"""Dictionary."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from openee.algorithms.array_value import ArrayValue
from openee.algorithms.coerce import coerce
from openee.algorithms.lists import as_array
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Image, constant_image
from openee.values.geometry import Geometry


@algorithm("Dictionary")
def dictionary(input: Any = None) -> dict[str, Any]:
    """Constructs a dictionary from another dictionary or a list of alternating keys and values.

    Args:
        input: A dictionary, or a list [key1, value1, key2, value2, ...]. Default: empty.
    """
    if input is None:
        return {}
    if isinstance(input, dict):
        return dict(input)
    if isinstance(input, list) and len(input) % 2 == 0:
        return {str(input[i]): input[i + 1] for i in range(0, len(input), 2)}
    raise InvalidArgumentError("Dictionary: expected a dictionary or a list of key/value pairs.")


@algorithm("Dictionary.get")
def dictionary_get(dictionary: dict[str, Any], key: str, defaultValue: Any = None) -> Any:
    """Extracts a named value from a dictionary.

    Args:
        dictionary: The dictionary.
        key: The key to look up.
        defaultValue: The value returned when the key is absent; without it, absence is an error.
    """
    if key in dictionary:
        return dictionary[key]
    if defaultValue is not None:
        return defaultValue
    raise InvalidArgumentError(f"Dictionary does not contain key: '{key}'.")


@algorithm("Dictionary.keys")
def dictionary_keys(dictionary: dict[str, Any]) -> list[str]:
    """Retrieves the keys of a dictionary, in sorted order.

    Args:
        dictionary: The dictionary.
    """
    return sorted(dictionary)


@algorithm("Dictionary.values")
def dictionary_values(dictionary: dict[str, Any], keys: list[str] | None = None) -> list[Any]:
    """Returns the values of a dictionary, in key order or in the order of `keys`.

    Args:
        dictionary: The dictionary.
        keys: The keys to return the values of. Default: all, in sorted key order.
    """
    chosen = sorted(dictionary) if keys is None else keys
    missing = [k for k in chosen if k not in dictionary]
    if missing:
        raise InvalidArgumentError(f"Dictionary does not contain key: '{missing[0]}'.")
    return [dictionary[k] for k in chosen]


@algorithm("Dictionary.size")
def dictionary_size(dictionary: dict[str, Any]) -> int:
    """Returns the number of entries in a dictionary.

    Args:
        dictionary: The dictionary.
    """
    return len(dictionary)


@algorithm("Dictionary.contains")
def dictionary_contains(dictionary: dict[str, Any], key: str) -> bool:
    """Returns true if the dictionary contains the key.

    Args:
        dictionary: The dictionary.
        key: The key to look for.
    """
    return key in dictionary


@algorithm("Dictionary.set")
def dictionary_set(dictionary: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Sets the value of a key.

    Args:
        dictionary: The dictionary.
        key: The key.
        value: The value.
    """
    return {**dictionary, key: value}


def _typed(dictionary: dict[str, Any], key: str, kind: str, check: Callable[[Any], bool]) -> Any:
    if key not in dictionary:
        raise InvalidArgumentError(f"Dictionary does not contain key: '{key}'.")
    value = dictionary[key]
    if not check(value):
        raise InvalidArgumentError(f"Dictionary value of '{key}' is not a {kind}.")
    return value


@algorithm("Dictionary.getNumber")
def dictionary_get_number(dictionary: dict[str, Any], key: str) -> Any:
    """Extracts a named number from a dictionary.

    Args:
        dictionary: The dictionary.
        key: The key to look up.
    """
    return _typed(dictionary, key, "number", lambda v: isinstance(v, int | float))


@algorithm("Dictionary.getString")
def dictionary_get_string(dictionary: dict[str, Any], key: str) -> str:
    """Extracts a named string from a dictionary.

    Args:
        dictionary: The dictionary.
        key: The key to look up.
    """
    return str(_typed(dictionary, key, "string", lambda v: isinstance(v, str)))


@algorithm("Dictionary.getGeometry")
def dictionary_get_geometry(dictionary: dict[str, Any], key: str) -> Geometry:
    """Extracts a named geometry from a dictionary.

    Args:
        dictionary: The dictionary.
        key: The key to look up.
    """
    value = _typed(dictionary, key, "geometry", lambda v: True)
    geometry = coerce(value, "Geometry", key, optional=False)
    assert isinstance(geometry, Geometry)
    return geometry


@algorithm("Dictionary.combine")
def dictionary_combine(
    first: dict[str, Any], second: dict[str, Any], overwrite: bool = True
) -> dict[str, Any]:
    """Combines two dictionaries; with overwrite, the second's values win on shared keys.

    Args:
        first: The first dictionary.
        second: The second dictionary.
        overwrite: Whether values of second replace those of first for keys in both.
    """
    if overwrite:
        return {**first, **second}
    return {**second, **first}


@algorithm("Dictionary.fromLists")
def dictionary_from_lists(keys: list[str], values: list[Any]) -> dict[str, Any]:
    """Constructs a dictionary from a list of keys and a list of values of the same length.

    Args:
        keys: The keys.
        values: The values.
    """
    if len(keys) != len(values):
        raise InvalidArgumentError(
            f"Dictionary.fromLists: {len(keys)} keys but {len(values)} values."
        )
    return dict(zip(keys, values, strict=True))


@algorithm("Dictionary.map")
def dictionary_map(dictionary: dict[str, Any], baseAlgorithm: Callable[..., Any]) -> dict[str, Any]:
    """Maps a function of (key, value) over a dictionary; keys whose result is null are dropped.

    Args:
        dictionary: The dictionary.
        baseAlgorithm: A function of two arguments, the key and the value, returning a new value.
    """
    out = {key: baseAlgorithm(key, value) for key, value in dictionary.items()}
    return {key: value for key, value in out.items() if value is not None}


def matching_keys(
    keys: list[str], selectors: list[str], ignoreMissing: bool, what: str
) -> list[str]:
    """The keys that match the selectors (names or regular expressions), in selector order."""
    chosen: list[str] = []
    for selector in selectors:
        try:
            pattern = re.compile(selector)
        except re.error:
            pattern = re.compile(re.escape(selector))
        found = [k for k in keys if k == selector or pattern.fullmatch(k)]
        if not found and not ignoreMissing:
            raise InvalidArgumentError(f"{what}: key '{selector}' did not match any keys.")
        chosen.extend(k for k in found if k not in chosen)
    return chosen


@algorithm("Dictionary.select")
def dictionary_select(
    dictionary: dict[str, Any], selectors: list[str], ignoreMissing: bool = False
) -> dict[str, Any]:
    """Returns a dictionary with only the keys that match the selectors.

    Args:
        dictionary: The dictionary.
        selectors: Key names or regular expressions of key names.
        ignoreMissing: Whether to ignore selectors that match no key.
    """
    keys = matching_keys(list(dictionary), selectors, ignoreMissing, "Dictionary.select")
    return {k: dictionary[k] for k in keys}


@algorithm("Dictionary.remove")
def dictionary_remove(
    dictionary: dict[str, Any], selectors: list[str], ignoreMissing: bool = False
) -> dict[str, Any]:
    """Returns a dictionary without the keys that match the selectors.

    Args:
        dictionary: The dictionary.
        selectors: Key names or regular expressions of key names.
        ignoreMissing: Whether to ignore selectors that match no key.
    """
    drop = set(matching_keys(list(dictionary), selectors, ignoreMissing, "Dictionary.remove"))
    return {k: v for k, v in dictionary.items() if k not in drop}


@algorithm("Dictionary.rename")
def dictionary_rename(
    dictionary: dict[str, Any], from_: list[str], to: list[str], overwrite: bool = False
) -> dict[str, Any]:
    """Renames keys.

    Args:
        dictionary: The dictionary.
        from_: The keys to rename.
        to: The new names, one per key in from.
        overwrite: Whether a new name may replace an existing key.
    """
    if len(from_) != len(to):
        raise InvalidArgumentError("Dictionary.rename: 'from' and 'to' differ in length.")
    missing = [k for k in from_ if k not in dictionary]
    if missing:
        raise InvalidArgumentError(f"Dictionary does not contain key: '{missing[0]}'.")
    renames = dict(zip(from_, to, strict=True))
    kept = {k: v for k, v in dictionary.items() if k not in renames}
    for old, new in renames.items():
        if new in kept and not overwrite:
            raise InvalidArgumentError(f"Dictionary.rename: key '{new}' already exists.")
        kept[new] = dictionary[old]
    return kept


@algorithm("Dictionary.getArray")
def dictionary_get_array(dictionary: dict[str, Any], key: str) -> list[Any]:
    """Extracts a named array (a list of numbers, or nested lists) from a dictionary.

    Args:
        dictionary: The dictionary.
        key: The key to look up.
    """
    value = _typed(dictionary, key, "array", lambda v: True)
    if isinstance(value, ArrayValue):  # an ee.Array stored in the dictionary
        return value.array().tolist()
    return as_array(value, f"The value of '{key}'")


@algorithm("Dictionary.toArray")
def dictionary_to_array(
    dictionary: dict[str, Any], keys: list[str] | None = None, axis: int = 0
) -> list[Any]:
    """Returns the numeric values of a dictionary as an array, in key order (or that of keys).

    Number values give a 1-D array; 1-D array values are stacked along the axis.

    Args:
        dictionary: The dictionary.
        keys: The keys whose values to use. Default: all, in sorted key order.
        axis: With array values, 0 makes each value a row, 1 a column.
    """
    chosen = sorted(dictionary) if keys is None else keys
    values = [_typed(dictionary, k, "number or array", lambda v: True) for k in chosen]
    rows = [as_array(v, f"The value of '{k}'") for k, v in zip(chosen, values, strict=True)]
    if all(isinstance(v, int | float) for v in values):
        return values
    if axis not in (0, 1):
        raise InvalidArgumentError("Dictionary.toArray: axis must be 0 or 1.")
    if len({len(r) for r in rows}) > 1:
        raise InvalidArgumentError("Dictionary.toArray: the arrays differ in length.")
    return rows if axis == 0 else [list(column) for column in zip(*rows, strict=True)]


@algorithm("Dictionary.toImage")
def to_image(dictionary: dict[str, Any], names: list[str] | None = None) -> Image:
    """Creates an image of constants, one band per entry, named after its key.

    Args:
        dictionary: The numbers, by band name.
        names: The keys to take, in band order. Default: every key, sorted.
    """
    keys = list(names) if names is not None else sorted(dictionary)
    missing = [k for k in keys if k not in dictionary]
    if missing:
        raise InvalidArgumentError(f"no key '{missing[0]}' in the dictionary.")
    values = [dictionary[k] for k in keys]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise InvalidArgumentError("every value must be a number.")
    return constant_image(values).rename([str(k) for k in keys])
