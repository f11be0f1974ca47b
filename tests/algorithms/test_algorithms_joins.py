"""Join conditions on pairs of elements (and, or, not; measures) and the kind of collection a
join returns, against Python loops over the same properties."""

from __future__ import annotations

import pytest

from openee.algorithms import filters, joins
from openee.errors import InvalidArgumentError
from openee.raster.image import Image, ImageCollection
from openee.values.feature import Feature, FeatureCollection


def _rows(values: list[tuple[int, int]]) -> FeatureCollection:
    return FeatureCollection(
        tuple(Feature(None, {"a": a, "b": b}, str(i)) for i, (a, b) in enumerate(values))
    )


LEFT = [(1, 10), (2, 20), (3, 30), (4, 40)]
RIGHT = [(1, 11), (2, 25), (3, 99), (9, 40)]


def _pairs(condition, test) -> list[tuple[int, int]]:
    got = joins.apply(joins.inner(), _rows(LEFT), _rows(RIGHT), condition)
    found = [(f.properties["primary"].id, f.properties["secondary"].id) for f in got.features]
    want = [(str(i), str(j)) for i, p in enumerate(LEFT) for j, s in enumerate(RIGHT) if test(p, s)]
    assert found == want
    return found


def test_and_or_not_of_two_sided_filters() -> None:
    same_a = filters._comparison("equals")(leftField="a", rightField="a")
    near_b = filters.max_difference(5, leftField="b", rightField="b")
    _pairs(filters.and_([same_a, near_b]), lambda p, s: p[0] == s[0] and abs(p[1] - s[1]) <= 5)
    _pairs(filters.or_([same_a, near_b]), lambda p, s: p[0] == s[0] or abs(p[1] - s[1]) <= 5)
    _pairs(filters.not_(same_a), lambda p, s: p[0] != s[0])


def test_measure_of_an_and_comes_from_its_measuring_part() -> None:
    same_a = filters._comparison("equals")(leftField="a", rightField="a")
    near_b = filters.max_difference(5, leftField="b", rightField="b")
    join = joins.inner(measureKey="d")
    got = joins.apply(join, _rows(LEFT), _rows(RIGHT), filters.and_([same_a, near_b]))
    want = [abs(p[1] - s[1]) for p in LEFT for s in RIGHT if p[0] == s[0] and abs(p[1] - s[1]) <= 5]
    assert [f.properties["d"] for f in got.features] == want


def test_images_stay_images() -> None:
    images = [Image((), {"system:index": str(i), "t": i * 10}) for i in range(4)]
    primary = ImageCollection(static=tuple(images))
    secondary = ImageCollection(static=tuple(images[1:3]))
    condition = filters.max_difference(0, leftField="t", rightField="t")
    kept = joins.apply(joins.save_first("m"), primary, secondary, condition)
    assert isinstance(kept, ImageCollection)
    assert [i.properties["m"].properties["t"] for i in kept.images] == [10, 20]
    dropped = joins.apply(joins.inverted(), primary, secondary, condition)
    assert [i.properties["t"] for i in dropped.images] == [0, 30]


def test_one_sided_condition_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="leftField and rightField"):
        joins.apply(joins.simple(), _rows(LEFT), _rows(RIGHT), filters.always())
