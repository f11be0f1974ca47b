"""Kernels of array-valued pixels, batched over pixels (axis 0 of every batch is the pixel).

Each entry of `OPS` states the output type and rank from the inputs' and the kernel itself.
Per-pixel failures (a singular matrix, an index out of range, an empty array) mask that pixel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

from openee.raster.arrays import Batch, compact
from openee.reducers.registry import accumulate_kernel, axis_kernel

F64 = np.dtype(np.float64)
I32 = np.dtype(np.int32)

DtypeRule = Callable[[list[np.dtype], tuple[Any, ...]], np.dtype]
RankRule = Callable[[list[int], tuple[Any, ...]], int]


@dataclass(frozen=True)
class OpSpec:
    kernel: Callable[[list[np.ndarray], tuple[Any, ...]], Batch]
    rank: RankRule
    dtype: DtypeRule
    shape_inputs: tuple[int, ...] = ()


def same_type(dtypes: list[np.dtype], params: tuple[Any, ...]) -> np.dtype:
    return np.dtype(dtypes[0])


def joined_type(dtypes: list[np.dtype], params: tuple[Any, ...]) -> np.dtype:
    return np.result_type(*dtypes)


def float_type(dtypes: list[np.dtype], params: tuple[Any, ...]) -> np.dtype:
    return F64


def int_type(dtypes: list[np.dtype], params: tuple[Any, ...]) -> np.dtype:
    return I32


def same_rank(ranks: list[int], params: tuple[Any, ...]) -> int:
    return ranks[0]


def fixed(rank: int) -> RankRule:
    return lambda ranks, params: rank


def _ok_all(values: np.ndarray) -> np.ndarray:
    """Pixels whose result is finite everywhere (a failed solve leaves NaN or inf)."""
    return np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1)


# -- construction -----------------------------------------------------------------------------


def to_array(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    (axis,) = params
    if axis == batch[0].ndim - 1:  # one past the inputs' axes: stacked along a new axis
        return Batch(np.stack(batch, axis=axis + 1))
    return Batch(np.concatenate(batch, axis=axis + 1))


def cat(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    (axis,) = params
    return Batch(np.concatenate(batch, axis=axis + 1))


def pad(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    lengths, value = params
    a = batch[0]
    widths = [(0, 0)] + [(0, max(0, int(n) - s)) for n, s in zip(lengths, a.shape[1:], strict=True)]
    return Batch(np.pad(a, widths, constant_values=value))


def repeat(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    (axis,) = params
    a, copies = batch
    n = int(copies[0]) if copies.size else 0
    if axis + 1 == a.ndim:  # one past the last axis (a scalar's axis 0): onto a new axis
        a = a[..., None]
    if n < 0:
        return Batch(a, ok=np.zeros(a.shape[0], dtype=bool))
    reps = [1] * a.ndim
    reps[axis + 1] = n
    return Batch(np.tile(a, reps))


def reshape(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    a, lengths = batch
    shape = [int(v) for v in lengths[0].reshape(-1)]
    size = int(np.prod(a.shape[1:]))
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        shape[shape.index(-1)] = size // known if known else 0
    if int(np.prod(shape)) != size or any(s < 0 for s in shape):
        empty = np.zeros((a.shape[0], *[max(s, 0) for s in shape]), a.dtype)
        return Batch(empty, ok=np.zeros(a.shape[0], dtype=bool))
    return Batch(a.reshape(a.shape[0], *shape))


def bits_to_array(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    # Negative values have all 64 bits of their two's complement (as Array.bitsToArray).
    v = batch[0].astype(np.int64).view(np.uint64)
    width = int(np.max(v)).bit_length() if v.size else 0
    bits = (v[:, None] >> np.arange(width, dtype=np.uint64)) & np.uint64(1)
    nbits = np.array([int(x).bit_length() for x in v], dtype=np.int64)
    return Batch(bits, lengths=nbits[:, None])


# -- access -----------------------------------------------------------------------------------


def get(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    a, *positions = batch
    shape = a.shape[1:]
    idx = [p.astype(np.int64) for p in positions]
    ok = np.ones(a.shape[0], dtype=bool)
    for i, n in zip(idx, shape, strict=True):
        ok &= (i >= 0) & (i < n)
    safe = [np.where(ok, i, 0) for i in idx]
    if a.size == 0:
        return Batch(np.zeros(a.shape[0], a.dtype), ok=np.zeros(a.shape[0], dtype=bool))
    return Batch(a[(np.arange(a.shape[0]), *safe)], ok=ok)


def slice_axis(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    axis, step = params
    a, start, end = batch
    s = int(start[0]) if start.size else None
    e = int(end[0]) if end.size else None
    index = [slice(None)] * a.ndim
    index[axis + 1] = slice(s, e, step)
    return Batch(a[tuple(index)])


def project(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    (axes,) = params
    a = batch[0]
    dropped = [i for i in range(a.ndim - 1) if i not in axes]
    if any(a.shape[i + 1] != 1 for i in dropped):
        shape = [a.shape[i + 1] for i in axes]
        return Batch(np.zeros((a.shape[0], *shape), a.dtype), ok=np.zeros(a.shape[0], bool))
    kept = np.squeeze(a, axis=tuple(i + 1 for i in dropped)) if dropped else a
    remaining = [i for i in range(a.ndim - 1) if i not in dropped]
    order = [remaining.index(ax) + 1 for ax in axes]
    return Batch(np.transpose(kept, [0, *order]))


def transpose(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    axis1, axis2 = params
    return Batch(np.swapaxes(batch[0], axis1 + 1, axis2 + 1))


def mask(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    a, m = batch
    if m.ndim != a.ndim:
        m = m.reshape(m.shape[0], *([1] * (a.ndim - 1)))
    multi = [i for i in range(1, m.ndim) if m.shape[i] > 1]
    axis = multi[0] - 1 if multi else 0
    keep = np.moveaxis(m != 0, axis + 1, 1).reshape(m.shape[0], m.shape[axis + 1], -1)[:, :, 0]
    if keep.shape[1] != a.shape[axis + 1]:
        keep = np.broadcast_to(keep, (a.shape[0], a.shape[axis + 1]))
    result = compact(a, keep, axis)
    assert result.lengths is not None
    size = int(result.lengths[:, axis].max()) if result.lengths.size else 0
    index = [slice(None)] * a.ndim
    index[axis + 1] = slice(0, size)
    return Batch(result.values[tuple(index)], lengths=result.lengths)


def sort(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    a = batch[0]
    keys = batch[1] if len(batch) > 1 else a
    if keys.ndim != a.ndim:
        keys = keys.reshape(keys.shape[0], *([1] * (a.ndim - 1)))
    multi = [i for i in range(1, keys.ndim) if keys.shape[i] > 1]
    if len(multi) > 1:
        return Batch(a, ok=np.zeros(a.shape[0], dtype=bool))
    axis = multi[0] if multi else 1
    if keys.shape[axis] != a.shape[axis]:
        raise ValueError("the keys and the values differ in length along the sorted axis")
    flat_keys = np.moveaxis(keys, axis, 1).reshape(keys.shape[0], keys.shape[axis], -1)[:, :, 0]
    order = np.argsort(flat_keys, axis=1, kind="stable")
    shape = [a.shape[0]] + [1] * (a.ndim - 1)
    shape[axis] = order.shape[1]
    return Batch(np.take_along_axis(a, order.reshape(shape), axis=axis))


def argmax(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    a = batch[0]
    n = a.shape[0]
    if a[0].size == 0:
        return Batch(np.zeros((n, a.ndim - 1), np.int32), ok=np.zeros(n, dtype=bool))
    flat = np.argmax(a.reshape(n, -1), axis=1)
    return Batch(np.stack(np.unravel_index(flat, a.shape[1:]), axis=1).astype(np.int32))


def dot(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    a, b = batch
    if a.shape != b.shape:
        return Batch(np.zeros(a.shape[0]), ok=np.zeros(a.shape[0], dtype=bool))
    return Batch(np.einsum("ni,ni->n", a.astype(np.float64), b.astype(np.float64)))


# -- reductions -------------------------------------------------------------------------------


def _reduce(name: str, a: np.ndarray, axes: tuple[int, ...], param: float = 0.0) -> np.ndarray:
    kernel = axis_kernel(name)
    with np.errstate(all="ignore"):
        return kernel(a.astype(np.float64), axes, param)


def reduce(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    """`params`: the outputs (a name, or a (name, parameter) pair such as ('percentile', 90)),
    the axes reduced, and the field axis along which several outputs are laid out; that axis
    must have length 1 once reduced (Earth Engine: its length is the reducer's input count)."""
    names, axes, field_axis = params
    a = batch[0]
    ax = tuple(i + 1 for i in axes)
    if any(a.shape[i] == 0 for i in ax):
        shape = [1 if i in ax else s for i, s in enumerate(a.shape)]
        return Batch(np.zeros(shape), ok=np.zeros(a.shape[0], dtype=bool))
    outs = [_reduce(n, a, ax) if isinstance(n, str) else _reduce(n[0], a, ax, n[1]) for n in names]
    if len(outs) == 1:
        return Batch(outs[0])
    if outs[0].shape[field_axis + 1] != 1:
        shape = list(outs[0].shape)
        shape[field_axis + 1] = len(outs)
        return Batch(np.zeros(shape), ok=np.zeros(a.shape[0], dtype=bool))
    return Batch(np.concatenate(outs, axis=field_axis + 1))


def accum(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
    axis, name = params
    return Batch(accumulate_kernel(name)(batch[0].astype(np.float64), axis + 1))


# -- matrices ---------------------------------------------------------------------------------


def _matrix(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float64)


def _linalg(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[list[np.ndarray], Any], Batch]:
    def kernel(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
        a = _matrix(batch[0])
        with np.errstate(all="ignore"):
            try:
                out = fn(a)
            except np.linalg.LinAlgError:
                out = np.stack([_one(fn, m) for m in a]) if a.shape[0] else fn(a[:0])
        return Batch(out, ok=_ok_all(out))

    return kernel


def _one(fn: Callable[[np.ndarray], np.ndarray], m: np.ndarray) -> np.ndarray:
    """`fn` of one matrix, NaN where it fails (so that pixel alone is masked)."""
    try:
        return fn(m[None])[0]
    except (np.linalg.LinAlgError, ValueError):
        shape = fn(np.eye(*m.shape)[None])[0].shape
        return np.full(shape, np.nan)


def _diagonal(a: np.ndarray) -> np.ndarray:
    return np.diagonal(a, axis1=1, axis2=2)[:, :, None]


def _to_diag(a: np.ndarray) -> np.ndarray:
    v = a.reshape(a.shape[0], -1)
    return v[:, :, None] * np.eye(v.shape[1])[None]


def _square_only(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    def checked(a: np.ndarray) -> np.ndarray:
        if a.shape[1] != a.shape[2]:
            raise ValueError("not square")
        return fn(a)

    return checked


def _svd(part: str) -> Callable[[np.ndarray], np.ndarray]:
    def fn(a: np.ndarray) -> np.ndarray:
        u, s, vt = np.linalg.svd(a, full_matrices=False)
        if part == "U":
            return u
        if part == "S":
            return s[:, :, None] * np.eye(s.shape[1])[None]
        return np.swapaxes(vt, 1, 2)

    return fn


def _lu(part: str) -> Callable[[np.ndarray], np.ndarray]:
    def fn(a: np.ndarray) -> np.ndarray:
        p, lower, upper = scipy.linalg.lu(a)  # a = p @ lower @ upper
        if part == "L":
            return np.asarray(lower)
        if part == "U":
            return np.asarray(upper)
        return np.swapaxes(np.asarray(p), 1, 2)  # P @ a = L @ U, as Earth Engine states it

    return fn


def _qr(part: str) -> Callable[[np.ndarray], np.ndarray]:
    def fn(a: np.ndarray) -> np.ndarray:
        q, r = np.linalg.qr(a, mode="complete")
        return q if part == "Q" else r

    return fn


def _scalar(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[list[np.ndarray], Any], Batch]:
    def kernel(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
        a = _matrix(batch[0])
        if a.ndim != 3:
            return Batch(np.zeros(a.shape[0]), ok=np.zeros(a.shape[0], dtype=bool))
        with np.errstate(all="ignore"):
            try:
                out = fn(a)
            except (np.linalg.LinAlgError, ValueError):
                return Batch(np.zeros(a.shape[0]), ok=np.zeros(a.shape[0], dtype=bool))
        return Batch(out, ok=np.isfinite(out))

    return kernel


def _binary_matrix(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., Batch]:
    def kernel(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
        a, b = _matrix(batch[0]), _matrix(batch[1])
        try:
            out = fn(a, b)
        except (ValueError, np.linalg.LinAlgError):
            shape = (a.shape[0], a.shape[1] if a.ndim > 1 else 0, b.shape[-1] if b.ndim > 2 else 1)
            return Batch(np.zeros(shape), ok=np.zeros(a.shape[0], dtype=bool))
        return Batch(out, ok=_ok_all(out))

    return kernel


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least-squares x of a @ x = b (exact for square, full-rank a)."""
    if a.shape[1] != b.shape[1]:
        raise ValueError("rows differ")
    return np.asarray(np.linalg.pinv(a) @ b)


def _regression(part: str) -> Callable[[list[np.ndarray], tuple[Any, ...]], Batch]:
    """Least squares of a (k, numX + numY) table per pixel (rows: observations): the numX x
    numY coefficients, or the root mean square residual of each dependent variable (1-D).
    Fewer observations than numX mask the pixel, as Reducer.linearRegression gives null."""

    def kernel(batch: list[np.ndarray], params: tuple[Any, ...]) -> Batch:
        (num_x,) = params
        table = batch[0].astype(np.float64)
        x, y = table[:, :, :num_x], table[:, :, num_x:]
        ok = np.full(table.shape[0], table.shape[1] >= num_x)
        coefficients = np.linalg.pinv(x) @ y  # the minimum-norm least-squares solution
        if part == "coefficients":
            return Batch(coefficients, ok=ok)
        rms = np.sqrt(np.mean((y - x @ coefficients) ** 2, axis=1))
        return Batch(rms, ok=ok)

    return kernel


def _parts(
    names: Sequence[str], make: Callable[[str], Callable[[np.ndarray], np.ndarray]], prefix: str
) -> dict[str, OpSpec]:
    return {f"{prefix}.{n}": OpSpec(_linalg(make(n)), fixed(2), float_type) for n in names}


OPS: dict[str, OpSpec] = {
    "toArray": OpSpec(to_array, lambda r, p: r[0] + 1 if p[0] == r[0] else r[0], joined_type),
    "cat": OpSpec(cat, same_rank, joined_type),
    "pad": OpSpec(pad, same_rank, same_type),
    "repeat": OpSpec(repeat, lambda r, p: r[0] + 1 if p[0] == r[0] else r[0], same_type, (1,)),
    "reshape": OpSpec(reshape, lambda r, p: int(p[0]), same_type, shape_inputs=(1,)),
    "bitsToArray": OpSpec(bits_to_array, fixed(1), lambda d, p: np.dtype(np.uint8)),
    "get": OpSpec(get, fixed(0), same_type),
    "slice": OpSpec(slice_axis, same_rank, same_type, shape_inputs=(1, 2)),
    "project": OpSpec(project, lambda r, p: len(p[0]), same_type),
    "transpose": OpSpec(transpose, same_rank, same_type),
    "mask": OpSpec(mask, same_rank, same_type),
    "sort": OpSpec(sort, same_rank, same_type),
    "argmax": OpSpec(argmax, fixed(1), int_type),
    "dot": OpSpec(dot, fixed(0), float_type),
    "reduce": OpSpec(reduce, same_rank, float_type),
    "accum": OpSpec(accum, same_rank, float_type),
    "matrixDiagonal": OpSpec(_linalg(_diagonal), fixed(2), float_type),
    "matrixToDiag": OpSpec(_linalg(_to_diag), fixed(2), float_type),
    "matrixInverse": OpSpec(_linalg(_square_only(np.linalg.inv)), fixed(2), float_type),
    "matrixPseudoInverse": OpSpec(_linalg(np.linalg.pinv), fixed(2), float_type),
    "cholesky.L": OpSpec(_linalg(np.linalg.cholesky), fixed(2), float_type),
    "matrixFnorm": OpSpec(
        _scalar(lambda a: np.sqrt((a**2).sum(axis=(1, 2)))), fixed(0), float_type
    ),
    "matrixTrace": OpSpec(_scalar(lambda a: np.trace(a, axis1=1, axis2=2)), fixed(0), float_type),
    "matrixDeterminant": OpSpec(_scalar(_square_only(np.linalg.det)), fixed(0), float_type),
    "matrixMultiply": OpSpec(_binary_matrix(np.matmul), fixed(2), float_type),
    "matrixSolve": OpSpec(_binary_matrix(_solve), fixed(2), float_type),
    "regression.coefficients": OpSpec(_regression("coefficients"), fixed(2), float_type),
    "regression.residuals": OpSpec(_regression("residuals"), fixed(1), float_type),
    **_parts(("U", "S", "V"), _svd, "svd"),
    **_parts(("L", "U", "P"), _lu, "lu"),
    **_parts(("Q", "R"), _qr, "qr"),
}
