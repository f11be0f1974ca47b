"""getInfo: any evaluated value to the JSON the stock client expects."""

from __future__ import annotations

import math
from typing import Any


def to_info(value: object) -> Any:
    """Plain JSON for numbers, strings, lists and dicts; each type's own `info()` otherwise."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return value
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [to_info(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_info(v) for k, v in value.items()}
    info = getattr(value, "info", None)
    if callable(info):
        return to_info(info())
    if callable(value):
        return {"type": "Function"}
    raise TypeError(f"cannot describe {type(value).__name__}")
