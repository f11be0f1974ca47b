"""Sequences of frames into one file: an animation (GIF, MP4) or a filmstrip (PNG, JPEG).

A frame is an (height, width, 3 or 4) uint8 array, RGB or RGBA, as a thumbnail's pixels; every
frame of a sequence has the same size. A pixel is visible where its alpha is above 0 (as in
openee's JPEG thumbnails): an invisible pixel is transparent in a GIF and a PNG, black in an MP4
and a JPEG, which have no transparency.

GIF and MP4 are written by FFmpeg through PyAV, in memory, one frame at a time (a video of many
frames never holds them all). Pillow's GIF writer is not used because it merges a frame that
equals the one before into it, so the file would have fewer frames than the collection. A GIF
frame has at most 256 colours: a frame with no more colours than that is written exactly (each
colour its own palette entry); one with more is reduced to 255 or 256 colours by median cut,
without dithering, with a palette per frame.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Literal

import av
import numpy as np
from PIL import Image as PILImage

from openee.errors import InvalidArgumentError

VideoFormat = Literal["gif", "mp4"]
FilmstripFormat = Literal["PNG", "JPEG", "AUTO_JPEG_PNG"]
Orientation = Literal["VERTICAL", "HORIZONTAL"]

# Earth Engine's range for VideoOptions.framesPerSecond (REST reference, VideoOptions).
MIN_FPS = 0.1
MAX_FPS = 120.0
# x264's constant rate factor: 18 is visually lossless for most content (23 is its default).
_MP4_CRF = "18"
_GIF_COLORS = 256
# Colours a GIF palette is chosen from when a frame has more than 256 (see _median_cut).
_PALETTE_SAMPLE = 16384
_TRANSPARENT = np.array([0, 0, 0, 0], dtype=np.uint8)  # ARGB: alpha 0 marks the transparent entry


def encode_video(frames: Iterable[np.ndarray], fps: float, fmt: VideoFormat) -> bytes:
    """Encodes frames as an animated GIF (looping) or an H.264 MP4 at `fps` frames per second.

    Args:
        frames: RGB or RGBA uint8 frames, all of one size, in display order; consumed lazily.
        fps: Frames per second, 0.1 to 120 as in Earth Engine.
        fmt: "gif" or "mp4". An MP4 (4:2:0 chroma) has even sides: a frame with an odd width or
            height gets a copy of its last column or row on the right or at the bottom (a copy,
            not black, so that the shared chroma does not bleed into the frame's own edge).

    Returns:
        The file's bytes.
    """
    if fmt not in ("gif", "mp4"):
        raise InvalidArgumentError(f"Unsupported video format '{fmt}'. Supported: gif, mp4.")
    rate = frame_rate(fps)
    out = io.BytesIO()
    with av.open(out, "w", format=fmt) as container:
        stream = None
        shape: tuple[int, ...] | None = None
        for frame in frames:
            _check_frame(frame, shape)
            if stream is None:
                shape = frame.shape[:2]
                stream = _add_stream(container, fmt, rate, shape)
            video_frame = _gif_frame(frame) if fmt == "gif" else _mp4_frame(frame, stream)
            container.mux(stream.encode(video_frame))
        if stream is None:
            raise ValueError("A video needs at least one frame.")
        container.mux(stream.encode(None))
    return out.getvalue()


def frame_rate(fps: object) -> Fraction:
    """`fps` checked against Earth Engine's range, as the exact fraction FFmpeg wants."""
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not MIN_FPS <= fps <= MAX_FPS:
        raise InvalidArgumentError(
            f"framesPerSecond must be a number between {MIN_FPS} and {MAX_FPS:g}, got {fps!r}."
        )
    return Fraction(fps).limit_denominator(1000)


def encode_filmstrip(
    frames: Sequence[np.ndarray], fmt: FilmstripFormat, orientation: Orientation = "VERTICAL"
) -> tuple[bytes, str]:
    """Lays frames out as one image, top to bottom (VERTICAL) or left to right (HORIZONTAL).

    AUTO_JPEG_PNG is a JPEG when every pixel is opaque and a PNG otherwise, as for a thumbnail.

    Returns:
        The file's bytes and its media type.
    """
    if not frames:
        raise ValueError("A filmstrip needs at least one frame.")
    shape = None
    for frame in frames:
        _check_frame(frame, shape)
        shape = frame.shape[:2]
    strip = np.concatenate([_rgba(f) for f in frames], axis=0 if orientation == "VERTICAL" else 1)
    visible = strip[..., 3] > 0
    out = io.BytesIO()
    if fmt == "PNG" or (fmt == "AUTO_JPEG_PNG" and not (strip[..., 3] == 255).all()):
        PILImage.fromarray(strip, "RGBA").save(out, "PNG")
        return out.getvalue(), "image/png"
    rgb = np.where(visible[..., None], strip[..., :3], 0).astype(np.uint8)
    PILImage.fromarray(rgb, "RGB").save(out, "JPEG", quality=90)
    return out.getvalue(), "image/jpeg"


def _check_frame(frame: np.ndarray, shape: tuple[int, ...] | None) -> None:
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ValueError(f"A frame is an (H, W, 3|4) uint8 array, got {frame.dtype} {frame.shape}.")
    if shape is not None and frame.shape[:2] != shape:
        raise ValueError(f"Frames differ in size: {frame.shape[:2]} after {shape}.")


def _rgba(frame: np.ndarray) -> np.ndarray:
    if frame.shape[2] == 4:
        return frame
    return np.dstack([frame, np.full(frame.shape[:2], 255, np.uint8)])


def _add_stream(
    container: av.container.OutputContainer,
    fmt: VideoFormat,
    rate: Fraction,
    shape: tuple[int, ...],
) -> av.VideoStream:
    height, width = shape
    if fmt == "gif":
        stream = container.add_stream("gif", rate=rate)
        stream.pix_fmt = "pal8"
    else:
        stream = container.add_stream("libx264", rate=rate, options={"crf": _MP4_CRF})
        stream.pix_fmt = "yuv420p"
        width, height = width + width % 2, height + height % 2
    stream.width, stream.height = width, height
    return stream


def _mp4_frame(frame: np.ndarray, stream: av.VideoStream) -> av.VideoFrame:
    rgb = frame[..., :3] if frame.shape[2] == 3 else np.where(frame[..., 3:] > 0, frame[..., :3], 0)
    height, width = rgb.shape[:2]
    if (width, height) != (stream.width, stream.height):
        padding = ((0, stream.height - height), (0, stream.width - width), (0, 0))
        rgb = np.pad(rgb, padding, mode="edge")
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb, dtype=np.uint8), format="rgb24")


def _gif_frame(frame: np.ndarray) -> av.VideoFrame:
    """A palette frame: at most 256 colours, one entry (alpha 0) for the invisible pixels."""
    height, width = frame.shape[:2]
    visible = frame[..., 3] > 0 if frame.shape[2] == 4 else np.ones((height, width), bool)
    colors = frame[..., :3][visible]  # (n, 3)
    capacity = _GIF_COLORS - (0 if visible.all() else 1)
    codes = (colors[:, 0].astype(np.uint32) << 16) | (colors[:, 1].astype(np.uint32) << 8)
    codes |= colors[:, 2]
    unique, inverse = np.unique(codes, return_inverse=True)
    if len(unique) <= capacity:
        rgb = np.stack([(unique >> 16) & 255, (unique >> 8) & 255, unique & 255], axis=-1)
        indices = inverse.reshape(-1)
    else:
        rgb, indices = _median_cut(colors, capacity)
    palette = np.zeros((_GIF_COLORS, 4), np.uint8)
    palette[:, 0] = 255
    palette[: len(rgb), 1:] = rgb
    index_map = np.full((height, width), _GIF_COLORS - 1, np.uint8)
    index_map[visible] = indices
    if not visible.all():
        palette[_GIF_COLORS - 1] = _TRANSPARENT
    # PyAV documents the (indices, palette) pair for pal8; its type stub only lists arrays.
    return av.VideoFrame.from_ndarray((index_map, palette), format="pal8")  # type: ignore[arg-type]


def _median_cut(colors: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` colours for the (n, 3) `colors` and each one's index: Pillow's median cut on an
    even sample of at most _PALETTE_SAMPLE colours (the whole frame takes 5-10x as long for
    about the same palette), then every colour mapped to its nearest palette entry."""
    step = max(1, len(colors) // _PALETTE_SAMPLE)
    sample = PILImage.fromarray(colors[::step].reshape(1, -1, 3), "RGB")
    palette = sample.quantize(
        count, method=PILImage.Quantize.MEDIANCUT, dither=PILImage.Dither.NONE
    )
    whole = PILImage.fromarray(colors.reshape(1, -1, 3), "RGB")
    mapped = whole.quantize(palette=palette, dither=PILImage.Dither.NONE)
    rgb = np.array(mapped.getpalette() or [], np.uint8).reshape(-1, 3)
    return rgb, np.asarray(mapped).reshape(-1)
