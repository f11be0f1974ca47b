"""Band sources: recipes that produce a band's pixels on any grid, on demand (pull-based).

Each source is a small frozen dataclass of plain values, so a chunk's work — (source, grid) — is
picklable and can run in a thread pool locally or as a Dask task on a cluster.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import rasterio.features
import shapely.geometry

from openee.raster.coverage import coverage
from openee.raster.grid import PixelGrid
from openee.raster.pixels import BoxedPixels, Pixels, mask_weight, meet_box, union_box
from openee.raster.read import plan_read, read_into_grid, read_window
from openee.raster.reduce import output_dtype, reduce_stack, valid_everywhere
from openee.raster.sampling import SampleMap, SourceWindow, gathered
from openee.reducers.registry import pixel_kernel
from openee.values.geometry import Geometry


class BandSource:
    """Base of all band recipes. Recipes never modify the arrays their inputs return."""

    # True for recipes that read their inputs on another grid than the one asked of them.
    reads_other_grid = False
    # Whether its read goes through shared_read (computed once however many read it).
    shares_reads = False
    # True for recipes that handle array-valued inputs (docs/decisions/0015); the others are
    # refused array bands before any pixel is computed (`openee.raster.arrays.check_arrays`).
    accepts_arrays = False

    # A recipe whose output type never changes declares it as a class attribute,
    # `dtype = np.dtype(np.float64)`; one whose type is a field names it `dtype_name`; the
    # others compute it in their own `dtype` property.
    @property
    def dtype(self) -> np.dtype:
        name: str | None = getattr(self, "dtype_name", None)
        if name is None:
            raise NotImplementedError
        return np.dtype(name)

    @property
    def rank(self) -> int:
        """Array dimensions of each pixel: 0 for scalar bands. A recipe that wraps other bands
        (its first band-source field, or tuple of them) keeps their rank unless it says
        otherwise."""
        for value in vars(self).values():
            if isinstance(value, BandSource):
                return value.rank
            if isinstance(value, tuple) and value and isinstance(value[0], BandSource):
                return max(v.rank for v in value if isinstance(v, BandSource))
        return 0

    def read(self, grid: PixelGrid) -> Pixels:
        raise NotImplementedError

    def read_boxed(self, grid: PixelGrid) -> BoxedPixels:
        """`read(grid)` held in a box of the grid outside which every pixel is masked (the
        whole grid unless the recipe knows better: see BoxedPixels)."""
        return BoxedPixels.whole(self.read(grid))


# File reads done ahead for the recipe being evaluated in this thread (see read_many), and
# the array recipes read there by several readers (see shared_read).
_prefetched = threading.local()


@dataclass
class _Shared:
    """The recipes of one read_many: how many readers each has, and the pixels of those with
    several, kept until their last reader has them."""

    uses: dict[int, int]
    memo: dict[tuple[int, PixelGrid], tuple[BandSource, Pixels, int]]


def shared_read(source: BandSource, grid: PixelGrid, read: Callable[[PixelGrid], Pixels]) -> Pixels:
    """`read(grid)` once per recipe object and grid within one read_many. For array recipes:
    arrayFlatten makes one band per element of the same array recipe, and a collection array
    feeds every slice of a regression, so without this each band recomputed the whole chain.
    Only a recipe with several readers is kept, and only until the last has read it, so peak
    memory stays that of computing it once. The pixels are shared: readers must not write
    into them."""
    shared: _Shared | None = getattr(_prefetched, "shared", None)
    if shared is None:
        return read(grid)
    key = (id(source), grid)
    hit = shared.memo.get(key)
    if hit is not None and hit[0] is source:
        _, pixels, left = hit
        if left <= 1:
            del shared.memo[key]
        else:
            shared.memo[key] = (source, pixels, left - 1)
        return pixels
    pixels = read(grid)
    readers = shared.uses.get(id(source), 1)
    if readers > 1:  # holding the source keeps its id from being reused
        shared.memo[key] = (source, pixels, readers - 1)
    return pixels


def _readers(sources: Sequence[BandSource]) -> dict[int, int]:
    """How many times each recipe under `sources` will be read: once per request for the
    roots, and for the others the sum over their parents of the times each parent reads them
    (once if the parent is itself a shared recipe read more than once, which is computed once,
    else as many times as the parent is read)."""
    order: list[BandSource] = []  # parents before children
    seen: set[int] = set()
    stack: list[tuple[BandSource, bool]] = [(s, False) for s in sources]
    while stack:
        source, done = stack.pop()
        if done:
            order.append(source)
        elif id(source) not in seen:
            seen.add(id(source))
            stack.append((source, True))
            stack.extend((c, False) for c in children(source))
    order.reverse()
    reads: dict[int, int] = {}
    for source in sources:
        reads[id(source)] = reads.get(id(source), 0) + 1
    for source in order:
        n = reads.get(id(source), 0)
        times = 1 if source.shares_reads and n > 1 else n
        for child in children(source):
            reads[id(child)] = reads.get(id(child), 0) + times
    return reads


@dataclass(frozen=True)
class FileBand(BandSource):
    """Band `index` (1-based) of a raster file; pixels equal to `nodata` are masked."""

    path: str
    index: int
    dtype_name: str
    nodata: float | None
    resampling: str = "nearest"

    def read(self, grid: PixelGrid) -> Pixels:
        return self.read_boxed(grid).full()

    def read_boxed(self, grid: PixelGrid) -> BoxedPixels:
        return _pixels_of(self.read_window(grid))

    def read_window(self, grid: PixelGrid) -> SourceWindow | BoxedPixels:
        """The read of `grid` not gathered yet, if it has a window (raster/read.py)."""
        prefetched: dict[tuple[BandSource, PixelGrid], SourceWindow | BoxedPixels] | None = getattr(
            _prefetched, "pixels", None
        )
        if prefetched is not None and (self, grid) in prefetched:
            return prefetched[(self, grid)]
        return read_window(self.path, self.index, self.dtype, self.nodata, grid, self.resampling)

    def plan(self, grid: PixelGrid) -> SampleMap | None:
        """Open the file and compute the sampling of `grid` now, in this thread (see read_many);
        the map, which stays shared while the caller holds it."""
        return plan_read(self.path, self.index, grid, self.resampling)


@dataclass(frozen=True)
class ConstantBand(BandSource):
    """The same value everywhere, unmasked (or masked everywhere when `masked`)."""

    value: float
    dtype_name: str
    masked: bool = False

    def read(self, grid: PixelGrid) -> Pixels:
        data = np.full(grid.shape, self.value, dtype=self.dtype)
        valid = np.full(grid.shape, not self.masked, dtype=bool)
        return Pixels(data, valid)


@dataclass(frozen=True)
class ReducedBand(BandSource):
    """A per-pixel reduction of several bands (a composite of a collection)."""

    reducer: str
    inputs: tuple[BandSource, ...]
    param: float | None = None  # the percentile of a 'percentile' reduction

    @property
    def dtype(self) -> np.dtype:
        return output_dtype(self.reducer, self.inputs[0].dtype if self.inputs else np.dtype("f8"))

    def read(self, grid: PixelGrid) -> Pixels:
        if not self.inputs:
            return Pixels.empty(grid.shape, self.dtype)
        if not valid_everywhere(self.reducer):
            return self.read_boxed(grid).full()
        stack = [s.read(grid) for s in self.inputs]
        out = reduce_stack(self.reducer, stack, self.dtype, self.param)
        if pixel_kernel(self.reducer).everywhere:  # a count
            # "pixels with no valid observations are masked out of the returned image"
            # (ee_imagecollection_count.py)
            return Pixels(out.data, out.data > 0)
        return out

    def read_boxed(self, grid: PixelGrid) -> BoxedPixels:
        """The reduction over the box that holds every input's box: outside it no input is
        valid, so neither is the output (a reducer valid everywhere, a count, is read whole).
        Files on one source grid are reduced on their shared window and gathered once
        (SourceWindow) when the window has no more pixels than the box."""
        if not self.inputs or valid_everywhere(self.reducer):
            return BoxedPixels.whole(self.read(grid))
        reads = [
            s.read_window(grid) if isinstance(s, FileBand) else s.read_boxed(grid)
            for s in self.inputs
        ]
        first = reads[0]
        if isinstance(first, SourceWindow) and all(
            isinstance(r, SourceWindow) and r.where is first.where for r in reads
        ):
            where = first.where
            if (
                where.window is not None
                and where.window.width * where.window.height <= where.flat.size
            ):
                stack = [r.window_pixels() for r in reads if isinstance(r, SourceWindow)]
                return gathered(where, reduce_stack(self.reducer, stack, self.dtype, self.param))
        boxed = [_pixels_of(r) for r in reads]
        box = union_box([b.box for b in boxed])
        if box is None:
            return BoxedPixels.empty(grid.shape, self.dtype)
        stack = [b.within(box) for b in boxed]
        return BoxedPixels(
            grid.shape, box, reduce_stack(self.reducer, stack, self.dtype, self.param)
        )


def _pixels_of(read: SourceWindow | BoxedPixels) -> BoxedPixels:
    return read.pixels() if isinstance(read, SourceWindow) else read


def common_dtype(inputs: Sequence[BandSource]) -> np.dtype:
    """The type that holds every input's values (double when there are none)."""
    return np.result_type(*[s.dtype for s in inputs]) if inputs else np.dtype("f8")


@dataclass(frozen=True)
class MosaicBand(BandSource):
    """Later inputs on top of earlier ones, wherever they are valid."""

    inputs: tuple[BandSource, ...]

    @property
    def dtype(self) -> np.dtype:
        return common_dtype(self.inputs)

    def read(self, grid: PixelGrid) -> Pixels:
        data = np.zeros(grid.shape, dtype=self.dtype)
        valid = np.zeros(grid.shape, dtype=bool)
        weight: np.ndarray | None = None
        for source in self.inputs:
            layer = source.read(grid)
            data[layer.valid] = layer.data[layer.valid]
            valid |= layer.valid
            weight = _taken_weight(weight, layer, layer.valid, grid.shape)
        return Pixels(data, valid, weight=weight)


def _taken_weight(
    weight: np.ndarray | None, layer: Pixels, take: np.ndarray, shape: tuple[int, int]
) -> np.ndarray | None:
    """A composite's fractions after it takes `layer`'s pixels where `take`: a taken pixel
    keeps its own fraction (docs/decisions/0055); None while every taken pixel is whole."""
    if layer.weight is None:
        if weight is not None:
            weight[take] = 1
        return weight
    if weight is None:
        weight = np.ones(shape, dtype=np.float32)
    weight[take] = layer.weight[take]
    return weight


@dataclass(frozen=True)
class QualityMosaicBand(BandSource):
    """Each pixel from the input whose quality band is highest there (ties: the later input)."""

    inputs: tuple[BandSource, ...]
    qualities: tuple[BandSource, ...]

    @property
    def dtype(self) -> np.dtype:
        return common_dtype(self.inputs)

    def read(self, grid: PixelGrid) -> Pixels:
        data = np.zeros(grid.shape, dtype=self.dtype)
        valid = np.zeros(grid.shape, dtype=bool)
        best = np.full(grid.shape, -np.inf)
        weight: np.ndarray | None = None
        for source, quality in zip(self.inputs, self.qualities, strict=True):
            layer = source.read(grid)
            q = quality.read(grid)
            score = np.where(q.valid, q.data.astype(np.float64), -np.inf)
            take = layer.valid & q.valid & (score >= best)
            data[take] = layer.data[take]
            valid |= take
            weight = _taken_weight(weight, layer, take, grid.shape)
            best = np.where(take, score, best)
        return Pixels(data, valid, weight=weight)


@dataclass(frozen=True)
class UnmaskedBand(BandSource):
    """Masked pixels replaced by `fill`'s; with `same_footprint`, only inside the input's footprint."""

    input: BandSource
    fill: BandSource
    same_footprint: bool = True

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(self.input.dtype, self.fill.dtype)

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        fill = self.fill.read(grid)
        data = np.where(base.valid, base.data, fill.data).astype(self.dtype)
        valid = base.valid | fill.valid
        if self.same_footprint:
            footprint = FootprintProbe.of(self.input).read(grid).valid
            valid &= footprint
        # A pixel of the input that is partly valid keeps its value and fraction ("at all
        # positions where the input mask is zero", ee.Image.unmask); a filled one takes the fill's.
        weight = None
        if base.weight is not None or fill.weight is not None:
            weight = np.where(base.valid, _whole(base), _whole(fill)).astype(np.float32)
        return Pixels(data, valid, weight=weight)


def _whole(pixels: Pixels) -> np.ndarray | float:
    return pixels.weight if pixels.weight is not None else 1.0


@dataclass(frozen=True)
class MaskedBand(BandSource):
    """The input with its mask combined with the nonzero-and-valid pixels of `mask`: a value
    between 0 and 1 makes the pixel that fraction valid, at most its own (the minimum of the
    two masks, docs/decisions/0055)."""

    accepts_arrays = True

    input: BandSource
    mask: BandSource

    @property
    def dtype(self) -> np.dtype:
        return self.input.dtype

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        mask = self.mask.read(grid)
        valid = base.valid & mask.valid & (mask.data != 0)
        weight = _masked_weight(base, mask)
        return Pixels(base.data, valid, base.lengths, weight)

    def read_boxed(self, grid: PixelGrid) -> BoxedPixels:
        """Valid only where the input and the mask both may be: in the meet of their boxes (a
        cloud-masked file read stays in the file's box)."""
        if self.rank:
            return BoxedPixels.whole(self.read(grid))
        base, mask = self.input.read_boxed(grid), self.mask.read_boxed(grid)
        box = meet_box(base.box, mask.box)
        if box is None:
            return BoxedPixels.empty(grid.shape, self.dtype)
        inner, over = base.within(box), mask.within(box)
        valid = inner.valid & over.valid & (over.data != 0)
        return BoxedPixels(
            grid.shape, box, Pixels(inner.data, valid, weight=_masked_weight(inner, over))
        )


def _masked_weight(base: Pixels, mask: Pixels) -> np.ndarray | None:
    """The fraction of `base` masked by `mask`'s values (the mask's own mask only removes)."""
    fraction = mask_weight(mask.data) if mask.data.ndim == base.valid.ndim else None
    if fraction is None:
        return base.weight
    if base.weight is None:
        return fraction
    return np.minimum(base.weight, fraction)


@dataclass(frozen=True)
class MaskOfBand(BandSource):
    """The mask of a band as a float band of values in [0, 1] (Image.mask(): "scaled to the
    range [0:1] (invalid = 0, valid = 1.0)", ee.Image.mask), a fraction where partly valid."""

    accepts_arrays = True

    input: BandSource

    dtype = np.dtype(np.float32)

    @property
    def rank(self) -> int:
        return 0  # an array band's mask is per pixel

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        return Pixels(base.fraction(), np.ones(grid.shape, dtype=bool))


@dataclass(frozen=True)
class FootprintProbe(BandSource):
    """Where a source has data at all: the union of its files' coverage, ignoring nodata masks.

    Composites and constants have no footprint limit: they are everywhere.
    """

    files: tuple[FileBand, ...]
    unbounded: bool

    @classmethod
    def of(cls, source: BandSource) -> FootprintProbe:
        files: list[FileBand] = []
        unbounded = _collect_files(source, files)
        return cls(tuple(files), unbounded)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(bool)

    def read(self, grid: PixelGrid) -> Pixels:
        if self.unbounded:
            return Pixels(np.ones(grid.shape, bool), np.ones(grid.shape, bool))
        covered = np.zeros(grid.shape, dtype=bool)
        for f in self.files:
            covered |= read_into_grid(f.path, f.index, f.dtype, None, grid, "nearest").valid
        return Pixels(covered, covered)


def _collect_files(source: BandSource, out: list[FileBand]) -> bool:
    """Collect the files under `source`; True if some part of it is unbounded (a constant)."""
    if isinstance(source, FileBand):
        out.append(source)
        return False
    if isinstance(source, ConstantBand):
        return True
    # A mask only narrows its input's footprint; it does not extend it.
    inputs = (
        [source.input]
        if isinstance(source, MaskedBand | UnmaskedBand | MaskOfBand)
        else children(source)
    )
    return any([_collect_files(c, out) for c in inputs]) if inputs else True


@dataclass(frozen=True)
class CastBand(BandSource):
    """The input's values converted to another pixel type (values out of range saturate)."""

    accepts_arrays = True

    input: BandSource
    dtype_name: str

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        target = self.dtype
        data = base.data
        if target.kind in "iu" and data.dtype != target:
            info = np.iinfo(target)
            data = np.clip(np.trunc(data) if data.dtype.kind == "f" else data, info.min, info.max)
        return Pixels(data.astype(target), base.valid, base.lengths, base.weight)


def with_resampling(source: BandSource, mode: str) -> BandSource:
    """The same recipe with every file read resampled by `mode` (Image.resample)."""
    if isinstance(source, FileBand):
        return replace(source, resampling=mode)
    changes: dict[str, object] = {}
    for name, value in vars(source).items():
        if isinstance(value, BandSource):
            changes[name] = with_resampling(value, mode)
        elif isinstance(value, tuple) and value and all(isinstance(v, BandSource) for v in value):
            changes[name] = tuple(with_resampling(v, mode) for v in value)
    return replace(source, **changes) if changes else source  # type: ignore[type-var]


@dataclass(frozen=True)
class ClippedBand(BandSource):
    """The input masked outside a geometry (GeoJSON in `crs`), as Image.clip does: a pixel on
    the edge keeps the covered fraction as its mask (`fractional`), or (not `fractional`) is
    unmasked when its centre is inside."""

    accepts_arrays = True
    fractional: ClassVar[bool] = True

    input: BandSource
    geometry: str  # GeoJSON text, so that the recipe stays hashable and picklable
    crs: str

    @property
    def dtype(self) -> np.dtype:
        return self.input.dtype

    def read(self, grid: PixelGrid) -> Pixels:
        base = self.input.read(grid)
        shape = Geometry(shapely.geometry.shape(json.loads(self.geometry)), self.crs).transformed(
            grid.crs
        )
        if not self.fractional:
            inside = rasterio.features.geometry_mask(
                [shape], out_shape=grid.shape, transform=grid.transform, invert=True
            )
            return Pixels(base.data, base.valid & inside, base.lengths, base.weight)
        # Earth Engine's clip leaves the pixels on the edge partly unmasked: their mask is the
        # fraction the geometry covers (guide "Weighted reductions"; ADR 0054).
        cover = coverage(shape, grid.transform, *grid.shape).astype(np.float32)
        valid = base.valid & (cover > 0)
        weight = base.weight
        partial = valid & (cover < 1)
        if partial.any():
            weight = cover if weight is None else np.minimum(weight, cover)
        return Pixels(base.data, valid, base.lengths, weight)


def children(source: BandSource) -> list[BandSource]:
    """The recipes a recipe reads from, also in nested tuples (ImageCollection.toArray holds
    its images' bands as a tuple per image: missed, their files were read one by one, again
    for every use of the array, instead of once each and concurrently by read_many)."""
    found: list[BandSource] = []
    stack: list[object] = list(vars(source).values())
    while stack:
        value = stack.pop()
        if isinstance(value, BandSource):
            found.append(value)
        elif isinstance(value, tuple):
            stack.extend(reversed(value))
    found.reverse()
    return found


def file_leaves(sources: Iterable[BandSource]) -> list[FileBand]:
    """The distinct file reads under `sources` that happen on the same grid as theirs."""
    seen: dict[FileBand, None] = {}
    visited: set[int] = set()  # recipe objects shared by several bands are walked once
    stack = list(sources)
    while stack:
        source = stack.pop()
        if id(source) in visited:
            continue
        visited.add(id(source))
        if isinstance(source, FileBand):
            seen[source] = None
        elif not source.reads_other_grid:
            stack.extend(children(source))
    return list(seen)


Read = SourceWindow | BoxedPixels
ReadMapper = Callable[[Callable[[FileBand], Read], Sequence[FileBand]], Iterable[Read]]


def read_many(sources: Sequence[BandSource], grid: PixelGrid, mapper: ReadMapper) -> list[Pixels]:
    """Pixels of several recipes on one grid. Their file reads (decoding is the cost) are done
    once each, concurrently through `mapper` (e.g. a thread pool's map), before the recipes run."""
    return [p.full() for p in read_many_boxed(sources, grid, mapper)]


def read_many_boxed(
    sources: Sequence[BandSource], grid: PixelGrid, mapper: ReadMapper
) -> list[BoxedPixels]:
    """read_many, each recipe's pixels held in its box (BoxedPixels). The reads that composites
    of files take as windows (ReducedBand.read_boxed) are left ungathered; the others are
    gathered by the mapper's threads too."""
    leaves = file_leaves(sources)
    # Files of a collection mostly share a grid: planning the first read computes the sample
    # map they share here, while opening the rest stays parallel in the io threads. Held here
    # until the reads are done, so the io threads find this map, not one computed again.
    planned = leaves[0].plan(grid) if leaves else None
    windowed = _composited_files(sources)

    def read(leaf: FileBand) -> Read:
        return leaf.read_window(grid) if leaf in windowed else leaf.read_boxed(grid)

    pixels = dict(zip(leaves, mapper(read, leaves), strict=True))
    _prefetched.pixels = {(leaf, grid): p for leaf, p in pixels.items()}
    _prefetched.shared = _Shared(_readers(sources), {})
    try:
        return [source.read_boxed(grid) for source in sources]
    finally:
        _prefetched.pixels = None
        _prefetched.shared = None
        del planned


def _composited_files(sources: Iterable[BandSource]) -> set[FileBand]:
    """The file reads that are inputs of a composite made of file reads only (which may reduce
    their windows before gathering: ReducedBand.read_boxed), on the grid of `sources`."""
    found: set[FileBand] = set()
    visited: set[int] = set()
    stack = list(sources)
    while stack:
        source = stack.pop()
        if id(source) in visited or source.reads_other_grid:
            continue
        visited.add(id(source))
        if (
            isinstance(source, ReducedBand)
            and source.inputs
            and all(isinstance(s, FileBand) for s in source.inputs)
        ):
            found.update(s for s in source.inputs if isinstance(s, FileBand))
        stack.extend(children(source))
    return found
