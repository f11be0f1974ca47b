"""How large a value an expression may build: one bound, checked before or as values grow.

A kilobyte of expression can ask for astronomically large values by doubling (`List.cat(l, l)`
twenty times, `String.cat` likewise) or by nesting (`List.flatten` of `List.repeat` of
`List.repeat`). The evaluator checks every algorithm's result at the top level (cheap: a length),
so any growth stops within a factor two of the bound; concatenation (the doubling step) and the
algorithms that multiply sizes (repeat, flatten) and the encoding of a result count elements or
leaves before building anything (a list of 2x the bound alone is 160 MB of pointers).
"""

from __future__ import annotations

from typing import Any

from openee.errors import InvalidArgumentError

# Elements of one list or dictionary, leaves of a nested value, and characters of a string.
MAX_ELEMENTS = 10_000_000


class ValueTooLargeError(InvalidArgumentError):
    def __init__(self, size: int) -> None:
        super().__init__(
            f"User memory limit exceeded: the value would have {size} elements "
            f"(the limit is {MAX_ELEMENTS})."
        )


def check_count(size: int) -> None:
    """Refuses, before it is built, a value that would hold `size` elements past the bound."""
    if size > MAX_ELEMENTS:
        raise ValueTooLargeError(size)


def check_top_level(value: object) -> None:
    """Refuses a list, tuple, dictionary or string longer than the bound (O(1))."""
    if isinstance(value, list | tuple | dict | str) and len(value) > MAX_ELEMENTS:
        raise ValueTooLargeError(len(value))


def check_leaves(value: object, copies: int = 1) -> None:
    """Refuses a value whose nested lists, taken `copies` times, hold more leaves than the
    bound. Shared sub-lists are counted once per reference but walked once, so a deeply shared
    structure costs its number of distinct lists, not its size."""
    total = leaf_count(value, limit=MAX_ELEMENTS // max(copies, 1) + 1) * copies
    if total > MAX_ELEMENTS:
        raise ValueTooLargeError(total)


def leaf_count(value: object, limit: int = MAX_ELEMENTS + 1) -> int:
    """Leaves of a nested list/tuple/dict value; stops counting past `limit`."""
    known: dict[int, int] = {}

    def count(node: Any) -> int:
        if not isinstance(node, list | tuple | dict):
            return 1
        if (seen := known.get(id(node))) is not None:
            return seen
        total = 0
        for item in node.values() if isinstance(node, dict) else node:
            total += count(item)
            if total > limit:
                break
        known[id(node)] = total
        return total

    return count(value)
