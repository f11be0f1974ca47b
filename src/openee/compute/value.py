"""value:compute — evaluate an expression and describe the result as JSON (getInfo)."""

from __future__ import annotations

from typing import Any

from openee.errors import InvalidArgumentError
from openee.values.info import to_info


def compute_value(value: object) -> Any:
    try:
        return to_info(value)
    except TypeError as exc:
        raise InvalidArgumentError(f"The result cannot be returned as a value: {exc}.") from None
