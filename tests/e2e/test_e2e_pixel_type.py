"""PixelType through the stock client (ADR 0032): the constructor against the outputs Earth
Engine documents in its ee_pixeltype apidocs sample, the named types and their accessors against
numpy's integer limits, and a PixelType given to Image.cast."""

from __future__ import annotations

import numpy as np
import pytest

# (arguments, Earth Engine's printed result in samples/python/apidocs/ee_pixeltype.py) as the
# getInfo dictionary that printout stands for.
SAMPLE = [
    (("int", 0, 1), {"precision": "int", "min": 0, "max": 1}),  # int ∈ [0, 1]
    (("int", -20, -10), {"precision": "int", "min": -20, "max": -10}),
    (("float",), {"precision": "float"}),
    (("double",), {"precision": "double"}),
    (("double", None), {"precision": "double"}),
    (("double", None, None), {"precision": "double"}),
    (("double", None, None, 0), {"precision": "double"}),
    (("double", None, None, 1), {"precision": "double", "dimensions": 1}),
    (("double", None, None, 2), {"precision": "double", "dimensions": 2}),
    (("double", None, None, 10), {"precision": "double", "dimensions": 10}),
    (("double", None, None, 1e8), {"precision": "double", "dimensions": 100000000}),
    (("double", 1, 2, 0), {"precision": "double", "min": 1, "max": 2}),
    (("double", 1, 3, 2), {"precision": "double", "min": 1, "max": 3, "dimensions": 2}),
    (("double", -4, -3, 0), {"precision": "double", "min": -4, "max": -3}),
    (("double", None, 2.3, 0), {"precision": "double"}),  # one bound only: plain double
    (("double", 3.4, None, 0), {"precision": "double"}),
]


def test_pixel_type_constructor_matches_the_apidocs_sample(ee_api) -> None:
    ee = ee_api
    got = ee.List([ee.PixelType(*args) for args, _ in SAMPLE]).getInfo()
    assert got == [{"type": "PixelType", **want} for _, want in SAMPLE]


INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"]


@pytest.mark.parametrize("name", INTS)
def test_named_integer_types_carry_numpy_limits(ee_api, name: str) -> None:
    ee = ee_api
    t = getattr(ee.PixelType, name)()
    info = np.iinfo(name)
    got = ee.Dictionary(
        {
            "info": t,
            "min": t.minValue(),
            "max": t.maxValue(),
            "precision": t.precision(),
            "dims": t.dimensions(),
        }
    ).getInfo()
    want = {"type": "PixelType", "precision": "int", "min": int(info.min), "max": int(info.max)}
    assert got["info"] == want
    assert (got["min"], got["max"]) == (int(info.min), int(info.max))
    assert (got["precision"], got["dims"]) == ("int", 0)


def test_float_types_and_their_unbounded_limits(ee_api) -> None:
    ee = ee_api
    got = ee.Dictionary(
        {
            "float": ee.PixelType.float(),
            "double": ee.PixelType.double(),
            "fp": ee.PixelType.float().precision(),
            "dp": ee.PixelType.double().precision(),
            "ranged_max": ee.PixelType("double", -4, -3).maxValue(),
            "ranged_min": ee.PixelType("double", -4, -3).minValue(),
            "array_dims": ee.PixelType("double", None, None, 2).dimensions(),
        }
    ).getInfo()
    assert got["float"] == {"type": "PixelType", "precision": "float"}
    assert got["double"] == {"type": "PixelType", "precision": "double"}
    assert (got["fp"], got["dp"]) == ("float", "double")
    assert (got["ranged_min"], got["ranged_max"]) == (-4, -3)
    assert got["array_dims"] == 2
    # An unbounded float type's limits are the documented infinities.
    assert ee.PixelType.double().maxValue().gt(1e308).getInfo() == 1
    assert ee.PixelType.float().minValue().lt(-1e308).getInfo() == 1


def test_image_cast_takes_pixel_types(ee_api) -> None:
    ee = ee_api
    img = ee.Image.constant([3, 2]).rename(["a", "b"])
    cast = img.cast({"a": ee.PixelType.int16(), "b": ee.PixelType("int", 0, 100)})
    types = cast.bandTypes().getInfo()
    assert types["a"] == {"type": "PixelType", "precision": "int", "min": -32768, "max": 32767}
    # The smallest type holding [0, 100]: an unsigned byte.
    assert types["b"] == {"type": "PixelType", "precision": "int", "min": 0, "max": 255}
