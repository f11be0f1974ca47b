"""value:compute — evaluate an expression and describe the result as JSON (getInfo)."""

from __future__ import annotations

from typing import Any

from openee.errors import InvalidArgumentError
from openee.values.info import to_info
from openee.values.size import check_leaves


def compute_value(value: object) -> Any:
    check_leaves(value)  # a shared nested value is small in memory and huge as JSON
    try:
        return to_info(value)
    except TypeError as exc:
        raise InvalidArgumentError(f"The result cannot be returned as a value: {exc}.") from None
