"""Filter: predicates as data (see `openee.values.filter`), so the catalog can push them down."""

from __future__ import annotations

from typing import Any

from openee.algorithms.coerce import coerce
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values.date import Date, DateRange
from openee.values.feature import Feature
from openee.values.filter import (
    AndFilter,
    CompareFilter,
    DateRangeFilter,
    Filter,
    IntersectsFilter,
    NotFilter,
    OrFilter,
)
from openee.values.geometry import Geometry

# A comparison with its operands swapped (value <op> field  ==  field <mirror> value).
_MIRROR = {
    "equals": "equals",
    "notEquals": "notEquals",
    "lessThan": "greaterThan",
    "lessThanOrEquals": "greaterThanOrEquals",
    "greaterThan": "lessThan",
    "greaterThanOrEquals": "lessThanOrEquals",
}


def _field_and_value(
    leftField: str | None, rightValue: Any, rightField: str | None, leftValue: Any
) -> tuple[str, Any, bool]:
    """(field, value, swapped): exactly one field and one value must be given."""
    if leftField is not None and rightField is None:
        return leftField, rightValue, False
    if rightField is not None and leftField is None:
        return rightField, leftValue, True
    raise InvalidArgumentError("Exactly one of leftField and rightField must be specified.")


def _comparison(op: str) -> Any:
    def compare(
        leftField: str | None = None,
        rightValue: Any = None,
        rightField: str | None = None,
        leftValue: Any = None,
    ) -> Filter:
        field, value, swapped = _field_and_value(leftField, rightValue, rightField, leftValue)
        if isinstance(value, Date):
            value = value.millis
        return CompareFilter(field, _MIRROR[op] if swapped else op, value)

    compare.__doc__ = (
        f"Filter on the comparison '{op}' of a property with a value.\n\n"
        "Args:\n"
        "    leftField: The property on the left of the comparison.\n"
        "    rightValue: The value on the right.\n"
        "    rightField: The property on the right of the comparison.\n"
        "    leftValue: The value on the left.\n"
    )
    return compare


for _op in _MIRROR:
    algorithm(f"Filter.{_op}")(_comparison(_op))


@algorithm("Filter.intersects")
def intersects(
    leftField: str | None = None,
    rightValue: Any = None,
    rightField: str | None = None,
    leftValue: Any = None,
    maxError: Any = {"type": "ErrorMargin", "unit": "meters", "value": 0.1},  # noqa: B006
) -> Filter:
    """Keeps elements whose geometry (field '.geo' or '.all') intersects the given geometry.

    Args:
        leftField: The geometry field of the element ('.geo' or '.all').
        rightValue: The geometry (or feature) to intersect with.
        rightField: The geometry field of the element, when the value is on the left.
        leftValue: The geometry (or feature) to intersect with, when the field is on the right.
        maxError: The tolerated error of reprojection.
    """
    field, value, _ = _field_and_value(leftField, rightValue, rightField, leftValue)
    if field not in (".geo", ".all"):
        raise InvalidArgumentError(
            f"Filter.intersects supports only geometry fields, not '{field}'."
        )
    if isinstance(value, Feature):
        value = value.geometry
    geometry = coerce(value, "Geometry", "rightValue", optional=False)
    assert isinstance(geometry, Geometry)
    return IntersectsFilter(geometry)


@algorithm("Filter.dateRangeContains")
def date_range_contains(
    leftField: str | None = None,
    rightValue: Any = None,
    rightField: str | None = None,
    leftValue: Any = None,
) -> Filter:
    """Keeps elements whose date property lies in a date range (start inclusive, end exclusive).

    Args:
        leftField: The property holding the date range (unsupported: use leftValue).
        rightValue: The date, when the range is a property.
        rightField: The property holding the date, e.g. 'system:time_start'.
        leftValue: The DateRange.
    """
    if rightField is None or leftValue is None:
        raise InvalidArgumentError(
            "Filter.dateRangeContains needs leftValue (a DateRange) and rightField (a property)."
        )
    date_range = coerce(leftValue, "DateRange", "leftValue", optional=False)
    assert isinstance(date_range, DateRange)
    return DateRangeFilter(rightField, date_range)


@algorithm("Filter.and")
def and_(filters: list[Filter]) -> Filter:
    """Keeps elements that pass all the filters.

    Args:
        filters: The filters.
    """
    return AndFilter(tuple(_filters(filters)))


@algorithm("Filter.or")
def or_(filters: list[Filter]) -> Filter:
    """Keeps elements that pass any of the filters.

    Args:
        filters: The filters.
    """
    return OrFilter(tuple(_filters(filters)))


@algorithm("Filter.not")
def not_(filter: Filter) -> Filter:
    """Keeps elements that fail the filter.

    Args:
        filter: The filter to negate.
    """
    return NotFilter(filter)


def _filters(items: list[Any]) -> list[Filter]:
    if not all(isinstance(f, Filter) for f in items):
        raise InvalidArgumentError("Expected a list of filters.")
    return items
