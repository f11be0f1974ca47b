"""Video exports (`Export.video.toCloudStorage` / `toDrive`): an ImageCollection's images as the
frames of an MP4 (H.264, written by `encode/video.py` as the video thumbnails are), in
collection order.

The client sends the collection mapped through `Image.clipToBoundsAndScale` (and
`setDefaultProjection`, by default in SR-ORG:6627), so every frame has the grid the user asked
for; frames are 1- or 3-band 8-bit images (`visualize()` them first), as Earth Engine requires.
`videoOptions {framesPerSecond, maxFrames, maxPixelsPerFrame}` hold the rest. Frames are
computed one at a time as the encoder asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openee.encode.raster import ComputedRaster
from openee.encode.video import encode_video
from openee.encode.visualize import Visualization, to_rgba8
from openee.engine.chunks import materialize
from openee.engine.executors import ChunkExecutor
from openee.errors import InvalidArgumentError
from openee.raster.image import Image, ImageCollection
from openee.services.export_image import Progress, Report, export_grid

DEFAULT_FPS = 10.0
DEFAULT_MAX_FRAMES = 1000
DEFAULT_MAX_PIXELS_PER_FRAME = 1e8


@dataclass(frozen=True)
class VideoOptions:
    frames_per_second: float = DEFAULT_FPS
    max_frames: int = DEFAULT_MAX_FRAMES
    max_pixels_per_frame: float = DEFAULT_MAX_PIXELS_PER_FRAME


def _frame(image: Image, executor: ChunkExecutor, chunk_size: int, max_pixels: float) -> np.ndarray:
    """One frame as (height, width, 4) RGBA bytes (transparent where masked)."""
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
    return np.dstack([rgb, alpha])


def write_video(
    collection: object,
    opts: VideoOptions,
    staging: Path,
    executor: ChunkExecutor,
    chunk_size: int,
    check: Callable[[], None],
    report: Report,
) -> list[tuple[Path, str]]:
    """The MP4 of the collection's frames (`encode/video.py`): [(staged path, '.mp4')]."""
    if not isinstance(collection, ImageCollection):
        raise InvalidArgumentError(
            f"Export.video needs an ImageCollection, got {type(collection).__name__}."
        )
    images = collection.images[: opts.max_frames]
    if not images:
        raise InvalidArgumentError("The collection to export as a video is empty.")
    progress = Progress(0, len(images))
    report(progress)

    def frames() -> Iterator[np.ndarray]:
        for image in images:
            yield _frame(image, executor, chunk_size, opts.max_pixels_per_frame)
            progress.done += 1
            report(progress)
            check()

    content = encode_video(frames(), opts.frames_per_second, "mp4")
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / "video.mp4"
    path.write_bytes(content)
    return [(path, ".mp4")]
