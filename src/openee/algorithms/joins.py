"""Join: pairs the elements of a primary collection with those of a secondary collection that
satisfy a two-sided filter (leftField names a primary property, rightField a secondary one)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from openee.algorithms import geometry_ops
from openee.algorithms.coerce import coerce
from openee.algorithms.collection import Collection, elements, rebuild
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values.feature import Feature, FeatureCollection
from openee.values.filter import AndFilter, BinaryFilter, Filter, NotFilter, OrFilter, field_value
from openee.values.geometry import Geometry
from openee.values.join import Join

# The match of one primary element: the secondary element and the condition's measure of it.
Match = tuple[Any, float | None]


@algorithm("Join.simple")
def simple() -> Join:
    """Returns a join that keeps the primary elements that match any secondary element."""
    return Join("simple")


@algorithm("Join.inverted")
def inverted() -> Join:
    """Returns a join that keeps the primary elements that match no secondary element."""
    return Join("inverted")


@algorithm("Join.inner")
def inner(
    primaryKey: str = "primary", secondaryKey: str = "secondary", measureKey: str | None = None
) -> Join:
    """Returns a join that yields one feature per matching pair, holding both elements.

    Args:
        primaryKey: The property that holds the primary element of a pair.
        secondaryKey: The property that holds the secondary element of a pair.
        measureKey: The property that holds the condition's measure of the pair, if wanted.
    """
    return Join("inner", measure_key=measureKey, primary_key=primaryKey, secondary_key=secondaryKey)


@algorithm("Join.saveFirst")
def save_first(
    matchKey: str,
    ordering: str | None = None,
    ascending: bool = True,
    measureKey: str | None = None,
    outer: bool = False,
) -> Join:
    """Returns a join that saves the first matching secondary element as a property of each
    primary element.

    Args:
        matchKey: The property that holds the match.
        ordering: The secondary property the matches are sorted by. Default: their order.
        ascending: Whether the ordering is ascending.
        measureKey: The property of the match that holds the condition's measure, if wanted.
        outer: If true, primary elements without a match are kept too.
    """
    return Join("saveFirst", matchKey, ordering, ascending, measureKey, outer)


@algorithm("Join.saveBest")
def save_best(matchKey: str, measureKey: str, outer: bool = False) -> Join:
    """Returns a join that saves the best matching secondary element (the smallest measure of a
    withinDistance or maxDifference condition) as a property of each primary element.

    Args:
        matchKey: The property that holds the match.
        measureKey: The property of the match that holds the condition's measure.
        outer: If true, primary elements without a match are kept too.
    """
    return Join("saveBest", matchKey, measure_key=measureKey, outer=outer)


@algorithm("Join.saveAll")
def save_all(
    matchesKey: str,
    ordering: str | None = None,
    ascending: bool = True,
    measureKey: str | None = None,
    outer: bool = False,
) -> Join:
    """Returns a join that saves the list of all matching secondary elements as a property of
    each primary element.

    Args:
        matchesKey: The property that holds the list of matches.
        ordering: The secondary property the matches are sorted by. Default: their order.
        ascending: Whether the ordering is ascending.
        measureKey: The property of each match that holds the condition's measure, if wanted.
        outer: If true, primary elements without a match are kept too (with an empty list).
    """
    return Join("saveAll", matchesKey, ordering, ascending, measureKey, outer)


@algorithm("Join.apply")
def apply(join: Join, primary: Collection, secondary: Collection, condition: Any) -> Collection:
    """Joins two collections.

    Args:
        join: The join.
        primary: The primary collection.
        secondary: The secondary collection.
        condition: The join condition: a filter whose leftField names a property of the primary
            elements and whose rightField a property of the secondary elements ('.geo' for the
            geometry).
    """
    if not isinstance(condition, Filter):
        raise InvalidArgumentError("Join.apply: 'condition' must be a Filter.")
    check_condition(condition)
    if join.kind == "saveBest" and not _measures(condition):
        raise InvalidArgumentError(
            "Join.saveBest needs a withinDistance or maxDifference condition, which measures "
            "how good a match is."
        )
    others = elements(secondary)
    # system:index of each secondary element (its position if it has none), for inner's ids.
    other_ids = {id(other): _index(other, j) for j, other in enumerate(others)}
    kept: list[Any] = []
    for index, element in enumerate(elements(primary)):
        matches = [
            (other, measure)
            for other in others
            for matched, measure in [evaluate(condition, element, other)]
            if matched
        ]
        kept.extend(_result(join, element, index, matches, other_ids))
    if join.kind == "inner":
        return FeatureCollection(tuple(kept))
    return rebuild(primary, kept)


def _result(
    join: Join, element: Any, index: int, matches: list[Match], other_ids: dict[int, str]
) -> list[Any]:
    """What the join makes of one primary element and its matches."""
    if join.kind == "simple":
        return [element] if matches else []
    if join.kind == "inverted":
        return [] if matches else [element]
    if join.kind == "inner":
        left_id = _index(element, index)
        return [
            Feature(
                None,
                {
                    join.primary_key: element,
                    join.secondary_key: _measured(join, other, measure),
                    **({join.measure_key: measure} if join.measure_key else {}),
                },
                f"{left_id}_{other_ids[id(other)]}",
            )
            for other, measure in matches
        ]
    if not matches and not join.outer:
        return []
    assert join.match_key is not None
    if join.kind == "saveBest":
        best = min(matches, key=lambda m: m[1] if m[1] is not None else float("inf"), default=None)
        saved: Any = _measured(join, *best) if best else None
    else:
        # The measure is stored first, so that it can be the ordering.
        measured = [(_measured(join, other, measure), measure) for other, measure in matches]
        ordered = [other for other, _ in _ordered(measured, join.ordering, join.ascending)]
        saved = ordered if join.kind == "saveAll" else (ordered[0] if ordered else None)
    if join.kind != "saveAll" and saved is None:
        return [element]  # outer: an unmatched primary element keeps its properties only
    return [replace(element, properties={**element.properties, join.match_key: saved})]


def _ordered(matches: list[Match], ordering: str | None, ascending: bool) -> list[Match]:
    """Sorted by a property of the match (stable); matches without it go last."""
    if ordering is None:
        return matches
    present = [m for m in matches if m[0].get(ordering) is not None]
    absent = [m for m in matches if m[0].get(ordering) is None]
    try:
        present.sort(key=lambda m: m[0].get(ordering), reverse=not ascending)
    except TypeError:
        raise InvalidArgumentError(
            f"Join: the values of the ordering property '{ordering}' cannot be compared."
        ) from None
    return present + absent


def _measured(join: Join, other: Any, measure: float | None) -> Any:
    """The match, with the condition's measure under measureKey (saveFirst, saveBest, saveAll)."""
    if join.kind == "inner" or join.measure_key is None or measure is None:
        return other
    return replace(other, properties={**other.properties, join.measure_key: measure})


def _index(element: Any, position: int) -> str:
    value = element.get("system:index")
    return str(value) if value is not None else str(position)


# -- the condition, on a pair of elements -------------------------------------------------------

_WHAT = (
    "A join condition compares a property of the primary elements (leftField) with a property "
    "of the secondary elements (rightField)"
)


def check_condition(condition: Filter) -> None:
    """Raise a clear error unless every comparison of `condition` is two-sided."""
    if isinstance(condition, AndFilter | OrFilter):
        for part in condition.filters:
            check_condition(part)
        return
    if isinstance(condition, NotFilter):
        check_condition(condition.filter)
        return
    if isinstance(condition, BinaryFilter) and condition.left_field and condition.right_field:
        return
    raise InvalidArgumentError(
        f"Join.apply: {_WHAT}; this condition does not give both leftField and rightField."
    )


def _measures(condition: Filter) -> bool:
    return isinstance(condition, BinaryFilter) and condition.op in _MEASURED


def evaluate(condition: Filter, left: Any, right: Any) -> tuple[bool, float | None]:
    """Whether (left, right) satisfies the condition, and its measure of the pair (if any)."""
    if isinstance(condition, AndFilter):
        measure = None
        for part in condition.filters:
            matched, m = evaluate(part, left, right)
            if not matched:
                return False, None
            measure = m if measure is None else measure
        return True, measure
    if isinstance(condition, OrFilter):
        for part in condition.filters:
            matched, m = evaluate(part, left, right)
            if matched:
                return True, m
        return False, None
    if isinstance(condition, NotFilter):
        return not evaluate(condition.filter, left, right)[0], None
    assert isinstance(condition, BinaryFilter) and condition.left_field and condition.right_field
    a = field_value(left, condition.left_field)
    b = field_value(right, condition.right_field)
    try:
        if not condition.test(a, b, condition.param):
            return False, None
        measure = _MEASURED[condition.op](a, b) if condition.op in _MEASURED else None
    except (TypeError, ValueError):
        return False, None
    return True, measure


def _distance(a: Any, b: Any) -> float:
    left = coerce(a, "Geometry", "leftField", optional=False)
    right = coerce(b, "Geometry", "rightField", optional=False)
    assert isinstance(left, Geometry) and isinstance(right, Geometry)
    return geometry_ops.distance_between(left, right, None)


# The measure of a matched pair, for the filters that have one.
_MEASURED = {
    "withinDistance": _distance,
    "maxDifference": lambda a, b: float(abs(a - b)),
}
