"""Matrix algebra on 2-D array pixels, batched over pixels with numpy.linalg (and scipy's LU).

A pixel whose matrix has no answer (singular for inverse, not positive definite for Cholesky,
not square for a determinant) is masked, not an error: other pixels may well have one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from openee.algorithms.image_array import map_array, pair_bands
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.array_bands import ArrayOpBand
from openee.raster.grid import PixelGrid
from openee.raster.image import Band, Image
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource


def _matrices(image: Image, what: str) -> None:
    for b in image.bands:
        if b.source.rank != 2:
            raise InvalidArgumentError(
                f"band '{b.name}' must hold 2-D matrices, it has {b.source.rank}-D pixels."
            )


def _unary(image: Image, what: str, op: str, *params: object) -> Image:
    _matrices(image, what)
    return map_array(image, what, op, *params)


def _decomposition(image: Image, what: str, prefix: str, parts: tuple[str, ...]) -> Image:
    _matrices(image, what)
    if len(image.bands) != 1:
        raise InvalidArgumentError("the image must have one band.")
    band = image.bands[0]
    bands = tuple(
        Band(p, ArrayOpBand(f"{prefix}.{p}", (band.source,)), band.projection, band.dimensions)
        for p in parts
    )
    return replace(image, bands=bands)


@algorithm("Image.matrixTranspose")
def matrix_transpose(input: Image, axis1: int = 0, axis2: int = 1) -> Image:
    """Swaps two axes of each array pixel (rows and columns of a matrix by default).

    Args:
        input: The array image.
        axis1: The first axis.
        axis2: The second axis.
    """
    from openee.algorithms.image_array import array_transpose

    return array_transpose(input, axis1, axis2)


@dataclass(frozen=True)
class IdentityBand(BandSource):
    """The size x size identity matrix on every pixel."""

    accepts_arrays = True

    size: int

    dtype = np.dtype(np.float64)

    @property
    def rank(self) -> int:
        return 2

    def read(self, grid: PixelGrid) -> Pixels:
        eye = np.broadcast_to(np.eye(self.size), (*grid.shape, self.size, self.size))
        return Pixels(np.array(eye), np.ones(grid.shape, dtype=bool))


@algorithm("Image.matrixIdentity")
def matrix_identity(size: int) -> Image:
    """An image of the size x size identity matrix at every pixel, in a band named 'identity'.

    Args:
        size: The number of rows and columns.
    """
    if size < 1:
        raise InvalidArgumentError(f"size must be positive, got {size}.")
    return Image((Band("identity", IdentityBand(int(size))),))


def _simple(name: str, op: str, doc: str) -> None:
    def fn(value: Image) -> Image:
        return _unary(value, name, op)

    fn.__doc__ = f"{doc}\n\nArgs:\n    value: The image of 2-D matrices.\n"
    algorithm(f"Image.{name}")(fn)


_simple("matrixDiagonal", "matrixDiagonal", "The diagonal of each matrix, as a single column.")
_simple("matrixToDiag", "matrixToDiag", "A square diagonal matrix from each single-column matrix.")
_simple("matrixInverse", "matrixInverse", "The inverse of each square matrix; singular: masked.")
_simple(
    "matrixPseudoInverse", "matrixPseudoInverse", "The Moore-Penrose pseudo-inverse of each matrix."
)
_simple("matrixFnorm", "matrixFnorm", "The Frobenius norm of each matrix (a scalar band).")
_simple("matrixTrace", "matrixTrace", "The trace of each matrix (a scalar band).")
_simple(
    "matrixDeterminant",
    "matrixDeterminant",
    "The determinant of each square matrix (a scalar band).",
)


@algorithm("Image.matrixMultiply")
def matrix_multiply(image1: Image, image2: Image) -> Image:
    """The matrix product image1 x image2 at each pixel.

    Args:
        image1: The left matrices.
        image2: The right matrices.
    """
    _matrices(image1, "matrixMultiply")
    _matrices(image2, "matrixMultiply")
    return pair_bands(image1, image2, "matrixMultiply", "matrixMultiply")


@algorithm("Image.matrixSolve")
def matrix_solve(image1: Image, image2: Image) -> Image:
    """Solves image1 x X = image2 for X at each pixel; the least-squares solution when image1
    is overdetermined (through the pseudo-inverse).

    Args:
        image1: The coefficient matrices A.
        image2: The right-hand sides B.
    """
    _matrices(image1, "matrixSolve")
    _matrices(image2, "matrixSolve")
    return pair_bands(image1, image2, "matrixSolve", "matrixSolve")


@algorithm("Image.matrixCholeskyDecomposition")
def matrix_cholesky(image: Image) -> Image:
    """The Cholesky decomposition A = L L' of each symmetric positive-definite matrix, in a
    band 'L'; other pixels are masked.

    Args:
        image: The image of matrices.
    """
    return _decomposition(image, "matrixCholeskyDecomposition", "cholesky", ("L",))


@algorithm("Image.matrixSingularValueDecomposition")
def matrix_svd(image: Image) -> Image:
    """The singular value decomposition A = U S V' of each m x n matrix, in bands 'U' (m x k),
    'S' (k x k, diagonal) and 'V' (n x k), k = min(m, n).

    Args:
        image: The image of matrices.
    """
    return _decomposition(image, "matrixSingularValueDecomposition", "svd", ("U", "S", "V"))


@algorithm("Image.matrixLUDecomposition")
def matrix_lu(image: Image) -> Image:
    """The LU decomposition P A = L U of each matrix with partial pivoting, in bands 'L'
    (unit lower triangular), 'U' (upper triangular) and 'P' (the row permutation).

    Args:
        image: The image of matrices.
    """
    return _decomposition(image, "matrixLUDecomposition", "lu", ("L", "U", "P"))


@algorithm("Image.matrixQRDecomposition")
def matrix_qr(image: Image) -> Image:
    """The QR decomposition A = Q R of each matrix, in bands 'Q' (orthogonal) and 'R' (upper
    triangular).

    Args:
        image: The image of matrices.
    """
    return _decomposition(image, "matrixQRDecomposition", "qr", ("Q", "R"))
