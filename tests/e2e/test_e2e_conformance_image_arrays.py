"""Conformance: the Image array-pixel samples of Earth Engine's apidocs, through the stock client.

Each row names the sample (google/earthengine-community samples/python/apidocs/<file>) whose
documented output (the comment under its print) is the expected value. The inputs are constant
images, so the documented numbers do not depend on catalog data. All rows are read at one point in
a single getInfo call, as the samples do (``image.sample(point, 500).first().get('array')``).
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def _rows(ee: Any) -> list[tuple[str, Any, Any]]:
    """(sample file, array image, documented pixel value)."""

    def arr(values: list[int]) -> Any:
        return ee.Image(values).toArray()

    def shape(*lengths: int) -> Any:
        return ee.Image(list(lengths)).toArray()

    twelve = arr(list(range(12)))
    six = arr(list(range(6)))
    six_2x3 = six.arrayReshape(shape(2, 3), 2)
    three = arr([0, 1, 2])
    three_b = arr([3, 4, 5])
    unsorted = arr([0, 10, 6, 5, 4, 7, 11, 1, 2, 9, 8, 3])
    unsorted_3x4 = unsorted.arrayReshape(shape(3, 4), 2)
    with_zeros = arr([0, 1, 2, 4, 0, 5])
    with_zeros_2x3 = with_zeros.arrayReshape(shape(2, 3), 2)
    nine_3x3 = arr(list(range(1, 10))).arrayReshape(shape(3, 3), 2)
    argmax_1d = arr([0, 1, 5, 2, 3, 4])
    col = three.toArray(1)
    return [
        ("ee_image_toarray.py", three, [0, 1, 2]),
        ("ee_image_toarray.py", col, [[0], [1], [2]]),
        ("ee_image_arrayslice.py", twelve, list(range(12))),
        ("ee_image_arrayslice.py", twelve.arraySlice(0, 0, 3), [0, 1, 2]),
        ("ee_image_arrayslice.py", twelve.arraySlice(0, -3), [9, 10, 11]),
        ("ee_image_arrayslice.py", twelve.arraySlice(0, 3, 6), [3, 4, 5]),
        ("ee_image_arrayslice.py", twelve.arraySlice(0, 4), list(range(4, 12))),
        ("ee_image_arrayslice.py", twelve.arraySlice(0, 0, None, 3), [0, 3, 6, 9]),
        (
            "ee_image_arrayslice.py",
            twelve.arrayReshape(shape(3, 4), 2),
            [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]],
        ),
        (
            "ee_image_arrayslice.py",
            twelve.arrayReshape(shape(3, 4), 2).arraySlice(0, 1, 2),
            [[4, 5, 6, 7]],
        ),
        (
            "ee_image_arrayslice.py",
            twelve.arrayReshape(shape(3, 4), 2).arraySlice(1, 1, 2),
            [[1], [5], [9]],
        ),
        (
            "ee_image_arrayslice.py",
            twelve.arrayReshape(shape(3, 4), 2).arraySlice(1, 0, -1),
            [[0, 1, 2], [4, 5, 6], [8, 9, 10]],
        ),
        ("ee_image_arraycat.py", three.arrayCat(three_b, 0), [0, 1, 2, 3, 4, 5]),
        ("ee_image_arraycat.py", three.arrayCat(three_b, 1), [[0, 3], [1, 4], [2, 5]]),
        (
            "ee_image_arraycat.py",
            col.arrayCat(three_b.toArray(1), 0),
            [[0], [1], [2], [3], [4], [5]],
        ),
        ("ee_image_arraycat.py", col.arrayCat(three_b.toArray(1), 1), [[0, 3], [1, 4], [2, 5]]),
        ("ee_image_arraysort.py", unsorted.arraySort(), list(range(12))),
        (
            "ee_image_arraysort.py",
            unsorted.arraySort(arr([99, 98, 50, 45, 23, 18, 9, 8, 7, 5, 2, 0])),
            [3, 8, 9, 2, 1, 11, 7, 4, 5, 6, 10, 0],
        ),
        (
            "ee_image_arraysort.py",
            arr([3, 2, 1, 0]).toArray(1).arrayTranspose(),
            [[3, 2, 1, 0]],
        ),
        (
            "ee_image_arraysort.py",
            unsorted_3x4.arraySort(arr([3, 2, 1, 0]).toArray(1).arrayTranspose()),
            [[5, 6, 10, 0], [1, 11, 7, 4], [3, 8, 9, 2]],
        ),
        (
            "ee_image_arraysort.py",
            unsorted_3x4.arraySort(arr([2, 1, 0]).toArray(1)),
            [[2, 9, 8, 3], [4, 7, 11, 1], [0, 10, 6, 5]],
        ),
        ("ee_image_arraymask.py", with_zeros.lte(2), [1, 1, 1, 0, 1, 0]),
        ("ee_image_arraymask.py", with_zeros.arrayMask(with_zeros.lte(2)), [0, 1, 2, 0]),
        ("ee_image_arraymask.py", with_zeros.arrayMask(with_zeros), [1, 2, 4, 5]),
        (
            "ee_image_arraymask.py",
            with_zeros_2x3.arrayMask(with_zeros_2x3.arraySlice(0, 1, 2)),
            [[0, 2], [4, 5]],
        ),
        ("ee_image_arraymask.py", with_zeros_2x3.arraySlice(1, 1, 2), [[1], [0]]),
        (
            "ee_image_arraymask.py",
            with_zeros_2x3.arrayMask(with_zeros_2x3.arraySlice(1, 1, 2)),
            [[0, 1, 2]],
        ),
        ("ee_image_arrayaccum.py", arr([1, 2, 3]).arrayAccum(0, ee.Reducer.sum()), [1, 3, 6]),
        (
            "ee_image_arrayaccum.py",
            nine_3x3.arrayAccum(0, ee.Reducer.sum()),
            [[1, 2, 3], [5, 7, 9], [12, 15, 18]],
        ),
        (
            "ee_image_arrayaccum.py",
            nine_3x3.arrayAccum(1, ee.Reducer.sum()),
            [[1, 3, 6], [4, 9, 15], [7, 15, 24]],
        ),
        ("ee_image_arrayreshape.py", six_2x3, [[0, 1, 2], [3, 4, 5]]),
        ("ee_image_arrayreshape.py", six.arrayReshape(shape(3, -1), 2), [[0, 1], [2, 3], [4, 5]]),
        ("ee_image_arrayreshape.py", six_2x3.arrayReshape(shape(-1), 1), [0, 1, 2, 3, 4, 5]),
        ("ee_image_arrayproject.py", six.toArray(1).arrayProject([0]), [0, 1, 2, 3, 4, 5]),
        ("ee_image_arraypad.py", three.arrayPad([5], 9), [0, 1, 2, 9, 9]),
        (
            "ee_image_arraypad.py",
            six_2x3.arrayPad([3, 5], 9),
            [[0, 1, 2, 9, 9], [3, 4, 5, 9, 9], [9, 9, 9, 9, 9]],
        ),
        ("ee_image_arrayreduce.py", six.arrayReduce(ee.Reducer.sum(), [0]), [15]),
        ("ee_image_arrayreduce.py", six_2x3.arrayReduce(ee.Reducer.sum(), [0]), [[3, 5, 7]]),
        ("ee_image_arrayreduce.py", six_2x3.arrayReduce(ee.Reducer.sum(), [1]), [[3], [12]]),
        ("ee_image_arrayreduce.py", six_2x3.arrayReduce(ee.Reducer.sum(), [0, 1]), [[15]]),
        ("ee_image_arrayreduce.py", six_2x3.toArray(2), [[[0], [1], [2]], [[3], [4], [5]]]),
        ("ee_image_arraytranspose.py", six_2x3.arrayTranspose(), [[0, 3], [1, 4], [2, 5]]),
        ("ee_image_arrayargmax.py", argmax_1d.arrayArgmax(), [2]),
        (
            "ee_image_arrayargmax.py",
            argmax_1d.arrayReshape(shape(2, 3), 2).arrayArgmax(),
            [0, 2],
        ),
        ("ee_image_arraylengths.py", col.arrayDimensions(), 2),
        ("ee_image_arraylengths.py", col.arrayLengths(), [3, 1]),
        ("ee_image_arraylengths.py", col.arrayLength(0), 3),
        ("ee_image_arraylengths.py", col.arrayLength(1), 1),
        ("ee_image_arrayget.py", six.arrayGet(ee.Image([3])), 3),
        ("ee_image_arrayget.py", six_2x3.arrayGet(ee.Image([0, 2])), 2),
        ("ee_image_arraydotproduct.py", three.arrayDotProduct(three_b), 14),
        ("ee_image_arrayflatten.py", three.arrayRepeat(1, 2), [[0, 0], [1, 1], [2, 2]]),
    ]


def _as_array(image: Any) -> Any:
    """Every row's image as one band named 'array' (scalar rows are read the same way)."""
    return image.rename("array")


def test_image_array_samples_documented_pixels(ee_api) -> None:
    ee = ee_api
    rows = _rows(ee)
    point = ee.Geometry.Point([-121, 42])
    got = ee.List(
        [_as_array(img).sample(point, 500).first().get("array") for _, img, _ in rows]
    ).getInfo()
    mismatches = [
        (sample, value, want)
        for (sample, _, want), value in zip(rows, got, strict=True)
        if value != want
    ]
    assert not mismatches


def test_image_array_flatten_band_names(ee_api) -> None:
    """ee_image_arrayflatten.py: 3 rows give 3 bands; 3 rows x 2 columns give 6 bands named
    row_col (the sample's labels)."""
    ee = ee_api
    three = ee.Image([0, 1, 2]).toArray()
    rows = ["row0", "row1", "row2"]
    got = ee.List(
        [
            three.arrayFlatten([rows]).bandNames(),
            three.arrayRepeat(1, 2).arrayFlatten([rows, ["col0", "col1"]]).bandNames(),
            three.bandNames(),
        ]
    ).getInfo()
    assert got[0] == rows
    assert got[1] == [f"{r}_{c}" for r in rows for c in ["col0", "col1"]]
    # ee_image_toarray.py: "The resulting array image has a single band named 'array'".
    assert got[2] == ["array"]


def test_image_collection_to_array_per_band(ee_api) -> None:
    """ee_imagecollection_toarrayperband.py: [0, 1, 2]; a masked input masks the pixel (mask 0);
    dropMasked=True omits it ([0, 2])."""
    ee = ee_api

    def const(v: int) -> Any:
        return ee.Image(v).byte().rename("b1")

    point = ee.Geometry.Point([0, 0])

    def at(image: Any) -> Any:
        return image.sample(point, 1).first().get("b1")

    masked = ee.ImageCollection([const(0), const(1).updateMask(0), const(2)])
    got = ee.List(
        [
            at(ee.ImageCollection([const(0), const(1), const(2)]).toArrayPerBand()),
            at(masked.toArrayPerBand().mask()),
            at(masked.toArrayPerBand(0, True)),
        ]
    ).getInfo()
    assert got == [[0, 1, 2], 0, [0, 2]]
