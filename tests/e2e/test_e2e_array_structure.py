"""ee.Array structure and matrix algebra through the stock client.

Oracles: the values Earth Engine documents in its apidocs samples (google/earthengine-community
samples/python/apidocs/ee_array_<name>.py, cited per case), and numpy/scipy for the matrix
algebra on random matrices. Each test batches its expressions into one getInfo.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg

pytestmark = pytest.mark.e2e

R2 = 1 / math.sqrt(2)


def _documented(ee):
    """(expression, value documented in the sample named by the comment)."""
    A = ee.Array
    empty = A([], ee.PixelType.int8())
    a23 = A([[0, 1, 2], [3, 4, 5]])
    e = A([[[0, 1], [2, 3]], [[4, 5], [6, 7]]])
    f = A([[[10, 11], [12, 13]], [[14, 15], [16, 17]]])
    col = A([[1], [2], [3], [4]])
    return [
        # ee_array_accum.py
        (A([-2, 1, 9]).accum(0), [-2, -1, 8]),
        (A([[1, 3], [5, 7]]).accum(0), [[1, 3], [6, 10]]),
        (A([[1, 3], [5, 7]]).accum(1), [[1, 4], [5, 12]]),
        (A([2, -2, 3, 1]).accum(0, ee.Reducer.max()), [2, 2, 3, 3]),
        (A([2, -2, 3, 1]).accum(0, ee.Reducer.mean()), [2, 0, 1, 1]),
        (A([2, -2, 3, 1]).accum(0, ee.Reducer.min()), [2, -2, -2, -2]),
        (A([2, -2, 3]).accum(0, ee.Reducer.product()), [2, -4, -12]),
        # ee_array_argmax.py
        (empty.argmax(), None),
        (A([0, -1, 2, 1]).argmax(), [2]),
        (A([[3, 4, 2], [6, 5, 7]]).argmax(), [1, 2]),
        (A([1, 1, 1, 9, 9, 9]).argmax(), [3]),
        # ee_array_bitstoarray.py
        (ee.Array.bitsToArray(0), [0]),
        (ee.Array.bitsToArray(5), [1, 0, 1]),
        (ee.Array.bitsToArray(0xFF), [1] * 8),
        (ee.Array.bitsToArray(-1), [1] * 64),
        # ee_array_cat.py
        (ee.Array.cat([empty, empty]), []),
        (ee.Array.cat([empty, A([1])]), [1]),
        (ee.Array.cat([A([1]), A([2])], 1), [[1, 2]]),
        (ee.Array.cat([A([0, 1, 2]), A([3, 4, 5])]), [0, 1, 2, 3, 4, 5]),
        (ee.Array.cat([A([0, 1, 2]), A([3, 4, 5])], 1), [[0, 3], [1, 4], [2, 5]]),
        (ee.Array.cat([A([[0], [1], [2]]), A([[3], [4], [5]])], 2), [[[0, 3]], [[1, 4]], [[2, 5]]]),
        (
            ee.Array.cat([e, f], 2),
            [[[0, 1, 10, 11], [2, 3, 12, 13]], [[4, 5, 14, 15], [6, 7, 16, 17]]],
        ),
        (ee.Array.cat([e, f], 3), np.stack([np.array(E), np.array(F)], axis=3).tolist()),
        # ee_array_cut.py
        (A([9]).cut([-1]), [9]),
        (A([0, 1, 2]).cut([2]), [2]),
        (a23.cut([-1, 0]), [[0], [3]]),
        (a23.cut([1, -1]), [[3, 4, 5]]),
        # ee_array_dotproduct.py
        (A([0, 1, 2]).dotProduct(A([3, 4, 5])), 14),
        (A([1.5, 2.5]).dotProduct(A([3, 4])), 14.5),
        # ee_array_get.py
        (A([8, 7, 6]).get([2]), 6),
        (a23.get([1, 0]), 3),
        (a23.get([1, 2]), 5),
        # ee_array_identity.py
        (ee.Array.identity(0), []),
        (ee.Array.identity(1), [[1]]),
        (ee.Array.identity(3), np.eye(3).tolist()),
        # ee_array_mask.py
        (A([1]).mask([0]), []),
        (A([0, 1, 2, 3]).mask([0, 4, -1, 1.2]), [1, 2, 3]),
        (A([[1, 2, 3, 4]]).mask([[0, 0, 0, 0]]), [[]]),
        (A([[1, 2, 3, 4]]).mask([[1, 0, 1, 1]]), [[1, 3, 4]]),
        (col.mask([[0], [0], [0], [0]]), []),
        (col.mask([[1], [0], [1], [1]]), [[1], [3], [4]]),
        (empty.mask(empty), []),
        # ee_array_slice.py
        (A([1, 2, 3, 4, 5, 6]).slice(0, 0, -3), [1, 2, 3]),
        (A([1, 2, 3, 4, 5, 6]).slice(0, -2, 6), [5, 6]),
        (A([1, 2, 3, 4, 5, 6]).slice(0, 2, 6, 2), [3, 5]),
        (A([[1, 2], [3, 4], [5, 6]]).slice(1, 1), [[2], [4], [6]]),
        (empty.slice(0, 0, 0, 1), []),
        # ee_array_eigen.py (diagonal matrices: the eigenvectors are unambiguous)
        (A([[2, 0, 0], [0, 3, 0], [0, 0, 4]]).eigen(), [[4, 0, 0, 1], [3, 0, 1, 0], [2, 1, 0, 0]]),
        (A([[1, 0], [0, 0]]).eigen(), [[1, 1, 0], [0, 0, 1]]),
        # symmetric matrices: the signs Earth Engine documents (JAMA's decomposition)
        (A([[0, 1], [1, 0]]).eigen(), [[1, R2, R2], [-1, R2, -R2]]),
        (A([[1, 1], [1, 1]]).eigen(), [[2, R2, R2], [0, R2, -R2]]),
        (A([[1, 1], [1, 0]]).eigen().slice(0, 0, 1), [[(1 + 5**0.5) / 2, 0.8507, 0.5257]]),
    ]


E = [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]
F = [[[10, 11], [12, 13]], [[14, 15], [16, 17]]]


def _same(got, want) -> bool:
    if want is None:
        return got is None
    if isinstance(want, list):
        return (
            isinstance(got, list)
            and len(got) == len(want)
            and all(_same(g, w) for g, w in zip(got, want, strict=True))
        )
    return isinstance(got, int | float) and got == pytest.approx(want, abs=1e-4)


def test_array_documented_values(ee_api) -> None:
    ee = ee_api
    cases = _documented(ee)
    got = ee.List([c[0] for c in cases]).getInfo()
    for i, ((_, want), value) in enumerate(zip(cases, got, strict=True)):
        assert _same(value, want), (i, value, want)


def test_array_structure_against_numpy(ee_api) -> None:
    ee = ee_api
    rng = np.random.default_rng(5)
    x = rng.integers(-9, 9, (3, 4, 2))
    a = ee.Array(x.tolist())
    keys = rng.permutation(4)
    cases = {
        "length": (a.length(), list(x.shape)),
        "toList": (a.toList(), x.tolist()),
        "transpose": (a.transpose(0, 2), np.swapaxes(x, 0, 2).tolist()),
        "matrixTranspose": (a.matrixTranspose(1, 2), np.swapaxes(x, 1, 2).tolist()),
        "reshape": (a.reshape([2, -1]), x.reshape(2, -1).tolist()),
        "flatten": (a.reshape(ee.Array([-1])), x.reshape(-1).tolist()),
        "project": (a.slice(1, 2, 3).project([2, 0]), x[:, 2, :].T.tolist()),
        "repeat": (a.repeat(1, 3), np.tile(x, (1, 3, 1)).tolist()),
        "repeatNewAxis": (a.repeat(3), np.tile(x[..., None], (1, 1, 1, 2)).tolist()),
        "pad": (
            a.pad([4, 4, 3], 7),
            np.pad(x, ((0, 1), (0, 0), (0, 1)), constant_values=7).tolist(),
        ),
        "sortKeys": (
            a.sort(ee.Array(keys.tolist()).reshape([1, 4, 1])),
            x[:, np.argsort(keys, kind="stable"), :].tolist(),
        ),
        "sort": (ee.Array([3, -1, 2, 2]).sort(), [-1, 2, 2, 3]),
        "sum": (a.reduce(ee.Reducer.sum(), [0, 2]), x.sum(axis=(0, 2), keepdims=True).tolist()),
        "mean": (a.reduce(ee.Reducer.mean(), [1]), x.mean(axis=1, keepdims=True).tolist()),
        "stdDev": (a.reduce(ee.Reducer.stdDev(), [1]), x.std(axis=1, keepdims=True).tolist()),
        "minMax": (
            a.slice(2, 0, 1).reduce(ee.Reducer.minMax(), [1], 2),
            np.concatenate(
                [x[:, :, :1].min(1, keepdims=True), x[:, :, :1].max(1, keepdims=True)], axis=2
            ).tolist(),
        ),
        "combined": (
            a.slice(2, 0, 1).reduce(
                ee.Reducer.mean().combine(ee.Reducer.max(), None, True), [0, 1], 2
            ),
            [[[x[:, :, 0].mean(), x[:, :, 0].max()]]],
        ),
        "percentile": (
            a.slice(2, 1, 2).reduce(ee.Reducer.percentile([25, 90]), [0, 1], 2),
            np.percentile(x[:, :, 1], [25, 90]).reshape(1, 1, 2).tolist(),
        ),
        "accum": (a.accum(1), np.cumsum(x, axis=1).tolist()),
        "argmax": (a.argmax(), list(np.unravel_index(np.argmax(x), x.shape))),
    }
    got = ee.Dictionary({k: v[0] for k, v in cases.items()}).getInfo()
    for name, (_, want) in cases.items():
        assert _same(got[name], np.asarray(want).tolist()), (name, got[name], want)


def test_array_matrix_against_numpy(ee_api) -> None:
    ee = ee_api
    rng = np.random.default_rng(11)
    m = rng.normal(size=(4, 4))
    spd = m @ m.T + 4 * np.eye(4)
    tall = rng.normal(size=(6, 3))
    rhs = rng.normal(size=(6, 2))
    M, S, T, B = (ee.Array(v.tolist()) for v in (m, spd, tall, rhs))
    cases = {
        "multiply": (T.matrixMultiply(T.matrixTranspose()), tall @ tall.T),
        "inverse": (M.matrixInverse(), np.linalg.inv(m)),
        "pinv": (T.matrixPseudoInverse(), np.linalg.pinv(tall)),
        "solveSquare": (M.matrixSolve(ee.Array(rhs[:4].tolist())), np.linalg.solve(m, rhs[:4])),
        "solveLeastSquares": (T.matrixSolve(B), np.linalg.lstsq(tall, rhs, rcond=None)[0]),
        "determinant": (M.matrixDeterminant(), np.linalg.det(m)),
        "trace": (M.matrixTrace(), np.trace(m)),
        "fnorm": (T.matrixFnorm(), np.linalg.norm(tall)),
        "diagonal": (M.matrixDiagonal(), np.diag(m)[:, None]),
        "toDiag": (ee.Array([[1], [2], [3]]).matrixToDiag(), np.diag([1.0, 2, 3])),
        "eigenvalues": (S.eigen().slice(1, 0, 1), np.sort(np.linalg.eigvalsh(spd))[::-1, None]),
        "eigen": (S.eigen(), None),
        "cholesky": (S.matrixCholeskyDecomposition(), {"L": np.linalg.cholesky(spd)}),
        "svd": (T.matrixSingularValueDecomposition(), None),
        "lu": (M.matrixLUDecomposition(), None),
        "qr": (T.matrixQRDecomposition(), None),
    }
    got = ee.Dictionary({k: v[0] for k, v in cases.items()}).getInfo()
    for name, (_, want) in cases.items():
        if want is None:
            continue
        if isinstance(want, dict):
            assert set(got[name]) == set(want)
            for k in want:
                np.testing.assert_allclose(got[name][k], want[k], atol=1e-9)
        else:
            np.testing.assert_allclose(got[name], want, atol=1e-9, err_msg=name)

    svd = {k: np.array(v) for k, v in got["svd"].items()}
    assert set(svd) == {"U", "S", "V"}
    np.testing.assert_allclose(svd["U"] @ svd["S"] @ svd["V"].T, tall, atol=1e-9)
    np.testing.assert_allclose(np.diag(svd["S"]), np.linalg.svd(tall, compute_uv=False), atol=1e-9)
    np.testing.assert_allclose(svd["U"].T @ svd["U"], np.eye(3), atol=1e-9)

    eigen = np.array(got["eigen"])
    for value, *vector in eigen:
        np.testing.assert_allclose(spd @ vector, value * np.array(vector), atol=1e-9)
        assert np.linalg.norm(vector) == pytest.approx(1.0)

    lu = {k: np.array(v) for k, v in got["lu"].items()}
    p, lower, upper = scipy.linalg.lu(m)  # m = p @ lower @ upper
    np.testing.assert_allclose(lu["P"] @ m, lu["L"] @ lu["U"], atol=1e-9)
    np.testing.assert_allclose(lu["L"], lower, atol=1e-9)
    np.testing.assert_allclose(lu["U"], upper, atol=1e-9)
    np.testing.assert_allclose(lu["P"], p.T, atol=1e-9)

    qr = {k: np.array(v) for k, v in got["qr"].items()}
    np.testing.assert_allclose(qr["Q"] @ qr["R"], tall, atol=1e-9)
    np.testing.assert_allclose(qr["Q"].T @ qr["Q"], np.eye(6), atol=1e-9)
    np.testing.assert_allclose(np.tril(qr["R"], -1), 0, atol=1e-12)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (lambda ee: ee.Array([1, 2]).get([2]), "out of range"),
        (lambda ee: ee.Array([[1, 2], [2, 4]]).matrixInverse(), "singular"),
        (lambda ee: ee.Array([[1, 2], [3, 4]]).project([0]), "length 1"),
        (lambda ee: ee.Array([1, 2, 3]).reshape([2, 2]), "cannot reshape"),
        (lambda ee: ee.Array([[1, 2], [2, -4]]).matrixCholeskyDecomposition(), "positive definite"),
        (lambda ee: ee.Array([[1, 2]]).matrixMultiply(ee.Array([[1, 2]])), "cannot multiply"),
    ],
)
def test_array_errors_name_the_problem(ee_api, expression, message) -> None:
    ee = ee_api
    with pytest.raises(ee.EEException, match=message):
        expression(ee).getInfo()


def test_pixel_type_and_typed_arrays(ee_api) -> None:
    ee = ee_api
    got = ee.List([
        ee.PixelType.int8(),
        ee.PixelType("double", 1, 3, 2),
        ee.PixelType.float(),
        ee.PixelType("int", -20, -10).minValue(),
        ee.PixelType("double", None, None, 2).dimensions(),
        ee.PixelType.uint16().precision(),
        ee.Array([1.7, -2.2, 300, -300], ee.PixelType.int8()),
        ee.Array([[1, 2]], ee.PixelType.double()).get([0, 1]),
    ]).getInfo()  # fmt: skip
    # ee_pixeltype.py: int ∈ [-128, 127]; double ∈ [1, 3], 2 dimensions; float
    assert got[0] == {"type": "PixelType", "precision": "int", "min": -128, "max": 127}
    assert got[1] == {
        "type": "PixelType",
        "precision": "double",
        "min": 1,
        "max": 3,
        "dimensions": 2,
    }
    assert got[2] == {"type": "PixelType", "precision": "float"}
    assert got[3:6] == [-20, 2, "int"]
    assert got[6] == [2, -2, 127, -128]  # rounded half up and saturated, as Array.int8
    assert got[7] == 2


def test_image_array_reduce_multi_output_and_repeat_new_axis(ee_api) -> None:
    """Values documented in ee_image_arrayreduce.py and ee_image_arrayrepeat.py, read at a
    point as those samples do."""
    ee = ee_api
    point = ee.Geometry.Point([-121, 42])

    def at_point(image):
        return image.sample(point, 500).first().get("array")

    one_d = ee.Image([0, 1, 2, 3, 4, 5]).toArray()
    two_d = one_d.arrayReshape(ee.Image([2, 3]).toArray(), 2)
    short = ee.Image([0, 1, 2]).toArray()
    cases = [
        (one_d.toArray(1).arrayReduce(ee.Reducer.minMax(), [0], 1), [[0, 5]]),
        (two_d.toArray(2).arrayReduce(ee.Reducer.minMax(), [0], 2), [[[0, 3], [1, 4], [2, 5]]]),
        (two_d.arrayReduce(ee.Reducer.sum(), [0, 1]), [[15]]),
        (short.arrayRepeat(0, 3), [0, 1, 2] * 3),
        (short.arrayRepeat(1, 3), [[0, 0, 0], [1, 1, 1], [2, 2, 2]]),
        (short.arrayRepeat(1, 3).arrayRepeat(1, 2), [[0] * 6, [1] * 6, [2] * 6]),
        (short.arrayRepeat(1, 3).arrayRepeat(0, 2), [[0] * 3, [1] * 3, [2] * 3] * 2),
    ]
    got = ee.List([at_point(img) for img, _ in cases]).getInfo()
    for (_, want), value in zip(cases, got, strict=True):
        assert _same(value, want), (value, want)
    dims = short.arrayRepeat(1, 3).getInfo()["bands"][0]["data_type"]["dimensions"]
    assert dims == 2


@pytest.mark.parametrize("name", ["uint8", "int8", "uint16", "int16", "uint32", "int32", "int64"])
def test_integer_pixel_types_hold_their_numpy_range(ee_api, name) -> None:
    ee = ee_api
    pixel_type = getattr(ee.PixelType, name)()
    got = ee.List([pixel_type.minValue(), pixel_type.maxValue()]).getInfo()
    assert got == [np.iinfo(name).min, np.iinfo(name).max]
