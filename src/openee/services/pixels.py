"""computePixels: evaluate an Image expression on a requested grid and encode it.

`assets/*:getPixels` shares it and may add a `region` (GeoJSON): as Earth Engine's REST
reference (projects.assets.getPixels) says, the bounding box of the region in the output CRS is
used, and `grid.dimensions`, if also given, rescales that box to the requested size (ADR 0024).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
from affine import Affine

from openee.encode.formats import FORMATS, Content, Format, zip_geotiff_per_band
from openee.encode.npy import NpyFile
from openee.encode.raster import ComputedRaster
from openee.encode.visualize import Visualization, to_rgba8
from openee.engine import memory
from openee.engine.chunks import allocate_outputs, fill_rows, materialize
from openee.engine.executors import ChunkExecutor
from openee.errors import GridTooLargeError, InvalidArgumentError
from openee.raster.arrays import check_arrays
from openee.raster.grid import PixelGrid
from openee.raster.image import Image
from openee.raster.sources import BandSource
from openee.services.requests import GridRequest, PixelsRequest
from openee.settings import Limits
from openee.values.geometry import Geometry


@dataclass(frozen=True)
class PixelsResult:
    content: Content
    media_type: str

    @property
    def body(self) -> memoryview:
        """The content for an HTTP response, without copying it."""
        return memoryview(self.content)


def default_grid(image: Image) -> tuple[str, Affine, tuple[int, int]] | None:
    """The image's own grid when all its bands share one native grid."""
    grids = {(b.projection, b.dimensions) for b in image.bands}
    if len(grids) != 1:
        return None
    projection, dims = grids.pop()
    if projection is None or dims is None:
        return None
    return projection.crs, Affine(*projection.transform), dims


def resolve_grid(
    image: Image, requested: GridRequest | None, region: Geometry | None = None
) -> PixelGrid:
    """The request's grid, with omitted parts taken from the image's native grid; with a
    `region`, the pixels of that grid covering the region's bounds (see region_grid)."""
    requested = requested or GridRequest()
    crs, transform, dims = requested.crs, requested.transform, requested.dimensions
    native = default_grid(image)
    if native is not None:
        crs = crs or native[0]
        transform = transform or native[1]
        if region is None:
            dims = dims or native[2]
    if region is not None and crs is not None and transform is not None:
        return region_grid(crs, transform, dims, region)
    if crs is None or transform is None or dims is None:
        raise InvalidArgumentError(
            "The image has no single native grid (e.g. it is a composite): the request must "
            "give grid.crsCode, grid.affineTransform and grid.dimensions."
        )
    return PixelGrid(crs, transform, dims[0], dims[1])


def region_grid(
    crs: str, transform: Affine, dims: tuple[int, int] | None, region: Geometry
) -> PixelGrid:
    """The pixels of (crs, transform) that cover the region's bounding box in `crs`; with
    `dims`, that same extent resampled to dims = (width, height) pixels."""
    shape = region.transformed(crs)
    if shape.is_empty:
        raise InvalidArgumentError("region is empty.")
    xmin, ymin, xmax, ymax = shape.bounds
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        raise InvalidArgumentError(f"region cannot be expressed in {crs}.")
    to_pixels = ~transform
    corners = [to_pixels @ (x, y) for x in (xmin, xmax) for y in (ymin, ymax)]
    cols = [c for c, _ in corners]
    rows = [r for _, r in corners]
    # Outward to whole pixels; the tolerance keeps a bound on a pixel edge from adding a pixel.
    col0, row0 = math.floor(min(cols) + 1e-9), math.floor(min(rows) + 1e-9)
    width = max(1, math.ceil(max(cols) - 1e-9) - col0)
    height = max(1, math.ceil(max(rows) - 1e-9) - row0)
    window = transform @ Affine.translation(col0, row0)
    if dims is None:
        return PixelGrid(crs, window, width, height)
    rescaled = window @ Affine.scale(width / dims[0], height / dims[1])
    return PixelGrid(crs, rescaled, dims[0], dims[1])


def band_grids(image: Image, request: PixelsRequest) -> list[PixelGrid]:
    """Each band's own grid, for a ZIPPED_GEO_TIFF_PER_BAND request without a grid or region
    whose bands have different native grids (getDownloadURL with per-band scales: one file per
    band, each on its band's grid); empty when the request has one grid for all its bands."""
    if request.grid is not None or request.region is not None:
        return []
    if request.file_format != _PER_BAND:
        return []
    if default_grid(image) is not None:
        return []
    grids = []
    for band in image.bands:
        if band.projection is None or band.dimensions is None:
            return []  # resolve_grid asks for an explicit grid
        width, height = band.dimensions
        transform = Affine(*band.projection.transform)
        grids.append(PixelGrid(band.projection.crs, transform, width, height))
    return grids


_PER_BAND = "ZIPPED_GEO_TIFF_PER_BAND"


def check_request_limits(image: Image, request: PixelsRequest, limits: Limits) -> None:
    """check_limits on the request's grid, or on each band's own grid (band_grids)."""
    grids = band_grids(image, request)
    if not grids:
        check_limits(image, resolve_grid(image, request.grid, request.region), limits)
        return
    for band, grid in zip(image.bands, grids, strict=True):
        check_limits(replace(image, bands=(band,)), grid, limits)


def check_limits(image: Image, grid: PixelGrid, limits: Limits, fmt: Format | None = None) -> int:
    """Earth Engine's limits (strict profile) or the memory budget: the request's estimated peak
    memory is the raw output size times the format's peak factor (the largest one when the
    format is not known yet). Returns that estimate, in bytes."""
    if grid.width > limits.max_grid_side or grid.height > limits.max_grid_side:
        raise GridTooLargeError(
            f"Grid dimensions ({grid.width}x{grid.height}) must be at most "
            f"{limits.max_grid_side} pixels per side."
        )
    if len(image.bands) > limits.max_bands:
        raise InvalidArgumentError(
            f"Too many bands: {len(image.bands)} (the limit is {limits.max_bands})."
        )
    size = grid.width * grid.height * sum(np.dtype(b.source.dtype).itemsize for b in image.bands)
    if limits.max_response_bytes is not None and size > limits.max_response_bytes:
        raise GridTooLargeError(
            f"Total request size ({size} bytes) must be less than or equal to "
            f"{limits.max_response_bytes} bytes."
        )
    factor = (
        fmt.peak_per_output_byte if fmt else max(f.peak_per_output_byte for f in FORMATS.values())
    )
    peak = int(factor * size)
    if peak > limits.memory_budget_bytes:
        raise GridTooLargeError(
            f"The request needs about {peak // 2**20} MiB of memory ({size // 2**20} MiB of "
            f"pixels), more than the server's budget of {limits.memory_budget_bytes // 2**20} "
            "MiB per request: request fewer pixels or bands, or a smaller data type."
        )
    return peak


@dataclass(frozen=True)
class _Request:
    """A computePixels request, checked: what to compute, on which grid, in which format."""

    names: list[str]
    sources: list[BandSource]
    grid: PixelGrid
    fmt: Format
    vis: Visualization
    # One grid per band when each band is written on its own grid (band_grids).
    band_grids: tuple[PixelGrid, ...] = ()


def _checked(image: object, request: PixelsRequest, limits: Limits) -> _Request:
    if not isinstance(image, Image):
        raise InvalidArgumentError(
            f"computePixels needs an Image expression, got {type(image).__name__}."
        )
    fmt = request.format
    vis = request.visualization
    if request.band_ids:
        image = image.select(list(request.band_ids))
    if not image.bands:
        raise InvalidArgumentError("The image has no bands to compute.")
    check_arrays([b.source for b in image.bands])
    arrays = [b.name for b in image.bands if b.source.rank]
    if arrays:
        raise InvalidArgumentError(
            f"Band(s) {', '.join(arrays)} hold array-valued pixels, which cannot be written as "
            "pixels: convert them to scalar bands with arrayFlatten() (or arrayGet / "
            "arrayProject + arrayFlatten) first."
        )
    sources = [b.source for b in image.bands]
    grids = band_grids(image, request)
    # The estimated peak is reserved from the process-wide budget until the request ends.
    if grids:
        peaks = [
            check_limits(replace(image, bands=(band,)), band_grid, limits, fmt)
            for band, band_grid in zip(image.bands, grids, strict=True)
        ]
        memory.reserve(sum(peaks))
        return _Request(image.band_names, sources, grids[0], fmt, vis, tuple(grids))
    grid = resolve_grid(image, request.grid, request.region)
    memory.reserve(check_limits(image, grid, limits, fmt))
    return _Request(image.band_names, sources, grid, fmt, vis)


def _npy_file(req: _Request) -> NpyFile:
    return NpyFile.allocate(req.names, [np.dtype(s.dtype) for s in req.sources], req.grid.shape)


def compute_pixels(
    image: object,
    request: PixelsRequest,
    executor: ChunkExecutor,
    limits: Limits,
    chunk_size: int,
) -> PixelsResult:
    """The request's whole encoded file (see stream_pixels for NPY sent as it is computed)."""
    return _encoded(_checked(image, request, limits), executor, chunk_size)


def compute_rgba(
    image: object,
    request: PixelsRequest,
    executor: ChunkExecutor,
    limits: Limits,
    chunk_size: int,
) -> np.ndarray:
    """The request's visualized pixels as one (height, width, 4) uint8 RGBA array: what its PNG
    holds (a single band is grey: R = G = B). Video and filmstrip frames are these."""
    req = _checked(image, request, limits)
    pixels = materialize(req.sources, req.grid, executor, chunk_size, None)
    values, alpha = to_rgba8(ComputedRaster(req.names, pixels, req.grid), req.vis)
    if values.shape[-1] == 1:
        values = np.repeat(values, 3, axis=-1)
    return np.dstack([values, alpha])


def _encoded(req: _Request, executor: ChunkExecutor, chunk_size: int) -> PixelsResult:
    if req.band_grids:
        rasters = [
            ComputedRaster([name], materialize([source], grid, executor, chunk_size), grid)
            for name, source, grid in zip(req.names, req.sources, req.band_grids, strict=True)
        ]
        return PixelsResult(zip_geotiff_per_band(rasters, req.vis), req.fmt.media_type)
    npy = _npy_file(req) if req.fmt is FORMATS["NPY"] else None
    pixels = materialize(
        req.sources,
        req.grid,
        executor,
        chunk_size,
        npy.fields() if npy else None,
        zero_masked=npy is not None,
    )
    raster = ComputedRaster(req.names, pixels, req.grid, npy)
    content = req.fmt.encode(raster, req.vis)
    return PixelsResult(content, req.fmt.media_type_of(content))


class NpyStream:
    """An NPY file sent while it is computed: the header, then each band of chunk rows as soon
    as it is complete, with its masked pixels zeroed. Every part is a view of one preallocated
    buffer (rows are never copied), so memory is that of compute_pixels.

    The first band of rows is computed on construction, so the errors every chunk would hit
    (a bad band, an unreadable file) are raised before any byte is sent. `close()` stops early:
    chunks not started are cancelled.
    """

    media_type = FORMATS["NPY"].media_type

    def __init__(self, req: _Request, executor: ChunkExecutor, chunk_size: int) -> None:
        self._npy = _npy_file(req)
        outputs = allocate_outputs(req.sources, req.grid, self._npy.fields(), masks=False)
        self._rows = fill_rows(
            req.sources, req.grid, executor, chunk_size, outputs, zero_masked=True
        )
        self._first = next(self._rows)  # a grid has at least one row

    @property
    def length(self) -> int:
        """The size of the whole file, known before any pixel is computed."""
        return len(self._npy.buffer)

    def sample(self, size: int) -> memoryview:
        """Up to `size` bytes from the middle of the first band of rows (computed already, its
        masked pixels zeroed): what tells whether the body is worth compressing."""
        start, stop = self._first
        rows = self._npy.rows(start, stop)
        middle = max(0, (len(rows) - size) // 2)
        return rows[middle : middle + size]

    def parts(self) -> Iterator[memoryview]:
        """The header, then each band of rows, computed as they are asked for."""
        yield self._npy.header
        for start, stop in itertools.chain([self._first], self._rows):
            yield self._npy.rows(start, stop)

    def close(self) -> None:
        self._rows.close()


def stream_pixels(
    image: object,
    request: PixelsRequest,
    executor: ChunkExecutor,
    limits: Limits,
    chunk_size: int,
) -> PixelsResult | NpyStream:
    """computePixels for an HTTP response: NPY as an NpyStream (its first band of rows
    computed), other formats, which need the whole raster to encode, as compute_pixels."""
    req = _checked(image, request, limits)
    if req.fmt is FORMATS["NPY"]:
        return NpyStream(req, executor, chunk_size)
    return _encoded(req, executor, chunk_size)
