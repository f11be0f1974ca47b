"""The options of each export kind, read from the request JSON and checked once: an image
export's `fileExportOptions` / `assetExportOptions` / `maxPixels` (GeoTIFF, NPY, TFRecord), a
table export's `fileFormat` and `selectors`, a map export's `tileOptions` /
`tileExportOptions`, a video export's `videoOptions`. The typed results (`ImageOptions`,
`TfRecordOptions`, `MapOptions`, `VideoOptions`) are what the export services take
(docs/decisions/0051)."""

from __future__ import annotations

import math
from typing import Any

from openee.encode.tables import table_format
from openee.encode.tfrecord import DEFAULT_MAX_FILE_BYTES, TfRecordOptions
from openee.encode.tfrecord import IMAGE_FORMAT as TF_RECORD_IMAGE
from openee.encode.tfrecord import TABLE_FORMAT as TF_RECORD_TABLE
from openee.encode.video import MAX_FPS, MIN_FPS
from openee.errors import InvalidArgumentError, UnimplementedError
from openee.services.export_image import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_TILE_SIZE,
    IMAGE_FORMATS,
    ONE_FILE,
    ImageOptions,
)
from openee.services.export_map import FORMATS as MAP_FORMATS
from openee.services.export_map import MAX_ZOOM, MapOptions
from openee.services.export_table import GEOPARQUET
from openee.services.export_video import (
    DEFAULT_FPS,
    DEFAULT_MAX_FRAMES,
    DEFAULT_MAX_PIXELS_PER_FRAME,
    VideoOptions,
)

# Earth Engine's pyramidingPolicy -> GDAL's overview resampling.
PYRAMIDING = {"MEAN": "average", "SAMPLE": "nearest", "MODE": "mode", "MIN": "min", "MAX": "max"}
_PARQUET_NAMES = {"GEOPARQUET", "GEO_PARQUET", "PARQUET"}


# -- numbers as the client sends them -----------------------------------------------------------


def _int_value(value: Any, what: str) -> int:
    """`{"value": "123"}`, `{"value": 123}` or a plain number, as the client sends Int64s."""
    raw = value.get("value") if isinstance(value, dict) else value
    try:
        number = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"Invalid {what}: '{str(raw)[:50]}'.") from None
    if not math.isfinite(number) or number <= 0:
        raise InvalidArgumentError(f"{what} must be positive.")
    return int(number)


def _dimensions(value: Any, what: str) -> tuple[int, int]:
    if isinstance(value, dict):
        return _int_value(value.get("width"), f"{what}.width"), _int_value(
            value.get("height"), f"{what}.height"
        )
    side = _int_value(value, what)
    return side, side


def _grid_dimensions(value: Any, what: str) -> tuple[int, int]:
    """A GridDimensions {width, height} (the client's patchDimensions / kernelSize)."""
    if not isinstance(value, dict):
        raise InvalidArgumentError(f"{what} must be an object with width and height.")
    out = []
    for key in ("width", "height"):
        raw = value.get(key)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != int(raw):
            raise InvalidArgumentError(f"{what}.{key} must be an integer.")
        out.append(int(raw))
    return out[0], out[1]


def _number(value: Any, what: str) -> float:
    raw = value.get("value") if isinstance(value, dict) else value
    try:
        number = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"Invalid {what}: '{str(raw)[:50]}'.") from None
    if not math.isfinite(number):
        raise InvalidArgumentError(f"Invalid {what}: '{str(raw)[:50]}'.")
    return number


# -- image exports ------------------------------------------------------------------------------


def image_options(body: dict[str, Any]) -> ImageOptions:
    """The file options of an ExportImageRequest (`fileExportOptions` or `assetExportOptions`)."""
    max_pixels = DEFAULT_MAX_PIXELS
    if body.get("maxPixels") is not None:
        max_pixels = _int_value(body["maxPixels"], "maxPixels")
    files = body.get("fileExportOptions")
    if not isinstance(files, dict):
        assets = body.get("assetExportOptions") or {}
        tile_size = DEFAULT_TILE_SIZE
        if isinstance(assets, dict) and assets.get("tileSize") is not None:
            tile_size = _int_value(assets["tileSize"], "tileSize")
        policy = str((assets or {}).get("pyramidingPolicy") or "MEAN").upper()
        if policy not in PYRAMIDING:
            raise InvalidArgumentError(f"Invalid pyramidingPolicy: '{policy[:20]}'.")
        return ImageOptions(
            cloud_optimized=True,
            tile_size=tile_size,
            max_pixels=max_pixels,
            file_dimensions=ONE_FILE,
            mask_band=True,
            overview_resampling=PYRAMIDING[policy],
        )
    file_format = str(files.get("fileFormat") or "GEO_TIFF").upper()
    if file_format == TF_RECORD_IMAGE:
        return ImageOptions(
            file_format=file_format,
            max_pixels=max_pixels,
            tfrecord=tfrecord_options(files.get("tfRecordOptions")),
        )
    if file_format not in IMAGE_FORMATS:
        raise InvalidArgumentError(
            f"Invalid fileFormat for an image export: '{file_format[:40]}' (use GEO_TIFF, NPY "
            "or TF_RECORD_IMAGE)."
        )
    if file_format == "NPY":
        for name in ("geoTiffOptions", "tfRecordOptions"):
            if files.get(name):
                raise InvalidArgumentError(f"{name} cannot be given with fileFormat NPY.")
        return ImageOptions(file_format="NPY", file_dimensions=ONE_FILE, max_pixels=max_pixels)
    tiff = files.get("geoTiffOptions") or {}
    if not isinstance(tiff, dict):
        raise InvalidArgumentError("geoTiffOptions must be an object.")
    no_data = None
    if isinstance(tiff.get("noData"), dict):
        raw = tiff["noData"].get("floatValue", tiff["noData"].get("intValue"))
        try:
            no_data = float(raw) if raw is not None else None
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"Invalid noData: '{str(raw)[:50]}'.") from None
    file_dims = None
    if tiff.get("tileDimensions") is not None:
        file_dims = _dimensions(tiff["tileDimensions"], "fileDimensions")
    tile_size = DEFAULT_TILE_SIZE
    if tiff.get("tileSize") is not None:
        tile_size = _int_value(tiff["tileSize"], "shardSize")
    if file_dims and (file_dims[0] % tile_size or file_dims[1] % tile_size):
        raise InvalidArgumentError(
            f"fileDimensions ({file_dims[0]}x{file_dims[1]}) must be a multiple of shardSize "
            f"({tile_size})."
        )
    return ImageOptions(
        file_format=file_format,
        cloud_optimized=bool(tiff.get("cloudOptimized", False)),
        no_data=no_data,
        file_dimensions=file_dims,
        tile_size=tile_size,
        skip_empty=bool(tiff.get("skipEmptyFiles", False)),
        max_pixels=max_pixels,
    )


def tfrecord_options(raw: Any) -> TfRecordOptions:
    """Checks `fileExportOptions.tfRecordOptions` of a TF_RECORD_IMAGE export."""
    if not isinstance(raw, dict) or raw.get("tileDimensions") is None:
        raise InvalidArgumentError(
            "TFRecord image exports need patchDimensions (tfRecordOptions.tileDimensions)."
        )
    if raw.get("sequenceData"):
        raise UnimplementedError("TFRecord image exports with sequenceData are not implemented.")
    patch = _grid_dimensions(raw["tileDimensions"], "patchDimensions")
    if min(patch) <= 0:
        raise InvalidArgumentError("patchDimensions must be positive.")
    kernel = (1, 1)
    if raw.get("marginDimensions") is not None:
        kernel = _grid_dimensions(raw["marginDimensions"], "kernelSize")
        if min(kernel) < 0:
            raise InvalidArgumentError("kernelSize must not be negative.")
    max_bytes = DEFAULT_MAX_FILE_BYTES
    if raw.get("maxSizeBytes") is not None:
        max_bytes = int(_number(raw["maxSizeBytes"], "maxFileSize"))
        if max_bytes <= 0:
            raise InvalidArgumentError("maxFileSize must be positive.")
    depths = raw.get("tensorDepths") or {}
    if not isinstance(depths, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v > 0
        for k, v in depths.items()
    ):
        raise InvalidArgumentError(
            "tensorDepths must be a map from band name to the depth of the tensor for that band."
        )
    ratio = None
    if raw.get("maxMaskedRatio") is not None:
        ratio = _number(raw["maxMaskedRatio"], "maskedThreshold")
        if not 0 <= ratio <= 1:
            raise InvalidArgumentError("maskedThreshold must be between 0 and 1.")
    return TfRecordOptions(
        patch=patch,
        margin=(kernel[0] // 2, kernel[1] // 2),
        compress=bool(raw.get("compress", False)),
        max_file_bytes=max_bytes,
        default_value=_number(raw.get("defaultValue", 0), "defaultValue"),
        tensor_depths=dict(depths),
        collapse_bands=bool(raw.get("collapseBands", False)),
        max_masked_ratio=ratio,
    )


# -- table exports ------------------------------------------------------------------------------


def table_file_format(name: Any) -> str:
    """The checked `fileExportOptions.fileFormat` of a table export (default CSV)."""
    if isinstance(name, str) and name.upper() in _PARQUET_NAMES:
        return GEOPARQUET
    if isinstance(name, str) and name.upper() in (TF_RECORD_TABLE, "TFRECORD"):
        return TF_RECORD_TABLE
    return table_format(name).name


def selectors_of(body: dict[str, Any]) -> list[str] | None:
    """`selectors`: a list of property names or their comma-separated text; None for all."""
    value = body.get("selectors")
    if value in (None, []):
        return None
    if isinstance(value, str):
        value = [s.strip() for s in value.split(",") if s.strip()]
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise InvalidArgumentError("selectors must be a list of property names.")
    return value


# -- map and video exports ----------------------------------------------------------------------


def map_options(body: dict[str, Any]) -> MapOptions:
    """`tileOptions` and `tileExportOptions.fileFormat` of an ExportMapRequest."""
    tiles = body.get("tileOptions") or {}
    export = body.get("tileExportOptions") or {}
    if not isinstance(tiles, dict) or not isinstance(export, dict):
        raise InvalidArgumentError("tileOptions and tileExportOptions must be objects.")
    file_format = str(export.get("fileFormat") or "AUTO_JPEG_PNG").upper()
    if file_format not in MAP_FORMATS:
        raise InvalidArgumentError(
            f"Invalid fileFormat for a map export: '{file_format[:40]}' (use PNG, JPEG or "
            "AUTO_JPEG_PNG)."
        )
    start = tiles.get("startZoom", tiles.get("minZoom", 0)) or 0
    end = tiles.get("endZoom", tiles.get("maxZoom"))
    scale = tiles.get("scale")
    size = tiles.get("dimensions") or 256
    if isinstance(size, dict):
        size = size.get("width", 256)
    for name, value in (("startZoom", start), ("endZoom", end)):
        if value is not None and (not isinstance(value, int) or not 0 <= value <= MAX_ZOOM):
            raise InvalidArgumentError(f"{name} must be an integer from 0 to {MAX_ZOOM}.")
    if end is None and scale is None:
        raise InvalidArgumentError("A map export needs maxZoom or scale.")
    if not isinstance(size, int) or not 1 <= size <= 1024:
        raise InvalidArgumentError("Tile dimensions must be from 1 to 1024 pixels.")
    return MapOptions(
        file_format=file_format,
        start_zoom=start,
        end_zoom=end,
        scale=float(scale) if scale is not None else None,
        skip_empty=bool(tiles.get("skipEmpty", False)),
        tile_size=size,
    )


def video_options(body: dict[str, Any]) -> VideoOptions:
    """`videoOptions` (and the MP4 `fileFormat`) of an ExportVideoRequest."""
    files = body.get("fileExportOptions") or {}
    file_format = str(files.get("fileFormat") or "MP4").upper()
    if file_format != "MP4":
        raise InvalidArgumentError(f"Invalid fileFormat for a video export: '{file_format[:40]}'.")
    raw = body.get("videoOptions") or {}
    if not isinstance(raw, dict):
        raise InvalidArgumentError("videoOptions must be an object.")
    fps = raw.get("framesPerSecond", DEFAULT_FPS)
    frames = raw.get("maxFrames", DEFAULT_MAX_FRAMES)
    pixels = raw.get("maxPixelsPerFrame")
    pixels = pixels.get("value") if isinstance(pixels, dict) else pixels
    try:
        options = VideoOptions(
            float(fps),
            int(frames),
            float(pixels) if pixels is not None else DEFAULT_MAX_PIXELS_PER_FRAME,
        )
    except (TypeError, ValueError):
        raise InvalidArgumentError("Invalid videoOptions.") from None
    if not MIN_FPS <= options.frames_per_second <= MAX_FPS or options.max_frames < 1:
        raise InvalidArgumentError(
            f"framesPerSecond must be from {MIN_FPS} to {MAX_FPS}, and maxFrames at least 1."
        )
    return options
