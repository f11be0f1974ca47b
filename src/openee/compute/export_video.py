"""Video exports (`Export.video.toCloudStorage` / `toDrive`): an ImageCollection's images as the
frames of an MP4 (H.264), in collection order.

The client sends the collection mapped through `Image.clipToBoundsAndScale` (and
`setDefaultProjection`, by default in SR-ORG:6627), so every frame has the grid the user asked
for; frames are 1- or 3-band 8-bit images (`visualize()` them first), as Earth Engine requires.
`videoOptions {framesPerSecond, maxFrames, maxPixelsPerFrame}` hold the rest. H.264 needs even
sides: an odd last row or column is repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from openee.compute.chunks import materialize
from openee.compute.executors import ChunkExecutor
from openee.compute.export_image import Progress, Report, export_grid
from openee.encode.raster import ComputedRaster
from openee.encode.visualize import Visualization, to_rgba8
from openee.errors import FailedPreconditionError, InvalidArgumentError
from openee.raster.image import Image, ImageCollection

DEFAULT_FPS = 10.0
DEFAULT_MAX_FRAMES = 1000
DEFAULT_MAX_PIXELS_PER_FRAME = 1e8


@dataclass(frozen=True)
class VideoOptions:
    frames_per_second: float = DEFAULT_FPS
    max_frames: int = DEFAULT_MAX_FRAMES
    max_pixels_per_frame: float = DEFAULT_MAX_PIXELS_PER_FRAME


def video_options(body: dict[str, Any]) -> VideoOptions:
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
    if not 0 < options.frames_per_second <= 120 or options.max_frames < 1:
        raise InvalidArgumentError("framesPerSecond must be in (0, 120] and maxFrames >= 1.")
    return options


def _frame(image: Image, executor: ChunkExecutor, chunk_size: int, max_pixels: float) -> np.ndarray:
    """One frame as (height, width, 3) RGB bytes; masked pixels black."""
    if len(image.bands) not in (1, 3) or any(
        np.dtype(b.source.dtype) != np.uint8 for b in image.bands
    ):
        raise InvalidArgumentError(
            "Video frames must be 1- or 3-band 8-bit images: visualize() the collection's "
            "images first."
        )
    grid = export_grid(image)
    if grid.width * grid.height > max_pixels:
        raise InvalidArgumentError(
            f"Export too large: specified {grid.width * grid.height} pixels per frame (max: "
            f"{int(max_pixels)}). Specify higher maxPixelsPerFrame value if you intend to export "
            "a large area."
        )
    pixels = materialize([b.source for b in image.bands], grid, executor, chunk_size)
    values, alpha = to_rgba8(ComputedRaster(image.band_names, pixels, grid), Visualization())
    rgb = np.repeat(values, 3, axis=-1) if values.shape[-1] == 1 else values
    return np.where(alpha[..., None] > 0, rgb, 0).astype(np.uint8)


def write_video(
    collection: object,
    opts: VideoOptions,
    staging: Path,
    executor: ChunkExecutor,
    chunk_size: int,
    check: Callable[[], None],
    report: Report,
) -> list[tuple[Path, str]]:
    """The MP4 of the collection's frames: [(staged path, '.mp4')]."""
    if not isinstance(collection, ImageCollection):
        raise InvalidArgumentError(
            f"Export.video needs an ImageCollection, got {type(collection).__name__}."
        )
    try:
        import av
    except ImportError:  # pragma: no cover - av comes with the video extra
        raise FailedPreconditionError("Video exports need PyAV (pip install av).") from None
    images = collection.images[: opts.max_frames]
    if not images:
        raise InvalidArgumentError("The collection to export as a video is empty.")
    progress = Progress(0, len(images))
    report(progress)
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / "video.mp4"
    with av.open(str(path), "w") as container:
        stream: Any = None
        size: tuple[int, ...] = ()
        for image in images:
            frame = _frame(image, executor, chunk_size, opts.max_pixels_per_frame)
            if stream is None:
                size = frame.shape[:2]
                stream = container.add_stream("libx264", rate=_rate(opts.frames_per_second))
                stream.height, stream.width = (side + side % 2 for side in size)
                stream.pix_fmt = "yuv420p"
            elif frame.shape[:2] != size:
                raise InvalidArgumentError("All frames of a video must have the same size.")
            frame = np.pad(
                frame,
                ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)),
                mode="edge",
            )
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
            progress.done += 1
            report(progress)
            check()
        for packet in stream.encode():
            container.mux(packet)
    return [(path, ".mp4")]


def _rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1000)
