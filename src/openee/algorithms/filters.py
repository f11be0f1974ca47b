"""Filter: predicates as data (see `openee.values.filter`), so the catalog can push them down."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openee.algorithms import geometry_ops
from openee.algorithms.coerce import coerce, type_name
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values.date import Date, DateRange
from openee.values.feature import Feature
from openee.values.filter import (
    GEOMETRY_FIELD,
    AndFilter,
    BinaryFilter,
    CompareFilter,
    DateRangeFilter,
    ElementFilter,
    Filter,
    IntersectsFilter,
    NotFilter,
    OrFilter,
    field_value,
)
from openee.values.geometry import Geometry
from openee.values.geometry_space import relate

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
        if (leftField is None) == (rightField is None):
            # Two properties (or two values): compare them element by element.
            operands = _operands(leftField, rightValue, rightField, leftValue)
            return BinaryFilter(op, lambda a, b, _: CompareFilter("", op, b).test(a), **operands)
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
    """Keeps elements whose left geometry intersects the right geometry.

    With one field ('.geo' or '.all') and a geometry value, it keeps the elements whose geometry
    intersects the value; with two fields (a join condition, e.g. leftField='.geo' and
    rightField='.geo'), it compares the geometries of a primary and a secondary element.

    Args:
        leftField: The property holding the left geometry ('.geo' for the geometry).
        rightValue: The right geometry (or feature), when it is a value.
        rightField: The property holding the right geometry.
        leftValue: The left geometry (or feature), when it is a value.
        maxError: The tolerated error of reprojection.
    """
    if (leftField is None) == (rightField is None):
        # Two properties (or two values): intersected element by element, or pair by pair.
        operands = _operands(leftField, rightValue, rightField, leftValue)
        return BinaryFilter("intersects", _geometric("intersects"), **operands)
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


# -- binary filters on a property and a value (or two properties) --------------------------------


def _operands(
    leftField: str | None, rightValue: Any, rightField: str | None, leftValue: Any
) -> dict[str, Any]:
    if leftField is None and leftValue is None:
        raise InvalidArgumentError("One of leftField and leftValue must be specified.")
    if rightField is None and rightValue is None:
        raise InvalidArgumentError("One of rightField and rightValue must be specified.")
    return {
        "left_field": leftField,
        "left_value": leftValue,
        "right_field": rightField,
        "right_value": rightValue,
    }


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _as_geometry(value: Any) -> Geometry:
    geometry = coerce(value, "Geometry", "value", optional=False)
    assert isinstance(geometry, Geometry)
    return geometry


def _geometric(op: str) -> Callable[[Any, Any, Any], bool]:
    """A spatial test of two geometries, computed where ADR 0023 says (plane or ellipsoid)."""

    def test(left: Any, right: Any, param: Any) -> bool:
        if left is None or right is None:
            return False
        a, b = _as_geometry(left), _as_geometry(right)
        if op == "withinDistance":
            return geometry_ops.distance_between(a, b, None) <= float(param)
        return relate("containedIn" if op == "isContained" else op, a, b)

    return test


def _has_type(left: Any, right: Any, param: Any) -> bool:
    name = type_name(left)
    if right == "Number":
        return name in ("Integer", "Float", "Boolean")
    if right == "Object":
        return left is not None
    # A geometry also has the type of its kind (ee_filter_hastype.py: '.geo' has type 'Point').
    if isinstance(left, Geometry) and right == left.info()["type"]:
        return True
    return bool(name == right)


def _list_contains(left: Any, right: Any, param: Any) -> bool:
    return isinstance(left, list | tuple) and right in left


BINARY_TESTS: dict[str, tuple[Callable[[Any, Any, Any], bool], str]] = {
    "stringContains": (
        lambda a, b, _: _text(b) in _text(a),
        "Keeps elements whose left string contains the right string.",
    ),
    "stringStartsWith": (
        lambda a, b, _: _text(a).startswith(_text(b)),
        "Keeps elements whose left string starts with the right string.",
    ),
    "stringEndsWith": (
        lambda a, b, _: _text(a).endswith(_text(b)),
        "Keeps elements whose left string ends with the right string.",
    ),
    "listContains": (
        _list_contains,
        "Keeps elements whose left list contains the right value.",
    ),
    "inList": (
        lambda a, b, p: _list_contains(b, a, p),
        "Keeps elements whose left value is in the right list.",
    ),
    "hasType": (
        _has_type,
        "Keeps elements whose left value is of the type named by the right value.",
    ),
    "contains": (
        _geometric("contains"),
        "Keeps elements whose left geometry contains the right geometry.",
    ),
    "isContained": (
        _geometric("isContained"),
        "Keeps elements whose left geometry is contained in the right geometry.",
    ),
    "disjoint": (
        _geometric("disjoint"),
        "Keeps elements whose left geometry is disjoint from the right geometry.",
    ),
}
_GEOMETRIC = {"contains", "isContained", "disjoint"}


def _binary(op: str, test: Callable[[Any, Any, Any], bool], doc: str) -> None:
    args = (
        "Args:\n"
        "    leftField: The property holding the left operand ('.geo' for the geometry).\n"
        "    rightValue: The right operand, when it is a value.\n"
        "    rightField: The property holding the right operand.\n"
        "    leftValue: The left operand, when it is a value.\n"
    )
    if op in _GEOMETRIC:

        def geometric(
            leftField: str | None = None,
            rightValue: Any = None,
            rightField: str | None = None,
            leftValue: Any = None,
            maxError: Any = {"type": "ErrorMargin", "unit": "meters", "value": 0.1},  # noqa: B006
        ) -> Filter:
            return BinaryFilter(op, test, **_operands(leftField, rightValue, rightField, leftValue))

        geometric.__doc__ = f"{doc}\n\n{args}    maxError: The tolerated error (ignored).\n"
        algorithm(f"Filter.{op}")(geometric)
        return

    def binary(
        leftField: str | None = None,
        rightValue: Any = None,
        rightField: str | None = None,
        leftValue: Any = None,
    ) -> Filter:
        return BinaryFilter(op, test, **_operands(leftField, rightValue, rightField, leftValue))

    binary.__doc__ = f"{doc}\n\n{args}"
    algorithm(f"Filter.{op}")(binary)


for _op, (_test, _doc) in BINARY_TESTS.items():
    _binary(_op, _test, _doc)

# The short names of the comparisons.
for _short, _op in {
    "eq": "equals",
    "neq": "notEquals",
    "lt": "lessThan",
    "lte": "lessThanOrEquals",
    "gt": "greaterThan",
    "gte": "greaterThanOrEquals",
}.items():
    algorithm(f"Filter.{_short}")(_comparison(_op))


@algorithm("Filter.maxDifference")
def max_difference(
    difference: float,
    leftField: str | None = None,
    rightValue: Any = None,
    rightField: str | None = None,
    leftValue: Any = None,
) -> Filter:
    """Keeps elements whose left and right numbers differ by at most `difference`.

    Args:
        difference: The largest difference allowed.
        leftField: The property holding the left operand.
        rightValue: The right operand, when it is a value.
        rightField: The property holding the right operand.
        leftValue: The left operand, when it is a value.
    """
    return BinaryFilter(
        "maxDifference",
        lambda a, b, d: abs(a - b) <= d,
        param=difference,
        **_operands(leftField, rightValue, rightField, leftValue),
    )


@algorithm("Filter.withinDistance")
def within_distance(
    distance: float,
    leftField: str | None = None,
    rightValue: Any = None,
    rightField: str | None = None,
    leftValue: Any = None,
    maxError: Any = {"type": "ErrorMargin", "unit": "meters", "value": 0.1},  # noqa: B006
) -> Filter:
    """Keeps elements whose geometry is within a distance (metres) of the other geometry.

    Args:
        distance: The largest distance allowed, in metres.
        leftField: The property holding the left geometry ('.geo').
        rightValue: The right geometry, when it is a value.
        rightField: The property holding the right geometry.
        leftValue: The left geometry, when it is a value.
        maxError: The tolerated error (ignored).
    """
    return BinaryFilter(
        "withinDistance",
        _geometric("withinDistance"),
        param=distance,
        **_operands(leftField, rightValue, rightField, leftValue),
    )


# -- filters on the whole element ----------------------------------------------------------------


@algorithm("Filter.notNull")
def not_null(properties: list[str]) -> Filter:
    """Keeps elements whose given properties are all present and not null.

    Args:
        properties: The property names.
    """
    names = list(properties)
    return ElementFilter("notNull", lambda e: all(e.get(n) is not None for n in names))


@algorithm("Filter.rangeContains")
def range_contains(field: str, minValue: Any, maxValue: Any) -> Filter:
    """Keeps elements whose property lies in [minValue, maxValue] (both inclusive).

    Args:
        field: The property.
        minValue: The lower bound, inclusive.
        maxValue: The upper bound, inclusive.
    """
    low = minValue.millis if isinstance(minValue, Date) else minValue
    high = maxValue.millis if isinstance(maxValue, Date) else maxValue

    def test(element: Any) -> bool:
        value = field_value(element, field)
        return value is not None and low <= value <= high

    return ElementFilter("rangeContains", test)


def _calendar_value(element: Any, field: str) -> int | None:
    millis = field_value(element, "system:time_start")
    if not isinstance(millis, int | float) or isinstance(millis, bool):
        return None
    dt = Date(int(millis)).to_datetime()
    return {
        "year": dt.year,
        "month": dt.month,
        "hour": dt.hour,
        "minute": dt.minute,
        "day_of_year": dt.timetuple().tm_yday,
        "day_of_month": dt.day,
        "day_of_week": dt.isoweekday(),
    }[field]


_CALENDAR_FIELDS = ("year", "month", "hour", "minute", "day_of_year", "day_of_month", "day_of_week")


def calendar_filter(start: int, end: int, field: str) -> Filter:
    if field not in _CALENDAR_FIELDS:
        raise InvalidArgumentError(
            f"Unknown calendar field '{field}': expected one of {', '.join(_CALENDAR_FIELDS)}."
        )

    def test(element: Any) -> bool:
        value = _calendar_value(element, field)
        if value is None:
            return False
        if end < start:  # wraps around, e.g. November to February
            return value >= start or value <= end
        return start <= value <= end

    return ElementFilter("calendarRange", test)


@algorithm("Filter.calendarRange")
def calendar_range(start: int, end: int | None = None, field: str = "day_of_year") -> Filter:
    """Keeps elements whose 'system:time_start' falls in a range of a calendar field (UTC).

    month, day_of_year, day_of_month and day_of_week (Monday = 1) are 1-based; if end < start
    the range wraps around.

    Args:
        start: The start of the range, inclusive.
        end: The end of the range, inclusive. Default: start.
        field: One of 'year', 'month', 'hour', 'minute', 'day_of_year', 'day_of_month' or
            'day_of_week'.
    """
    return calendar_filter(start, start if end is None else end, field)


@algorithm("Filter.dayOfYear")
def day_of_year(start: int, end: int) -> Filter:
    """Keeps elements whose 'system:time_start' day of year (1-366, UTC) is in [start, end].

    Args:
        start: The first day of year, inclusive.
        end: The last day of year, inclusive; if smaller than start, the range wraps.
    """
    return calendar_filter(start, end, "day_of_year")


@algorithm("Filter.area")
def area(
    min: float, max: float, maxError: Any = None, geometrySelector: str | None = None
) -> Filter:
    """Keeps elements whose geometry's area (square metres) is in [min, max].

    Args:
        min: The smallest area, inclusive.
        max: The largest area, inclusive.
        maxError: The tolerated error (ignored).
        geometrySelector: The property holding the geometry. Default: the element's geometry.
    """
    selector = geometrySelector or GEOMETRY_FIELD

    def test(element: Any) -> bool:
        value = field_value(element, selector)
        if value is None:
            return False
        return min <= geometry_ops.measure("area", _as_geometry(value)) <= max

    return ElementFilter("area", test)


@algorithm("Filter.hasGeometry")
def has_geometry() -> Filter:
    """Keeps elements that have a geometry."""
    return ElementFilter("hasGeometry", lambda e: e.footprint() is not None)


@algorithm("Filter.always")
def always() -> Filter:
    """Keeps every element."""
    return ElementFilter("always", lambda e: True)


@algorithm("Filter.never")
def never() -> Filter:
    """Keeps no element."""
    return ElementFilter("never", lambda e: False)
