"""List algorithms through the stock client, checked against Python list operations."""

from __future__ import annotations

import statistics

import pytest

pytestmark = pytest.mark.e2e

ITEMS = [5, 3, 8, 3, 1, 9, 3]


def test_list_queries(ee_api) -> None:
    ee = ee_api
    lst = ee.List(ITEMS)
    got = ee.List(
        [
            lst.size(),
            lst.length(),
            lst.get(2),
            lst.get(-1),
            lst.getNumber(0),
            ee.List(["a", "b"]).getString(1),
            lst.contains(8),
            lst.containsAll([3, 9]),
            lst.containsAll([3, 4]),
            lst.frequency(3),
            lst.indexOf(3),
            lst.indexOfSublist([3, 1]),
            lst.lastIndexOfSubList([3]),
            lst.indexOfSublist([7]),
            lst.equals(ITEMS),
            lst.equals(ITEMS[::-1]),
            ee.List([1, "a", 2.5]).join("-"),
            ee.List(["x", "y"]).join(),
        ]
    ).getInfo()
    assert got == [
        len(ITEMS),
        len(ITEMS),
        ITEMS[2],
        ITEMS[-1],
        ITEMS[0],
        "b",
        True,
        True,
        False,
        ITEMS.count(3),
        ITEMS.index(3),
        3,
        6,
        -1,
        True,
        False,
        "1-a-2.5",
        "xy",
    ]


def _rotate(items: list[int], distance: int) -> list[int]:
    """java.util.Collections.rotate: element i moves to (i + distance) mod size."""
    out = list(items)
    for i, value in enumerate(items):
        out[(i + distance) % len(items)] = value
    return out


def test_list_transformations(ee_api) -> None:
    ee = ee_api
    lst = ee.List(ITEMS)
    got = ee.List(
        [
            lst.sort(),
            ee.List(["b", "a", "c"]).sort([2, 3, 1]),
            lst.distinct(),
            lst.reverse(),
            lst.slice(1, 5),
            lst.slice(0, None, 2),
            lst.cat([0]),
            lst.add(4),
            lst.insert(1, 100),
            lst.insert(-1, 100),
            lst.set(0, 7),
            lst.set(-1, 7),
            lst.remove(3),
            lst.removeAll([3, 9]),
            lst.replace(3, 4),
            lst.replaceAll(3, 4),
            lst.rotate(2),
            lst.rotate(-1),
            lst.swap(0, -1),
            lst.splice(1, 2),
            lst.splice(-2, 1, ["x", "y"]),
            ee.List.repeat("z", 3),
            ee.List([[1, 2], [3, [4]]]).flatten(),
            ee.List([1, 2, 3]).zip(["a", "b"]),
            ee.List([[1, "a"], [2, "b"], [3, "c"]]).unzip(),
        ]
    ).getInfo()
    removed_first = list(ITEMS)
    removed_first.remove(3)
    replaced_first = list(ITEMS)
    replaced_first[replaced_first.index(3)] = 4
    assert got == [
        sorted(ITEMS),
        ["c", "b", "a"],
        list(dict.fromkeys(ITEMS)),
        ITEMS[::-1],
        ITEMS[1:5],
        ITEMS[0::2],
        [*ITEMS, 0],
        [*ITEMS, 4],
        [ITEMS[0], 100, *ITEMS[1:]],
        [*ITEMS[:-1], 100, ITEMS[-1]],
        [7, *ITEMS[1:]],
        [*ITEMS[:-1], 7],
        removed_first,
        [v for v in ITEMS if v not in (3, 9)],
        replaced_first,
        [4 if v == 3 else v for v in ITEMS],
        _rotate(ITEMS, 2),
        _rotate(ITEMS, -1),
        [ITEMS[-1], *ITEMS[1:-1], ITEMS[0]],
        ITEMS[:1] + ITEMS[3:],
        [*ITEMS[:-2], "x", "y", ITEMS[-1]],
        ["z", "z", "z"],
        [1, 2, 3, 4],
        [[1, "a"], [2, "b"]],
        [[1, 2, 3], ["a", "b", "c"]],
    ]


def test_sequence_map_and_iterate(ee_api) -> None:
    """The idioms: List.sequence(...).map(lambda ...) and iterate."""
    ee = ee_api
    squares = ee.List.sequence(1, 10).map(lambda x: ee.Number(x).pow(2))
    total = ee.List.sequence(1, 10).iterate(lambda x, acc: ee.Number(acc).add(x), 0)
    got = ee.List(
        [
            squares,
            total,
            ee.List.sequence(0, 1, 0.25),
            ee.List.sequence(10, 1, -3),
            ee.List.sequence(5, None, 2, 4),
            ee.List.sequence(3, 1),
            ee.List([1, None, 2]).map(lambda x: x, True),
        ]
    ).getInfo()
    assert got[0] == [float(x**2) for x in range(1, 11)]
    assert got[1] == sum(range(1, 11))
    assert got[2] == [0, 0.25, 0.5, 0.75, 1.0]
    assert got[3] == [10, 7, 4, 1]
    assert got[4] == [5, 7, 9, 11]
    assert got[5] == []
    assert got[6] == [1, 2]


def test_filter_and_reduce(ee_api) -> None:
    ee = ee_api
    lst = ee.List(ITEMS)
    got = ee.List(
        [
            lst.filter(ee.Filter.gt("item", 4)),
            lst.filter(ee.Filter.inList("item", [1, 9])),
            ee.List(["apple", "banana", "cherry"]).filter(ee.Filter.stringContains("item", "an")),
            lst.reduce(ee.Reducer.mean()),
            lst.reduce(ee.Reducer.sum()),
            lst.reduce(ee.Reducer.median()),
            lst.reduce(ee.Reducer.minMax()),
            ee.List([[1, 2], [2, 4.5], [3, 5.5]]).reduce(ee.Reducer.linearFit()),
        ]
    ).getInfo()
    assert got[0] == [v for v in ITEMS if v > 4]
    assert got[1] == [v for v in ITEMS if v in (1, 9)]
    assert got[2] == ["banana"]
    assert got[3] == pytest.approx(statistics.mean(ITEMS))
    assert got[4] == sum(ITEMS)
    assert got[5] == statistics.median(ITEMS)
    assert got[6] == {"min": min(ITEMS), "max": max(ITEMS)}
    xs, ys = [1, 2, 3], [2, 4.5, 5.5]
    scale = statistics.covariance(xs, ys) / statistics.variance(xs)
    assert got[7]["scale"] == pytest.approx(scale)
    assert got[7]["offset"] == pytest.approx(statistics.mean(ys) - scale * statistics.mean(xs))


def test_shuffle_and_typed_getters(ee_api) -> None:
    ee = ee_api
    lst = ee.List(list(range(20)))
    got = ee.List(
        [
            lst.shuffle(7),
            lst.shuffle(7),
            ee.List([ee.Geometry.Point([1, 2])]).getGeometry(0),
        ]
    ).getInfo()
    assert sorted(got[0]) == list(range(20))
    assert got[0] == got[1]  # the same seed gives the same permutation
    assert got[2] == {"type": "Point", "coordinates": [1, 2]}
    with pytest.raises(ee.EEException, match="not a string"):
        lst.getString(0).getInfo()
