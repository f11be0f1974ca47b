"""Images and collections from a Zarr v2 array on the server's disk, confined to the data roots
like Image.loadGeoTIFF (ADR 0018).

Earth Engine reads the `.zarray` of a Cloud Storage object; openee reads the same layout from
a local path (absolute, relative to the data dir, or an allowed file:// URI) to the `.zarray`
file or to the array's directory. The metadata is checked here, once; pixels are read per chunk
of a request by `raster.zarr_band.ZarrBand`.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely.geometry

from openee.algorithms.context import current
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.image import Band, Image, ImageCollection
from openee.raster.zarr_band import ZarrBand
from openee.values.geometry import Geometry
from openee.values.projection import Projection

# Earth Engine's codecs (blosc's own 'blosclz' excepted); None is an uncompressed array.
COMPRESSORS = {"blosc", "gzip", "lz4", "zlib", "zstd"}
# No request may make more bands (or images) than this out of one array.
MAX_PLANES = 10_000


@dataclass(frozen=True)
class ZarrArray:
    """What a Zarr v2 array's metadata says, checked."""

    path: str
    stamp: int  # .zarray's modification time, ns
    shape: tuple[int, ...]
    dtype: np.dtype
    fill_value: float | None
    dimensions: tuple[str, ...]


def _json(path: Path, uri: str) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except FileNotFoundError:
        raise InvalidArgumentError(f"'{uri}' is not a Zarr v2 array: no {path.name}.") from None
    except (OSError, ValueError):
        raise InvalidArgumentError(f"cannot read {path.name} of '{uri}'.") from None
    if not isinstance(loaded, dict):
        raise InvalidArgumentError(f"{path.name} of '{uri}' is not a JSON object.")
    return loaded


def _fill_value(raw: object, dtype: np.dtype) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, str):  # v2 spells the special floats as strings
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(raw)
    if isinstance(raw, bool | int | float):
        return float(raw)
    return None


def _link_stays_inside(entry: Path, path: Path, check: Callable[[str], str], uri: str) -> None:
    """Refuse `entry` (inside the array's directory `path`) if it is a symbolic link to a file
    the caller may not read (`check`: the evaluation's file check, roots and tenant)."""
    if not entry.is_symlink():
        return
    try:
        check(str(entry.resolve()))
    except InvalidArgumentError:
        raise InvalidArgumentError(
            f"'{uri}' contains a link ({entry.relative_to(path)}) that leads outside "
            "the allowed roots or the caller's files."
        ) from None


def _links_stay_inside(path: Path, check: Callable[[str], str], uri: str) -> None:
    """Zarr's store opens chunk files by name and follows symbolic links: a link anywhere in
    the array's directory must lead to a file the caller may read (the directory itself
    passed the check). Checked on every load, since links can appear after the array was
    written."""
    for folder, dirs, files in os.walk(path):  # does not descend into linked folders
        for name in (*dirs, *files):
            _link_stays_inside(Path(folder, name), path, check, uri)


def open_zarr(uri: str) -> ZarrArray:
    """The checked metadata of the Zarr v2 array at `uri` (its .zarray or its directory)."""
    ctx = current()
    path = Path(ctx.check_file(uri))
    if path.name == ".zarray":
        path = path.parent
    # Before any metadata is read: a .zarray linked outside would be read (and echoed) first.
    for name in (".zarray", ".zattrs", "zarr.json"):
        _link_stays_inside(path / name, path, ctx.check_file, uri)
    if (path / "zarr.json").exists() and not (path / ".zarray").exists():
        raise InvalidArgumentError(f"'{uri}' is a Zarr v3 array; only Zarr v2 is supported.")
    meta = _json(path / ".zarray", uri)
    attrs = _json(path / ".zattrs", uri) if (path / ".zattrs").exists() else {}
    if meta.get("zarr_format") != 2:
        raise InvalidArgumentError(f"'{uri}' is not a Zarr v2 array (zarr_format must be 2).")
    shape = meta.get("shape")
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise InvalidArgumentError(f"'{uri}' has an invalid shape in .zarray.")
    dims = attrs.get("_ARRAY_DIMENSIONS")
    if not isinstance(dims, list) or not all(isinstance(d, str) for d in dims):
        raise InvalidArgumentError(
            f"'{uri}': the array attributes (.zattrs) must contain '_ARRAY_DIMENSIONS', "
            "the list of the dimensions' names."
        )
    if len(dims) != len(shape):
        raise InvalidArgumentError(
            f"'{uri}': _ARRAY_DIMENSIONS names {len(dims)} dimensions; the array has {len(shape)}."
        )
    if len(shape) < 2:
        raise InvalidArgumentError(f"'{uri}' must have at least 2 dimensions (Y and X).")
    try:
        dtype = np.dtype(meta.get("dtype"))
    except TypeError:
        raise InvalidArgumentError(f"'{uri}' has an unknown dtype {meta.get('dtype')!r}.") from None
    if dtype.kind not in "iuf" or dtype.itemsize > 8:
        raise InvalidArgumentError(f"'{uri}' has dtype {dtype.str}; only numbers are supported.")
    compressor = meta.get("compressor")
    if compressor is not None:
        codec = compressor.get("id") if isinstance(compressor, dict) else None
        if codec not in COMPRESSORS:
            raise InvalidArgumentError(
                f"'{uri}' uses the compressor {codec!r}; supported: {sorted(COMPRESSORS)}."
            )
        if codec == "blosc" and compressor.get("cname") == "blosclz":
            raise InvalidArgumentError(f"'{uri}' uses blosc's 'blosclz', which is not supported.")
    # Only once the directory is known to hold a Zarr v2 array: a wrong path fails fast.
    _links_stay_inside(path, ctx.check_file, uri)
    return ZarrArray(
        str(path),
        (path / ".zarray").stat().st_mtime_ns,
        tuple(shape),
        dtype.newbyteorder("="),
        _fill_value(meta.get("fill_value"), dtype),
        tuple(dims),
    )


def _bound(value: object, length: int, default: int, what: str, dim: str) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InvalidArgumentError(
            f"{what} of dimension '{dim}' must be an integer, not {value!r}."
        )
    index = int(value)
    return index + length if index < 0 else index


def slices(array: ZarrArray, starts: list[Any] | None, ends: list[Any] | None) -> list[range]:
    """The ranges of indices taken along each non-spatial dimension (negative: from the end)."""
    n = len(array.shape) - 2
    for what, values in (("starts", starts), ("ends", ends)):
        if values is not None and len(values) != n:
            raise InvalidArgumentError(
                f"{what} must have one entry per non-spatial dimension ({n}), not {len(values)}."
            )
    ranges = []
    for k in range(n):
        dim, length = array.dimensions[k], array.shape[k]
        start = _bound(starts[k] if starts else None, length, 0, "starts", dim)
        end = _bound(ends[k] if ends else None, length, length, "ends", dim)
        if not 0 <= start < end <= length:
            raise InvalidArgumentError(
                f"Dimension '{dim}' (length {length}) cannot be sliced from {start} to {end}."
            )
        ranges.append(range(start, end))
    return ranges


def _image(array: ZarrArray, proj: Projection, ranges: list[range]) -> Image:
    height, width = array.shape[-2], array.shape[-1]
    bands = tuple(
        Band(
            f"B{i}",
            ZarrBand(
                array.path,
                array.stamp,
                tuple(index),
                array.dtype.name,
                array.fill_value,
                proj.crs,
                proj.transform,
                width,
                height,
            ),
            proj,
            (width, height),
        )
        for i, index in enumerate(itertools.product(*ranges))
    )
    a, b, c, d, e, f = proj.transform
    corners = [(c + a * x + b * y, f + d * x + e * y) for x, y in ((0, 0), (width, 0))]
    corners += [(c + a * x + b * y, f + d * x + e * y) for x, y in ((width, height), (0, height))]
    footprint = Geometry(shapely.geometry.Polygon(corners), proj.crs).to_wgs84()
    return Image(bands, footprint_geometry=footprint)


def _planes(ranges: list[range]) -> int:
    return math.prod(len(r) for r in ranges)


@algorithm("Image.loadZarrV2Array")
def load_zarr_image(
    uri: str, proj: Projection, starts: list[Any] | None = None, ends: list[Any] | None = None
) -> Image:
    """Loads a Zarr v2 array as an image. Its attributes (.zattrs) must name the dimensions in
    '_ARRAY_DIMENSIONS', the last two being Y and X. Each 2-D plane of the sliced non-spatial
    dimensions becomes a band, named 'B0', 'B1', ... in row-major order of their indices;
    pixels equal to the array's fill value are masked.

    Args:
        uri: The path of the array's .zarray file (or directory): absolute, relative to the
            data dir, or an allowed file:// URI, inside the server's data roots.
        proj: The projection of the array: pixel (0, 0) is array element [..., 0, 0].
        starts: The first index (inclusive) taken along each non-spatial dimension; null
            entries mean 0, negative ones count from the end.
        ends: The index (exclusive) at which to stop along each non-spatial dimension; null
            entries mean the dimension's length, negative ones count from the end.
    """
    array = open_zarr(uri)
    ranges = slices(array, starts, ends)
    if _planes(ranges) > MAX_PLANES:
        raise InvalidArgumentError(f"The slice has more than {MAX_PLANES} planes; slice less.")
    return _image(array, proj, ranges)


@algorithm("ImageCollection.loadZarrV2Array")
def load_zarr_collection(
    uri: str,
    proj: Projection,
    axis: int | None = None,
    starts: list[Any] | None = None,
    ends: list[Any] | None = None,
) -> ImageCollection:
    """Loads a Zarr v2 array of 3 or more dimensions as an image collection: one image per
    index along the non-spatial dimension `axis`, whose bands are the planes of the other
    sliced non-spatial dimensions (as Image.loadZarrV2Array names them). Each image's
    'system:index' is its index along `axis`, and property 'index' the same as a number.

    Args:
        uri: The path of the array's .zarray file (or directory): absolute, relative to the
            data dir, or an allowed file:// URI, inside the server's data roots.
        proj: The projection of the array.
        axis: The non-spatial dimension (0-based) to slice into images; null means 0.
        starts: The first index (inclusive) taken along each non-spatial dimension; null
            entries mean 0, negative ones count from the end.
        ends: The index (exclusive) at which to stop along each non-spatial dimension; null
            entries mean the dimension's length, negative ones count from the end.
    """
    array = open_zarr(uri)
    n = len(array.shape) - 2
    if n < 1:
        raise InvalidArgumentError(
            f"'{uri}' has no non-spatial dimension: an ImageCollection needs at least 3."
        )
    axis = 0 if axis is None else axis
    if not 0 <= axis < n:
        raise InvalidArgumentError(f"axis must be in [0, {n - 1}], not {axis}.")
    ranges = slices(array, starts, ends)
    if _planes(ranges) > MAX_PLANES:
        raise InvalidArgumentError(f"The slice has more than {MAX_PLANES} planes; slice less.")
    images = []
    for i in ranges[axis]:
        image = _image(array, proj, [*ranges[:axis], range(i, i + 1), *ranges[axis + 1 :]])
        images.append(
            Image(
                image.bands,
                {"system:index": str(i), "index": i},
                footprint_geometry=image.footprint_geometry,
            )
        )
    return ImageCollection(static=tuple(images))
