"""Tilesets of several sources (an ImageManifest's `tilesets[].sources[]`): Earth Engine
mosaics them into one image; openee merges them into one tiled DEFLATE COG with overviews under
the data dir when the import runs, and the bands of the tileset point at that file.

`inspect_sources` reads the sources' headers only (through the GeoTIFF or JPEG2000 driver) and
refuses what cannot be merged without resampling: different CRS, pixel size, band count or data
type, rotated or flipped grids, and sources off one common pixel grid. The import route calls it
before the operation starts, so such a manifest is a 400. Sources that leave gaps in their
bounding box need a missing-data value (the files' or the manifest's) to mark the gaps.

`MosaicWriter.write` merges with rasterio.merge, in chunks: where sources overlap, the FIRST
source listed with a valid pixel wins (sources are painted last to first). Valid means "not the
tileset's missing-data value" (the manifest's `missingData` when given, else the files'), as for
a single-source band. A mask tileset (maskBands) takes every source pixel as valid and fills gaps
with 0 (masked). Files are written beside their final name and renamed into place, and
`discard()` removes what an import made when it is cancelled or fails, so an import that does
not finish leaves no mosaic referenced by the catalog.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.errors
import rasterio.merge
import rasterio.shutil
import shapely
import shapely.geometry

from openee.errors import InvalidArgumentError
from openee.raster.gdal import open_checked

RASTER_DRIVERS = {".tif": "GTiff", ".tiff": "GTiff", ".jp2": "JP2OpenJPEG"}
MAX_SOURCES = 500  # per tileset: every source is open while the mosaic is written
# Sources count as on one grid when their origins are whole pixels apart within this fraction.
GRID_TOLERANCE_PX = 1e-3
MERGE_MEMORY_MB = 64

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class MosaicGrid:
    """What the sources of one tileset share, and the grid of their mosaic."""

    crs: str
    dtypes: tuple[str, ...]
    nodata: float | None  # the sources' own missing-data value (they agree)
    boxes: tuple[Box, ...]  # each source's bounds, in `crs`
    width: int
    height: int
    covers_box: bool  # whether the sources fill their bounding box (no gaps)


def open_raster(path: Path) -> Any:
    """A raster opened only with the GeoTIFF or JPEG2000 driver (never as a VRT)."""
    driver = RASTER_DRIVERS[path.suffix.lower()]
    try:
        return open_checked(path)
    except rasterio.errors.RasterioError as exc:
        raise InvalidArgumentError(
            f"{path.name}: cannot read the raster as {driver} ({exc})."
        ) from None


def inspect_sources(what: str, paths: Sequence[Path], own_nodata: bool = True) -> MosaicGrid:
    """The common grid of the sources of tileset `what`, or InvalidArgumentError (HTTP 400)
    saying why they cannot be mosaicked. Reads headers only. `own_nodata`: whether the files'
    nodata values matter (they must then agree); not when the manifest gives the value."""
    if len(paths) > MAX_SOURCES:
        raise InvalidArgumentError(f"'{what}': at most {MAX_SOURCES} sources per tileset.")
    first: Any = None
    boxes: list[Box] = []
    nodata: float | None = None
    for path in paths:
        with open_raster(path) as src:
            t = src.transform
            if src.crs is None:
                raise InvalidArgumentError(f"{path.name}: the raster has no coordinate system.")
            if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
                raise InvalidArgumentError(
                    f"'{what}': {path.name} has a rotated or flipped grid; sources of one"
                    " tileset must be north-up to be mosaicked."
                )
            if first is None:
                first = (src.crs, t, src.count, tuple(src.dtypes), path.name)
                nodata = src.nodata
            else:
                crs, t0, count, dtypes, name0 = first
                if src.crs != crs:
                    raise InvalidArgumentError(
                        f"'{what}': the sources of one tileset must share one CRS; {path.name}"
                        f" is in {src.crs.to_string()}, {name0} in {crs.to_string()}."
                    )
                if not (math.isclose(t.a, t0.a, rel_tol=1e-9) and
                        math.isclose(t.e, t0.e, rel_tol=1e-9)):  # fmt: skip
                    raise InvalidArgumentError(
                        f"'{what}': the sources of one tileset must share one pixel size;"
                        f" {path.name} has {t.a:g} x {-t.e:g}, {name0} {t0.a:g} x {-t0.e:g}."
                    )
                dx, dy = (t.c - t0.c) / t0.a, (t.f - t0.f) / t0.e
                if (
                    abs(dx - round(dx)) > GRID_TOLERANCE_PX
                    or abs(dy - round(dy)) > GRID_TOLERANCE_PX
                ):
                    raise InvalidArgumentError(
                        f"'{what}': {path.name} is not on the pixel grid of {name0} (its origin"
                        " is a fraction of a pixel off); sources of one tileset must align."
                    )
                if src.count != count or tuple(src.dtypes) != dtypes:
                    raise InvalidArgumentError(
                        f"'{what}': the sources of one tileset must have the same bands;"
                        f" {path.name} has {src.count} of {', '.join(sorted(set(src.dtypes)))},"
                        f" {name0} {count} of {', '.join(sorted(set(dtypes)))}."
                    )
                if own_nodata and not same_value(src.nodata, nodata):
                    raise InvalidArgumentError(
                        f"'{what}': the sources have different nodata values ({src.nodata} in"
                        f" {path.name}, {nodata} in {name0}); give the manifest's 'missingData'."
                    )
            boxes.append(tuple(src.bounds))
    crs, t0, _, dtypes, _ = first
    left, bottom = min(b[0] for b in boxes), min(b[1] for b in boxes)
    right, top = max(b[2] for b in boxes), max(b[3] for b in boxes)
    union = shapely.union_all([shapely.geometry.box(*b) for b in boxes])
    envelope = shapely.geometry.box(left, bottom, right, top)
    return MosaicGrid(
        crs=crs.to_string(),
        dtypes=dtypes,
        nodata=nodata,
        boxes=tuple(boxes),
        width=round((right - left) / t0.a),
        height=round((top - bottom) / -t0.e),
        covers_box=math.isclose(union.area, envelope.area, rel_tol=1e-9),
    )


def same_value(a: float | None, b: float | None) -> bool:
    """Equal missing-data values (NaN equals NaN)."""
    if a is None or b is None:
        return a is b
    return a == b or (math.isnan(a) and math.isnan(b))


def check_fill(what: str, grid: MosaicGrid, nodata: float | None) -> None:
    """Whether `nodata` (the tileset's effective missing-data value) can mark the gaps."""
    if nodata is None:
        if not grid.covers_box:
            raise InvalidArgumentError(
                f"'{what}': the sources leave gaps in their bounding box and have no nodata"
                " value to mark them; give the manifest's 'missingData'."
            )
        return
    dtype = np.dtype(grid.dtypes[0])
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        if not (float(nodata).is_integer() and info.min <= nodata <= info.max):
            raise InvalidArgumentError(
                f"'{what}': the missing-data value {nodata:g} is not a {dtype} value."
            )


def _painter(nodata: float | None, every_pixel: bool) -> Callable[..., None]:
    """rasterio.merge's `method`: a source's valid pixels painted over what is there."""

    def paint(merged: np.ndarray, new: np.ndarray, *_: Any, **__: Any) -> None:
        raw = np.ma.getdata(new)
        if every_pixel or nodata is None:
            np.copyto(merged, raw)
        elif math.isnan(nodata):
            np.copyto(merged, raw, where=~np.isnan(raw))
        else:
            np.copyto(merged, raw, where=raw != nodata)

    return paint


def copy_as_cog(source: Path | str, destination: Path) -> None:
    """`source` written to `destination` as a tiled DEFLATE COG with nearest overviews, the
    form in which the catalog keeps the files it makes."""
    rasterio.shutil.copy(
        source,
        destination,
        driver="COG",
        COMPRESS="DEFLATE",
        PREDICTOR="YES",
        BLOCKSIZE="512",
        OVERVIEWS="AUTO",
        RESAMPLING="NEAREST",
        BIGTIFF="IF_SAFER",
    )


class MosaicWriter:
    """Writes the mosaics of one import under `root`, named after `token` (the operation id),
    so that an overwrite or a concurrent import never replaces a file another asset uses."""

    def __init__(self, root: Path, token: str, check: Callable[[], None] | None = None) -> None:
        self.root = root
        self.token = token
        self.check = check or (lambda: None)
        self.made: list[Path] = []

    def target(self, asset_name: str, tileset_index: int) -> Path:
        project, _, path = asset_name.removeprefix("projects/").partition("/assets/")
        return self.root / project / path / f"{self.token}_tileset{tileset_index}.tif"

    def write(
        self,
        paths: Sequence[Path],
        target: Path,
        nodata: float | None,
        mask_only: bool = False,
    ) -> Path:
        """Merge `paths` into the COG `target` (see the module doc); returns `target`."""
        self.check()
        target.parent.mkdir(parents=True, exist_ok=True)
        merged = target.with_name(f".{target.name}.{os.getpid()}.merge.tif")
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        fill = 0.0 if mask_only else nodata
        try:
            with ExitStack() as stack:
                sources = [stack.enter_context(open_raster(p)) for p in paths]
                rasterio.merge.merge(
                    sources[::-1],  # painted last to first: the first source listed wins
                    nodata=fill,
                    method=_painter(nodata, mask_only),
                    mem_limit=MERGE_MEMORY_MB,
                    dst_path=merged,
                    dst_kwds={"driver": "GTiff", "tiled": True, "blockxsize": 512,
                              "blockysize": 512, "compress": None, "BIGTIFF": "IF_SAFER"},
                )  # fmt: skip
            self.check()
            copy_as_cog(merged, partial)
            os.replace(partial, target)  # a killed import never leaves a half mosaic in place
            self.made.append(target)
        except rasterio.errors.RasterioError as exc:
            raise InvalidArgumentError(
                f"Cannot mosaic the sources of {target.name}: {exc}."
            ) from None
        finally:
            merged.unlink(missing_ok=True)
            partial.unlink(missing_ok=True)
        return target

    def discard(self) -> None:
        """Remove the mosaics this import made (it was cancelled or failed)."""
        for path in self.made:
            path.unlink(missing_ok=True)
        self.made.clear()
