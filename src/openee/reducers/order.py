"""Order statistics, implemented once for every context: median, percentile and mode.

The rules (the same in collections, neighbourhoods, connected components, regions, arrays, lists
and point collapsing):
- the median of an even count is the mean of the two middle values, computed as
  (lo + hi) * 0.5 in float64 (exactly numpy's `median`);
- a percentile p is interpolated linearly between the closest ranks of the sorted values, at
  rank (n - 1) * p / 100, with numpy's `_lerp` (from the upper value when the weight is 0.5 or
  more), so that it is exactly numpy's `percentile` (method 'linear');
- the mode is the most frequent value, ties going to the smallest.

`quantile` and `grouped_quantile` take plain values; `stack_quantile` and `stack_mode` take a
stack of layers, each with a validity mask, and skip the invalid values (per-pixel reductions).
`stack_quantile` reads the ranks from a sorting network over whole layers, which is what makes
a median composite fast (docs/decisions/0020).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TypeVar

import numpy as np

# Counts of values: an array (per pixel, per group) or one count.
Count = TypeVar("Count", np.ndarray, np.int64)


def median_ranks(count: Count) -> tuple[Count, Count]:
    """The ranks (0-based) of the two middle values of `count` sorted values (count >= 1)."""
    return (count - 1) >> 1, count >> 1  # shifts: integer division is slow


def percentile_ranks(count: Count, q: float) -> tuple[Count, Count, np.ndarray]:
    """The ranks either side of percentile `q` of `count` sorted values, and the weight of the
    upper one."""
    rank = (count - 1) * (float(q) / 100.0)
    lo = np.floor(rank).astype(np.int64)
    hi = np.minimum(lo + 1, count - 1)
    return lo, hi, rank - lo


def midpoint(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The mean of the two middle values, as float64."""
    out = np.add(lo, hi, dtype=np.float64)
    out *= 0.5
    return out


def lerp(lo: np.ndarray, hi: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's linear interpolation between ranks, as float64."""
    a = np.asarray(lo, dtype=np.float64)
    b = np.asarray(hi, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    out = np.empty(np.broadcast(a, b, t).shape)
    with np.errstate(invalid="ignore"):  # inf - inf where no value is valid (masked anyway)
        diff = b - a
        np.add(a, diff * t, out=out)
        np.subtract(b, diff * (1 - t), out=out, where=t >= 0.5)
    return out


def quantile(values: np.ndarray, q: float | None = None, axis: int = 0) -> np.ndarray:
    """The median (q None) or percentile `q` of `values` along `axis`, as float64; NaN where
    the values hold a NaN (as numpy's)."""
    data = np.sort(np.asarray(values, dtype=np.float64), axis=axis)
    data = np.moveaxis(data, axis, 0)
    n = data.shape[0]
    if n == 0:
        return np.full(data.shape[1:], np.nan)
    if q is None:
        lo_i, hi_i = median_ranks(np.int64(n))
        out = midpoint(data[lo_i], data[hi_i])
    else:
        lo_i, hi_i, t = percentile_ranks(np.int64(n), q)
        out = lerp(data[lo_i], data[hi_i], t)
    if n and np.isnan(data[-1]).any():  # NaN sorts last
        out = np.where(np.isnan(data[-1]), np.nan, out)
    return out


def grouped_quantile(
    values: np.ndarray, groups: np.ndarray, index: np.ndarray, q: float | None = None
) -> np.ndarray:
    """The median (q None) or percentile `q` of the `values` of each group label in `index`
    (labels in `groups`, of the shape of `values`); 0 for a group with no value."""
    flat, labels = values.ravel(), groups.ravel()
    order = np.lexsort((flat, labels))
    flat, labels = flat[order], labels[order]
    start = np.searchsorted(labels, index, side="left")
    count = np.searchsorted(labels, index, side="right") - start
    n = np.maximum(count, 1)
    if q is None:
        lo_i, hi_i = median_ranks(n)
        t = None
    else:
        lo_i, hi_i, t = percentile_ranks(n, q)
    last = max(flat.size - 1, 0)
    padded = flat if flat.size else np.zeros(1)
    lo = padded[np.minimum(start + lo_i, last)]
    hi = padded[np.minimum(start + hi_i, last)]
    out = midpoint(lo, hi) if t is None else lerp(lo, hi, t)
    return np.where(count > 0, out, 0.0)


def mode(values: np.ndarray) -> np.float64:
    """The mode of 1-D `values` (not empty), as float64."""
    distinct, counts = np.unique(np.asarray(values, dtype=np.float64), return_counts=True)
    return distinct[int(np.argmax(counts))]  # the first of the most frequent: the smallest


def stack_mode(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The most frequent valid value along axis 0 (ties: the smallest), as float64; 0 where
    no value is valid."""
    values = values.astype(np.float64)
    values[~valid] = np.nan
    values.sort(axis=0)
    shape = values.shape[1:]
    best = np.zeros(shape)
    best_count = np.zeros(shape, dtype=np.int64)
    any_valid = valid.any(axis=0)
    for i in range(values.shape[0]):
        same = (values == values[i][None]).sum(axis=0)
        better = any_valid & ~np.isnan(values[i]) & (same > best_count)
        best[better] = values[i][better]
        best_count[better] = same[better]
    return best


def stack_quantile(
    data: Sequence[np.ndarray],
    valid: Sequence[np.ndarray],
    count: np.ndarray,
    q: float | None = None,
) -> np.ndarray:
    """Median (q None) or percentile `q` of the valid values of a stack of 2-D layers, per
    pixel, as float64 (any value where `count` is 0).

    Sorted in the inputs' own dtype (uint16 sorts several times faster than float64), with
    invalid values replaced by the dtype's largest value so that they sort last; the ranks taken
    are all below the count of valid values, so a valid value equal to that sentinel is still
    read correctly.
    """
    dtype = np.result_type(*[d.dtype for d in data])
    if q is None and len(data) <= _NETWORK_MAX:
        return _median_network(data, valid, count, dtype)
    top = np.iinfo(dtype).max if dtype.kind in "iu" else np.inf
    layers = [
        d.astype(dtype, copy=False) if v.all() else np.where(v, d, top).astype(dtype, copy=False)
        for d, v in zip(data, valid, strict=True)
    ]
    n = np.maximum(count, 1)
    if q is None:
        lo_i, hi_i = median_ranks(n)
    else:
        lo_i, hi_i, t = percentile_ranks(n, q)
    if len(layers) <= _NETWORK_MAX:
        ordered = _sorted_layers(layers)
        lo, hi = _pick(ordered, lo_i), _pick(ordered, hi_i)
    else:
        stacked = np.sort(np.stack(layers), axis=0)
        lo = np.take_along_axis(stacked, lo_i[None], axis=0)[0]
        hi = np.take_along_axis(stacked, hi_i[None], axis=0)[0]
    return midpoint(lo, hi) if q is None else lerp(lo, hi, t)


def _median_network(
    data: Sequence[np.ndarray], valid: Sequence[np.ndarray], count: np.ndarray, dtype: np.dtype
) -> np.ndarray:
    """The median of the valid values of a few layers, as float64 (the mean of the two middle
    values for an even count), by a selection network over whole layers, read at the same rank
    for every pixel whatever its count of valid values.

    With an odd number k of layers, a pixel missing m values gets ceil(m/2) of them filled
    with `low` (the dtype's lowest value) and the rest with `high`; sorted, its valid values
    then sit around the middle, so the lower median is always at rank (k-1)/2 and the upper
    one at (k+1)/2 when the count is even. (Valid values equal to a fill value do not matter:
    only the sorted values are read.) An even k is padded with a layer missing everywhere.
    This costs a few passes per layer but no per-pixel gather, which a cloud-masked composite,
    whose counts vary from pixel to pixel, would otherwise pay for each rank. The layers stay
    in the inputs' dtype (uint16: a quarter of float64's memory traffic) until the one or two
    middle values are averaged in float64; integer layers are filled and picked with bitwise
    and arithmetic passes, several times faster than np.where.
    """
    if dtype.kind not in "iuf":
        dtype = np.dtype(np.float64)
    if dtype.kind == "f":
        low, high = dtype.type(-np.inf), dtype.type(np.inf)
    else:
        info = np.iinfo(dtype)
        low, high = dtype.type(info.min), dtype.type(info.max)
    k = len(data) | 1
    lows = (k - count + 1) >> 1  # per pixel: how many missing values to fill low
    seen = np.zeros(count.shape, dtype=count.dtype)  # missing values met so far
    layers = []
    for d, v in zip(data, valid, strict=True):
        if v.all():
            layers.append(np.array(d, dtype=dtype))  # a copy: the network works in place
            continue
        missing = ~v
        layers.append(_filled(d, v, missing, seen >= lows, low, high, dtype))
        np.add(seen, missing, out=seen, casting="unsafe")
    if len(data) < k:
        layers.append(_fill(seen >= lows, low, high))
    mid = (k - 1) // 2
    even = (count & 1) == 0
    both = k > 1 and bool(even.any())
    ordered = _select_layers(layers, (mid, mid + 1) if both else (mid,))
    lo = ordered[mid]
    hi = _where_even(even, ordered[mid + 1], lo) if both else lo
    # A pixel with no valid value adds -inf and inf (float inputs): it is masked anyway.
    with np.errstate(invalid="ignore"):
        return midpoint(lo, hi)


def _filled(
    d: np.ndarray,
    v: np.ndarray,
    missing: np.ndarray,
    high_here: np.ndarray,
    low: np.generic,
    high: np.generic,
    dtype: np.dtype,
) -> np.ndarray:
    """`d` where `v`, else `high` where `high_here` and `low` elsewhere, as a new array."""
    if dtype.kind != "u":
        return np.where(v, d, _fill(high_here, low, high)).astype(dtype, copy=False)
    # Unsigned: low is 0 and high has every bit set, so d * v | high * (missing & high_here).
    layer = np.multiply(d, v, dtype=dtype)
    high_here &= missing
    layer |= np.multiply(high_here, high, dtype=dtype)
    return layer


def _where_even(even: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """`upper` where `even`, else `lower` (upper >= lower everywhere: they are sorted ranks);
    for integers lower + (upper - lower) * even, exact in wrap-around arithmetic."""
    if upper.dtype.kind not in "iu":
        return np.where(even, upper, lower)
    out = np.subtract(upper, lower)
    out *= even
    out += lower
    return out


def _fill(high_here: np.ndarray, low: np.generic, high: np.generic) -> np.ndarray:
    """`high` where `high_here`, else `low` (a product when low is 0: np.where with scalars
    is several times slower)."""
    if low == 0:
        return np.multiply(high_here, high, dtype=high.dtype)
    return np.where(high_here, high, low)


def _pick(ordered: list[np.ndarray], index: np.ndarray) -> np.ndarray:
    """Per pixel, the value of layer `index` (a cheap gather for a few distinct ranks: in a
    composite most pixels share the same count of valid inputs)."""
    first, last = int(index.min()), int(index.max())
    if first == last:
        return ordered[first]
    out = ordered[first].copy()
    for rank in range(first + 1, last + 1):
        np.copyto(out, ordered[rank], where=index == rank)
    return out


# Up to this many inputs, a sorting network of element-wise min/max beats np.sort along the
# stack axis (which works lane by lane): n(n-1)/2 comparators over whole 2-D arrays.
_NETWORK_MAX = 16


Comparator = tuple[int, int, bool, bool]


@lru_cache(maxsize=64)
def _network(n: int, ranks: tuple[int, ...]) -> tuple[Comparator, ...]:
    """The comparators (i, j, keep min at i, keep max at j) of Batcher's odd-even merge sort of
    n values that the values at `ranks` of the sorted order depend on.

    The network is the one for the next power of two with the comparators that touch a position
    >= n dropped (as if padded with +inf, which they would leave in place). Walking it backwards
    from the wanted ranks keeps a comparator only if one of its outputs is read later, and of a
    kept one only the outputs that are: for the median of 5 layers, 12 min/max passes instead
    of the 20 of a full odd-even transposition sort.
    """
    size = 1
    while size < n:
        size *= 2
    full: list[tuple[int, int]] = []
    p = 1
    while p < size:
        step = p
        while step >= 1:
            for j in range(step % p, size - step, 2 * step):
                for i in range(min(step, size - j - step)):
                    a, b = i + j, i + j + step
                    if a // (2 * p) == b // (2 * p) and b < n:
                        full.append((a, b))
            step //= 2
        p *= 2
    needed = {r for r in ranks if r < n}
    kept: list[Comparator] = []
    for a, b in reversed(full):
        keep_min, keep_max = a in needed, b in needed
        if keep_min or keep_max:
            kept.append((a, b, keep_min, keep_max))
            needed |= {a, b}
    return tuple(reversed(kept))


def _select_layers(layers: list[np.ndarray], ranks: tuple[int, ...]) -> list[np.ndarray]:
    """The layers ordered pixel by pixel, correct at `ranks` only (_network), computed in place:
    `layers` must be distinct arrays the caller owns, which are overwritten."""
    out = list(layers)
    scratch: np.ndarray | None = None
    for a, b, keep_min, keep_max in _network(len(out), ranks):
        if keep_min and keep_max:
            if scratch is None:
                scratch = np.empty_like(out[a])
            np.minimum(out[a], out[b], out=scratch)
            np.maximum(out[a], out[b], out=out[b])
            out[a], scratch = scratch, out[a]
        elif keep_min:
            np.minimum(out[a], out[b], out=out[a])
        else:
            np.maximum(out[a], out[b], out=out[b])
    return out


def _sorted_layers(layers: list[np.ndarray]) -> list[np.ndarray]:
    """Odd-even transposition sort of 2-D arrays, pixel by pixel."""
    out = list(layers)
    n = len(out)
    for round_ in range(n):
        for i in range(round_ % 2, n - 1, 2):
            low = np.minimum(out[i], out[i + 1])
            out[i + 1] = np.maximum(out[i], out[i + 1])
            out[i] = low
    return out
