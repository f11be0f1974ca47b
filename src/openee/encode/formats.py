"""One table: fileFormat -> (media type, encoder)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import rasterio
from PIL import Image as PILImage
from rasterio.io import MemoryFile
from rasterio.session import DummySession

from openee.encode.npy import NpyFile
from openee.encode.png import write_png
from openee.encode.raster import ComputedRaster
from openee.encode.visualize import Visualization, to_rgba8
from openee.errors import InvalidArgumentError, UnimplementedError

# Encoded content: bytes, or a buffer the encoder filled itself (sent without a final copy).
Content = bytes | bytearray | memoryview
Encoder = Callable[[ComputedRaster, Visualization], Content]


def encode_png(raster: ComputedRaster, vis: Visualization) -> bytes:
    """Grey+alpha or RGBA, transparent where masked (encode/png.py writes it)."""
    values, alpha = to_rgba8(raster, vis)
    return write_png(np.dstack([values, alpha]))


def encode_jpeg(raster: ComputedRaster, vis: Visualization) -> bytes:
    values, alpha = to_rgba8(raster, vis)
    # JPEG has no alpha: masked pixels are black.
    return _jpeg(np.where(alpha[..., None] > 0, values, 0).astype(np.uint8))


def _jpeg(values: np.ndarray) -> bytes:
    mode = "L" if values.shape[-1] == 1 else "RGB"
    image = PILImage.fromarray(values[..., 0] if mode == "L" else values, mode)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def encode_npy(raster: ComputedRaster, vis: Visualization) -> memoryview:
    """A structured (height, width) array, one field per band; masked pixels hold 0."""
    if raster.npy is not None:  # computed into it, masked pixels at 0 (ComputedRaster.npy)
        return raster.npy.buffer
    npy = NpyFile.allocate(raster.names, [b.data.dtype for b in raster.bands], raster.grid.shape)
    for field, band in zip(npy.fields(), raster.bands, strict=True):
        field[...] = band.data
    npy.zero_masked([band.valid for band in raster.bands], 0, raster.grid.height)
    return npy.buffer


def encode_geotiff(raster: ComputedRaster, vis: Visualization) -> bytes:
    """A tiled, compressed GeoTIFF with the grid's CRS and transform and an internal mask."""
    dtype = np.result_type(*[b.data.dtype for b in raster.bands]) if raster.bands else np.uint8
    if dtype == np.int64 or dtype == np.uint64:
        dtype = np.dtype(np.float64)
    height, width = raster.grid.shape
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": max(len(raster.bands), 1),
        "dtype": np.dtype(dtype).name,
        "crs": raster.grid.crs,
        "transform": raster.grid.transform,
        "compress": "deflate",
        "tiled": width >= 256 and height >= 256,
    }
    if profile["tiled"]:
        profile.update(blockxsize=256, blockysize=256)
    # No rasterio session (raster/gdal.py: gdal_env): the file is in memory.
    env = rasterio.Env(session=DummySession(), GDAL_TIFF_INTERNAL_MASK=True)
    with env, MemoryFile() as memfile:
        with memfile.open(**profile) as dst:
            for i, (name, band) in enumerate(zip(raster.names, raster.bands, strict=True), start=1):
                dst.write(np.where(band.valid, band.data, 0).astype(dtype), i)
                dst.set_band_description(i, name)
            dst.write_mask(np.where(raster.all_valid(), 255, 0).astype(np.uint8))
        return bytes(memfile.read())


def encode_auto(raster: ComputedRaster, vis: Visualization) -> bytes:
    """JPEG when every pixel is opaque, else PNG (it keeps the transparency: of masked pixels,
    and of partly masked ones or an opacity below 1, docs/decisions/0055)."""
    values, alpha = to_rgba8(raster, vis)
    if (alpha == 255).all():
        return _jpeg(values)
    return write_png(np.dstack([values, alpha]))


def encode_zipped_geotiff(raster: ComputedRaster, vis: Visualization) -> bytes:
    return _zip({"download.tif": encode_geotiff(raster, vis)})


def encode_zipped_geotiff_per_band(raster: ComputedRaster, vis: Visualization) -> bytes:
    return zip_geotiff_per_band(
        [
            ComputedRaster([name], [band], raster.grid)
            for name, band in zip(raster.names, raster.bands, strict=True)
        ],
        vis,
    )


def zip_geotiff_per_band(rasters: list[ComputedRaster], vis: Visualization) -> bytes:
    """One GeoTIFF per single-band raster, each on its own grid, zipped."""
    return _zip({f"download.{r.names[0]}.tif": encode_geotiff(r, vis) for r in rasters})


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


@dataclass(frozen=True)
class Format:
    media_type: str
    encode: Encoder
    # Peak memory of a request per byte of raw output pixels: outputs, the encoder's copies and
    # buffers, chunks in flight. Measured (tests/services/test_services_limits.py, and the 8192x8192
    # probe of bench/compute_pixels.py) and rounded up. NPY is computed into its own buffer.
    peak_per_output_byte: float = 4.0

    def media_type_of(self, content: Content) -> str:
        """The media type of encoded content (AUTO_JPEG_PNG decides per image)."""
        return "image/jpeg" if bytes(content[:2]) == b"\xff\xd8" else self.media_type


FORMATS: dict[str, Format] = {
    "PNG": Format("image/png", encode_png),
    "JPEG": Format("image/jpeg", encode_jpeg),
    "NPY": Format("application/octet-stream", encode_npy, peak_per_output_byte=2.0),
    "GEO_TIFF": Format("image/tiff", encode_geotiff),
    "AUTO_JPEG_PNG": Format("image/png", encode_auto),
    "ZIPPED_GEO_TIFF": Format("application/zip", encode_zipped_geotiff),
    "ZIPPED_GEO_TIFF_PER_BAND": Format("application/zip", encode_zipped_geotiff_per_band),
}

# Earth Engine formats not built yet: a clear 501, not a 400.
NOT_YET = {"TF_RECORD_IMAGE", "MULTI_BAND_IMAGE_TILE"}


def format_for(name: str | None) -> Format:
    key = (name or "AUTO_JPEG_PNG").upper()
    if key in FORMATS:
        return FORMATS[key]
    if key in NOT_YET:
        raise UnimplementedError(f"fileFormat {key} is not implemented yet.")
    raise InvalidArgumentError(
        f"Invalid value for fileFormat: '{name}'. Supported: {', '.join(sorted(FORMATS))}."
    )
