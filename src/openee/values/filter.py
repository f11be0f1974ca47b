"""Filters as data: small frozen objects that a collection applies, or a catalog pushes down.

`matches(element)` takes any object that exposes `get(property)` and `geometry()`; collections of
images and of features both do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from openee.values.date import Date, DateRange
from openee.values.geometry import Geometry
from openee.values.geometry_space import relate


class Filterable(Protocol):
    def get(self, name: str) -> object: ...

    def footprint(self) -> Geometry | None: ...


class Filter:
    """Base class: a predicate over elements of a collection."""

    def matches(self, element: Filterable) -> bool:
        raise NotImplementedError

    def info(self) -> dict[str, object]:
        return {"type": "Filter", "filter": type(self).__name__}


@dataclass(frozen=True)
class DateRangeFilter(Filter):
    """`field` (a time in ms) lies in `range`, start inclusive and end exclusive."""

    field: str
    range: DateRange

    def matches(self, element: Filterable) -> bool:
        value = element.get(self.field)
        if value is None or isinstance(value, bool):
            return False
        if isinstance(value, Date):
            return self.range.contains(value)
        if isinstance(value, int | float):
            return self.range.contains(Date(int(value)))
        return False


@dataclass(frozen=True)
class IntersectsFilter(Filter):
    """The element's footprint (`.geo` or `.all`) intersects `geometry`."""

    geometry: Geometry

    def matches(self, element: Filterable) -> bool:
        footprint = element.footprint()
        return footprint is not None and relate("intersects", footprint, self.geometry)


@dataclass(frozen=True)
class CompareFilter(Filter):
    """`field <op> value` for one of equals, notEquals, lessThan, lessThanOrEquals, ..."""

    field: str
    op: str
    value: object

    def matches(self, element: Filterable) -> bool:
        return self.test(element.get(self.field))

    def test(self, left: object) -> bool:
        """`left <op> value`; comparisons with null are false (but null equals null)."""
        right = self.value
        if self.op == "equals":
            return left == right
        if self.op == "notEquals":
            return left != right
        if left is None or right is None:
            return False
        try:
            if self.op == "lessThan":
                return left < right  # type: ignore[operator]
            if self.op == "lessThanOrEquals":
                return left <= right  # type: ignore[operator]
            if self.op == "greaterThan":
                return left > right  # type: ignore[operator]
            if self.op == "greaterThanOrEquals":
                return left >= right  # type: ignore[operator]
        except TypeError:
            return False
        raise ValueError(f"unknown comparison {self.op}")


@dataclass(frozen=True)
class AndFilter(Filter):
    filters: tuple[Filter, ...]

    def matches(self, element: Filterable) -> bool:
        return all(f.matches(element) for f in self.filters)


@dataclass(frozen=True)
class OrFilter(Filter):
    filters: tuple[Filter, ...]

    def matches(self, element: Filterable) -> bool:
        return any(f.matches(element) for f in self.filters)


@dataclass(frozen=True)
class NotFilter(Filter):
    filter: Filter

    def matches(self, element: Filterable) -> bool:
        return not self.filter.matches(element)


# -- more filters --------------------------------------------------------------------------------

# A property name on either side of a comparison; '.geo' is the element's geometry.
GEOMETRY_FIELD = ".geo"


def field_value(element: Filterable, name: str) -> Any:
    if name in (GEOMETRY_FIELD, ".all"):
        return element.footprint()
    value = element.get(name)
    return value.millis if isinstance(value, Date) else value


@dataclass(frozen=True, eq=False)
class BinaryFilter(Filter):
    """`test(left, right, param)`, each side a property of the element or a constant."""

    op: str
    test: Callable[[Any, Any, Any], bool]
    left_field: str | None = None
    left_value: object = None
    right_field: str | None = None
    right_value: object = None
    param: object = None

    def matches(self, element: Filterable) -> bool:
        left = field_value(element, self.left_field) if self.left_field else self.left_value
        right = field_value(element, self.right_field) if self.right_field else self.right_value
        if isinstance(left, Date):
            left = left.millis
        if isinstance(right, Date):
            right = right.millis
        try:
            return bool(self.test(left, right, self.param))
        except (TypeError, ValueError):
            return False


@dataclass(frozen=True, eq=False)
class ElementFilter(Filter):
    """A predicate over the whole element (notNull, calendarRange, area, always, ...)."""

    op: str
    test: Callable[[Filterable], bool]

    def matches(self, element: Filterable) -> bool:
        try:
            return bool(self.test(element))
        except (TypeError, ValueError):
            return False
