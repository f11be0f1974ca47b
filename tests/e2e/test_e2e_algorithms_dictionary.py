"""Dictionary algorithms through the stock client, checked against Python dicts."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

D = {"b": 2, "a": 1.5, "name": "x", "b2": 20}


def test_dictionary_accessors(ee_api) -> None:
    ee = ee_api
    d = ee.Dictionary(D)
    got = ee.List(
        [
            d.get("a"),
            d.get("zz", -1),
            d.getNumber("b"),
            d.getString("name"),
            d.keys(),
            d.values(),
            d.values(["name", "a"]),
            d.size(),
            d.contains("b2"),
            d.contains("c"),
            ee.Dictionary({"g": ee.Geometry.Point([3, 4])}).getGeometry("g"),
            ee.Dictionary(["k1", 1, "k2", "v"]),
        ]
    ).getInfo()
    assert got == [
        D["a"],
        -1,
        D["b"],
        D["name"],
        sorted(D),
        [D[k] for k in sorted(D)],
        [D["name"], D["a"]],
        len(D),
        True,
        False,
        {"type": "Point", "coordinates": [3, 4]},
        {"k1": 1, "k2": "v"},
    ]


def test_dictionary_transformations(ee_api) -> None:
    ee = ee_api
    d = ee.Dictionary(D)
    other = {"a": 100, "c": 3}
    got = ee.List(
        [
            d.set("c", 9),
            d.combine(other),
            d.combine(other, False),
            d.select(["a", "b.*"]),
            d.select(["a", "missing"], True),
            d.remove(["b.*"]),
            d.remove(["missing"], True),
            d.rename(["a", "b"], ["alpha", "beta"]),
            d.rename(["a"], ["b"], True),
            ee.Dictionary.fromLists(["p", "q"], [1, "two"]),
            ee.Dictionary({"x": 1, "y": 2}).map(lambda k, v: ee.Number(v).multiply(10)),
        ]
    ).getInfo()
    picked = {k: v for k, v in D.items() if k == "a" or re.fullmatch("b.*", k)}
    assert got == [
        {**D, "c": 9},
        {**D, **other},
        {**other, **D},
        picked,
        {"a": D["a"]},
        {k: v for k, v in D.items() if not re.fullmatch("b.*", k)},
        D,
        {"alpha": D["a"], "beta": D["b"], "name": D["name"], "b2": D["b2"]},
        {"b": D["a"], "name": D["name"], "b2": D["b2"]},
        {"p": 1, "q": "two"},
        {"x": 10, "y": 20},
    ]


def test_dictionary_errors(ee_api) -> None:
    ee = ee_api
    d = ee.Dictionary(D)
    with pytest.raises(ee.EEException, match="already exists"):
        d.rename(["a"], ["b"]).getInfo()
    with pytest.raises(ee.EEException, match="did not match"):
        d.select(["nope"]).getInfo()
    with pytest.raises(ee.EEException, match="does not contain key"):
        d.getNumber("nope").getInfo()
