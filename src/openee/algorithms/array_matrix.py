"""ee.Array matrix algebra: products, solves, inverses, norms and decompositions of 2-D arrays.

The same kernels as Image.matrix* (openee.raster.array_kernels), run on a batch of one. A
matrix without an answer (singular for an inverse, not positive definite for Cholesky) is an
error here, where an image masks that pixel. Decompositions answer dictionaries named as
Earth Engine documents them: {L} (Cholesky), {U, S, V} (SVD), {L, U, P} (LU), {Q, R} (QR).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from openee.algorithms.array_structure import run_kernel, wrap
from openee.algorithms.array_value import ArrayValue, _as_array
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError


def _matrix(value: Any, what: str, square: bool = False) -> np.ndarray:
    data = _as_array(value, what)
    if data.ndim != 2:
        raise InvalidArgumentError(f"'{what}' must be a 2-D matrix, got shape {list(data.shape)}.")
    if square and data.shape[0] != data.shape[1]:
        raise InvalidArgumentError(
            f"'{what}' must be a square matrix, got shape {list(data.shape)}."
        )
    return data


def _unary(name: str, doc: str, square: bool, failure: str) -> None:
    def fn(input: Any) -> ArrayValue:
        return wrap(run_kernel(name, [_matrix(input, "input", square)], (), failure))

    fn.__doc__ = f"{doc}\n\nArgs:\n    input: The 2-D matrix.\n"
    algorithm(f"Array.{name}")(fn)


_unary("matrixDiagonal", "The diagonal of a matrix, as a single-column matrix.", False, "")
_unary("matrixInverse", "The inverse of a square matrix.", True, "the matrix is singular.")
_unary(
    "matrixPseudoInverse",
    "The Moore-Penrose pseudo-inverse of a matrix.",
    False,
    "the pseudo-inverse does not converge.",
)


def _scalar(name: str, doc: str, square: bool) -> None:
    def fn(input: Any) -> float:
        return float(run_kernel(name, [_matrix(input, "input", square)], (), f"{name} failed."))

    fn.__doc__ = f"{doc}\n\nArgs:\n    input: The 2-D matrix.\n"
    algorithm(f"Array.{name}")(fn)


_scalar("matrixFnorm", "The Frobenius norm of a matrix.", False)
_scalar("matrixTrace", "The trace of a matrix: the sum of its diagonal.", False)
_scalar("matrixDeterminant", "The determinant of a square matrix.", True)


@algorithm("Array.matrixToDiag")
def matrix_to_diag(input: Any) -> ArrayValue:
    """A square diagonal matrix whose diagonal is the given single row or column (or 1-D
    array).

    Args:
        input: The single-column (or single-row) matrix.
    """
    data = _as_array(input, "input")
    if data.ndim > 2 or (data.ndim == 2 and min(data.shape) != 1):
        raise InvalidArgumentError(
            f"'input' must be a single row or column, got {list(data.shape)}."
        )
    return wrap(run_kernel("matrixToDiag", [data], (), ""))


@algorithm("Array.matrixMultiply")
def matrix_multiply(left: Any, right: Any) -> ArrayValue:
    """The matrix product left x right.

    Args:
        left: The left matrix (m x n).
        right: The right matrix (n x p).
    """
    a, b = _matrix(left, "left"), _matrix(right, "right")
    if a.shape[1] != b.shape[0]:
        raise InvalidArgumentError(f"cannot multiply shapes {list(a.shape)} and {list(b.shape)}.")
    out = run_kernel("matrixMultiply", [a, b], (), "the product is not finite.")
    return wrap(out.astype(np.int64) if a.dtype.kind in "iu" and b.dtype.kind in "iu" else out)


@algorithm("Array.matrixSolve")
def matrix_solve(left: Any, right: Any) -> ArrayValue:
    """Solves left x X = right for X: exactly for a square, non-singular left, else the
    least-squares (minimum-norm) solution, through the pseudo-inverse.

    Args:
        left: The coefficient matrix A (m x n).
        right: The right-hand sides B (m x p).
    """
    a, b = _matrix(left, "left"), _matrix(right, "right")
    if a.shape[0] != b.shape[0]:
        raise InvalidArgumentError(
            f"the matrices differ in rows: {list(a.shape)} and {list(b.shape)}."
        )
    return wrap(run_kernel("matrixSolve", [a, b], (), "the system has no finite solution."))


def _parts(prefix: str, names: tuple[str, ...], data: np.ndarray, failure: str) -> dict[str, Any]:
    return {n: wrap(run_kernel(f"{prefix}.{n}", [data], (), failure)) for n in names}


@algorithm("Array.matrixCholeskyDecomposition")
def matrix_cholesky(array: Any) -> dict[str, Any]:
    """The Cholesky decomposition A = L L' of a symmetric positive-definite matrix, as a
    dictionary with the lower triangular 'L'.

    Args:
        array: The symmetric positive-definite matrix.
    """
    data = _matrix(array, "array", square=True)
    if not np.allclose(data, data.T):
        raise InvalidArgumentError("the matrix is not symmetric.")
    return _parts("cholesky", ("L",), data, "the matrix is not positive definite.")


@algorithm("Array.matrixSingularValueDecomposition")
def matrix_svd(array: Any) -> dict[str, Any]:
    """The singular value decomposition A = U S V' of an m x n matrix, as a dictionary of
    'U' (m x k), 'S' (k x k diagonal, descending) and 'V' (n x k), k = min(m, n).

    Args:
        array: The matrix.
    """
    return _parts("svd", ("U", "S", "V"), _matrix(array, "array"), "the SVD does not converge.")


@algorithm("Array.matrixLUDecomposition")
def matrix_lu(array: Any) -> dict[str, Any]:
    """The LU decomposition P A = L U of a square matrix with partial pivoting, as a
    dictionary of 'L' (unit lower triangular), 'U' (upper triangular) and 'P' (the row
    permutation matrix).

    Args:
        array: The square matrix.
    """
    data = _matrix(array, "array", square=True)
    return _parts("lu", ("L", "U", "P"), data, "the LU decomposition failed.")


@algorithm("Array.matrixQRDecomposition")
def matrix_qr(array: Any) -> dict[str, Any]:
    """The QR decomposition A = Q R of an m x n matrix, as a dictionary of 'Q' (m x m,
    orthogonal) and 'R' (m x n, upper triangular).

    Args:
        array: The matrix.
    """
    return _parts("qr", ("Q", "R"), _matrix(array, "array"), "the QR decomposition failed.")
