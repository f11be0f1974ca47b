"""Algorithms the client's helpers never emit, called by name through the stock client:
the short comparison filters (Filter.eq, ...) and GeometryConstructors.BBox."""

from __future__ import annotations

import operator

import pytest
from shapely.geometry import box, shape

VALUES = [1, 5, 9, 12]
OPS = {
    "eq": operator.eq,
    "neq": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


@pytest.mark.parametrize("name", list(OPS))
def test_short_comparison_filters(ee_api, name: str) -> None:
    features = ee_api.FeatureCollection([ee_api.Feature(None, {"v": v}) for v in VALUES])
    flt = ee_api.ApiFunction.call_(f"Filter.{name}", "v", 9)
    kept = features.filter(flt).aggregate_array("v").getInfo()
    assert kept == [v for v in VALUES if OPS[name](v, 9)]


def test_bbox_constructor(ee_api) -> None:
    geometry = ee_api.ApiFunction.call_("GeometryConstructors.BBox", 15.0, 45.0, 16.5, 46.2)
    info = geometry.getInfo()
    assert info["type"] == "Polygon"
    assert shape(info).equals(box(15.0, 45.0, 16.5, 46.2))
