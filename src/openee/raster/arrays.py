"""Array-valued pixels: applying per-pixel array kernels to padded, variable-length arrays.

Representation (docs/decisions/0015-array-valued-pixels.md): an array band's `Pixels.data` has
shape (height, width, *padded dims) and `Pixels.lengths` (height, width, rank) each pixel's own
extents. A kernel never sees padding: pixels are grouped by their extents (and by the values of
inputs that decide an output's shape, such as arraySlice's start), and each group is handed to
the kernel as one dense batch of shape (n, *extents).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource


@dataclass
class Batch:
    """A kernel's answer for a batch of n pixels: values (n, *dims); `ok` (n,) masks pixels the
    kernel cannot compute; `lengths` (n, rank) gives per-pixel extents when they differ."""

    values: np.ndarray
    ok: np.ndarray | None = None
    lengths: np.ndarray | None = None


# A kernel takes one dense batch per input (scalar inputs as shape (n,)).
Kernel = Callable[[list[np.ndarray]], Batch]


def _flat(p: Pixels) -> tuple[np.ndarray, np.ndarray]:
    """Data as (pixels, *dims) and extents as (pixels, rank)."""
    n = p.valid.size
    return p.data.reshape(n, *p.data.shape[p.valid.ndim :]), p.extents().reshape(n, p.rank)


def apply_kernel(
    inputs: Sequence[Pixels],
    kernel: Kernel,
    out_rank: int,
    dtype: np.dtype,
    shape_inputs: Sequence[int] = (),
) -> Pixels:
    """`kernel` on every valid pixel of `inputs` (all valid), batched by extents.

    `shape_inputs` are indices of scalar or array inputs whose values join the batching key,
    because they decide the shape of the kernel's output (the kernel may read them from row 0).
    """
    shape2d = inputs[0].valid.shape
    valid = np.logical_and.reduce([p.valid for p in inputs]).reshape(-1)
    flats = [_flat(p) for p in inputs]
    keys = [ext for _, ext in flats]
    for i in shape_inputs:
        keys.append(flats[i][0].reshape(valid.size, -1).astype(np.int64))
    key = np.concatenate(keys, axis=1) if keys else np.zeros((valid.size, 0), np.int64)
    where = np.flatnonzero(valid)
    parts: list[tuple[np.ndarray, Batch]] = []
    if where.size:
        for idx in _groups(key[where], where):
            batch = []
            for data, ext in flats:
                crop = tuple(slice(0, int(e)) for e in ext[idx[0]])
                batch.append(data[idx][(slice(None), *crop)])
            parts.append((idx, kernel(batch)))
    return assemble(shape2d, parts, out_rank, dtype)


def _groups(keys: np.ndarray, where: np.ndarray) -> list[np.ndarray]:
    """`where` split into groups of equal key rows. Each key column is coded densely and the
    codes combined into one integer (np.unique on rows would sort a slow void view)."""
    code = np.zeros(len(keys), dtype=np.int64)
    for column in keys.T:
        values, inverse = np.unique(column, return_inverse=True)
        code = code * len(values) + inverse.reshape(-1)
        if len(values) > 1 and int(code.max()) > 2**40:  # keep the combined code small
            code = np.unique(code, return_inverse=True)[1].reshape(-1)
    if (code == code[0]).all():
        return [where]
    order = np.argsort(code, kind="stable")
    cuts = np.flatnonzero(np.diff(code[order])) + 1
    return [where[part] for part in np.split(order, cuts)]


def assemble(
    shape2d: tuple[int, ...], parts: Sequence[tuple[np.ndarray, Batch]], rank: int, dtype: np.dtype
) -> Pixels:
    """Pixels of a grid from batches of flat pixel indices, padded to the largest extents."""
    n = int(np.prod(shape2d))
    dims = np.zeros(rank, dtype=np.int64)
    for _, b in parts:
        if b.values.shape[0]:
            dims = np.maximum(dims, b.values.shape[1:])
    data = np.zeros((n, *dims.tolist()), dtype=dtype)
    valid = np.zeros(n, dtype=bool)
    lengths = np.zeros((n, rank), dtype=np.int64)
    for idx, b in parts:
        crop = tuple(slice(0, s) for s in b.values.shape[1:])
        data[(idx, *crop)] = b.values  # type: ignore[index]
        valid[idx] = True if b.ok is None else b.ok
        lengths[idx] = b.values.shape[1:] if b.lengths is None else b.lengths
    uniform = bool(rank == 0 or (lengths[valid] == dims).all())
    return Pixels(
        data.reshape(*shape2d, *dims.tolist()),
        valid.reshape(shape2d),
        None if uniform else lengths.reshape(*shape2d, rank),
    )


def compact(values: np.ndarray, keep: np.ndarray, axis: int) -> Batch:
    """Keeps, along `axis` (of the batch's per-pixel dims), the elements where `keep` (shaped
    like the batch's first two axes: (n, length)) is true, in order; pixels get own lengths."""
    order = np.argsort(~keep, axis=1, kind="stable")
    shape = [order.shape[0]] + [1] * (values.ndim - 1)
    shape[axis + 1] = order.shape[1]
    moved = np.take_along_axis(values, order.reshape(shape), axis=axis + 1)
    counts = keep.sum(axis=1)
    lengths = np.tile(np.asarray(values.shape[1:], dtype=np.int64), (values.shape[0], 1))
    lengths[:, axis] = counts
    return Batch(moved, lengths=lengths)


def merge_chunks(
    shape2d: tuple[int, int], pieces: Sequence[tuple[tuple[slice, slice], Pixels]], dtype: np.dtype
) -> Pixels:
    """One array band on a whole grid from its chunks, padded to the largest extents."""
    rank = pieces[0][1].rank if pieces else 0
    dims = np.zeros(rank, dtype=np.int64)
    for _, p in pieces:
        dims = np.maximum(dims, p.data.shape[2:])
    data = np.zeros((*shape2d, *dims.tolist()), dtype=dtype)
    valid = np.zeros(shape2d, dtype=bool)
    lengths = np.zeros((*shape2d, rank), dtype=np.int64)
    for window, p in pieces:
        crop = tuple(slice(0, s) for s in p.data.shape[2:])
        data[(*window, *crop)] = p.data
        valid[window] = p.valid
        lengths[window] = p.extents()
    uniform = bool((lengths[valid] == dims).all())
    return Pixels(data, valid, None if uniform else lengths)


def pixel_value(data: np.ndarray, extents: np.ndarray) -> object:
    """One pixel's array as nested lists (Earth Engine's getInfo form)."""
    crop = tuple(slice(0, int(e)) for e in extents)
    return np.asarray(data[crop]).tolist()


def flat_values(p: Pixels, mask: np.ndarray) -> list[object]:
    """The arrays of the pixels selected by `mask`, in row-major order, as nested lists."""
    rows, cols = np.nonzero(mask)
    ext = p.extents()
    return [pixel_value(p.data[r, c], ext[r, c]) for r, c in zip(rows, cols, strict=True)]


def on_grid(grid: PixelGrid, values: np.ndarray, dtype: np.dtype) -> Pixels:
    """A constant array on every pixel of a grid."""
    data = np.broadcast_to(np.asarray(values, dtype=dtype), (*grid.shape, *np.shape(values)))
    return Pixels(np.array(data), np.ones(grid.shape, dtype=bool))


def _inputs(source: BandSource) -> list[BandSource]:
    """The band recipes a recipe reads (its fields, and tuples of them, nested)."""
    found: list[BandSource] = []
    stack: list[object] = list(vars(source).values())
    while stack:
        value = stack.pop()
        if isinstance(value, BandSource):
            found.append(value)
        elif isinstance(value, tuple):
            stack.extend(value)
    return found


def check_arrays(sources: Sequence[BandSource]) -> None:
    """Refuses, before computing, recipes that would be given array-valued pixels they cannot
    handle (neighbourhoods, composites, where, ...), with an error naming the way out."""
    seen: set[int] = set()
    stack = list(sources)
    while stack:
        source = stack.pop()
        if id(source) in seen:
            continue
        seen.add(id(source))
        inputs = _inputs(source)
        if not type(source).accepts_arrays and any(s.rank for s in inputs):
            raise InvalidArgumentError(
                f"An operation of this image ({type(source).__name__}) does not accept "
                "array-valued pixels: convert the array bands to scalar bands with "
                "arrayFlatten() or arrayGet() before it."
            )
        stack.extend(inputs)
