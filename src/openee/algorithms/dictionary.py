"""Dictionary."""

from __future__ import annotations

from typing import Any

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError


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
