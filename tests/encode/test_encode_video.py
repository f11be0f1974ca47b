"""encode/video.py: frames into GIF, MP4 and filmstrips, decoded back by other readers (Pillow for
GIF, PNG and JPEG; FFmpeg's decoder through PyAV for MP4) and compared with the input frames."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageSequence

from openee.encode.video import encode_filmstrip, encode_video
from openee.errors import InvalidArgumentError


def few_color_frames(count: int, height: int = 30, width: int = 44) -> list[np.ndarray]:
    """RGBA frames of at most 200 colours, each with a transparent corner."""
    rng = np.random.default_rng(7)
    frames = []
    for k in range(count):
        colors = rng.integers(0, 256, (200, 3), dtype=np.uint8)
        rgb = colors[rng.integers(0, 200, (height, width))]
        alpha = np.full((height, width), 255, np.uint8)
        alpha[: 5 + k, : 7 + k] = 0
        frames.append(np.dstack([rgb, alpha]))
    return frames


def gradient_frames(count: int, height: int, width: int) -> list[np.ndarray]:
    """Smooth RGB frames with thousands of colours."""
    rows, cols = np.mgrid[0:height, 0:width]
    return [
        np.dstack(
            [(cols * 4 + 9 * k) % 256, (rows * 3) % 256, (rows + cols + 20 * k) % 256]
        ).astype(np.uint8)
        for k in range(count)
    ]


def gif_frames(data: bytes) -> tuple[list[np.ndarray], list[int]]:
    image = PILImage.open(io.BytesIO(data))
    frames = [np.asarray(f.convert("RGBA")) for f in ImageSequence.Iterator(image)]
    durations = [
        f.info["duration"] for f in ImageSequence.Iterator(PILImage.open(io.BytesIO(data)))
    ]
    return frames, durations


def test_gif_of_few_colours_is_exact_and_keeps_every_frame() -> None:
    frames = few_color_frames(4)
    frames.insert(2, frames[1].copy())  # a repeated frame is still a frame of its own
    data = encode_video(iter(frames), 4.0, "gif")
    decoded, durations = gif_frames(data)
    assert len(decoded) == len(frames)
    for got, want in zip(decoded, frames, strict=True):
        assert got.shape == want.shape
        visible = want[..., 3] > 0
        np.testing.assert_array_equal(got[visible][:, :3], want[visible][:, :3])
        np.testing.assert_array_equal(got[..., 3], np.where(visible, 255, 0))
    assert durations == [250] * len(frames)


def test_gif_of_many_colours_is_quantized_closely() -> None:
    frames = gradient_frames(3, 64, 64)
    assert len(np.unique(frames[0].reshape(-1, 3), axis=0)) > 256
    decoded, durations = gif_frames(encode_video(frames, 10, "gif"))
    assert len(decoded) == 3
    for got, want in zip(decoded, frames, strict=True):
        assert len(np.unique(got.reshape(-1, 4), axis=0)) <= 256
        error = np.abs(got[..., :3].astype(int) - want)
        assert error.mean() < 6 and (got[..., 3] == 255).all()
    assert sum(durations) == 300


@pytest.mark.parametrize(("height", "width"), [(48, 64), (33, 51)])
def test_mp4_decodes_to_the_frames(height: int, width: int) -> None:
    frames = gradient_frames(6, height, width)
    data = encode_video(frames, 7.5, "mp4")
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.average_rate == 7.5
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(decoded) == 6
    # 4:2:0 needs even sides: an odd side gets a copy of its last column/row.
    assert decoded[0].shape == (height + height % 2, width + width % 2, 3)
    for got, want in zip(decoded, frames, strict=True):
        padded = np.pad(want, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        assert np.abs(got.astype(int) - padded).mean() < 4


def test_mp4_draws_invisible_pixels_black() -> None:
    frame = np.dstack([np.full((32, 32, 3), 200, np.uint8), np.zeros((32, 32), np.uint8)])
    frame[:, 16:, 3] = 255
    data = encode_video([frame, frame], 5, "mp4")
    with av.open(io.BytesIO(data)) as container:
        (got, _) = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert got[:, :12].max() < 20 and got[:, 20:].min() > 180


@pytest.mark.parametrize("fps", [0.05, 121, "5", True])
def test_frames_per_second_outside_earth_engines_range(fps: object) -> None:
    with pytest.raises(InvalidArgumentError, match="framesPerSecond must be a number between"):
        encode_video(few_color_frames(1), fps, "gif")  # type: ignore[arg-type]


def test_unknown_video_format() -> None:
    with pytest.raises(InvalidArgumentError, match="Unsupported video format 'webm'"):
        encode_video(few_color_frames(1), 5, "webm")  # type: ignore[arg-type]


def test_frames_of_different_sizes() -> None:
    with pytest.raises(ValueError, match="Frames differ in size"):
        encode_video([*few_color_frames(1), *gradient_frames(1, 8, 8)], 5, "gif")


@pytest.mark.parametrize(("orientation", "axis"), [("VERTICAL", 0), ("HORIZONTAL", 1)])
def test_png_filmstrip_is_the_frames_side_by_side(orientation: str, axis: int) -> None:
    frames = few_color_frames(3)
    data, media_type = encode_filmstrip(frames, "PNG", orientation)  # type: ignore[arg-type]
    assert media_type == "image/png"
    strip = np.asarray(PILImage.open(io.BytesIO(data)).convert("RGBA"))
    np.testing.assert_array_equal(strip, np.concatenate(frames, axis=axis))


def test_auto_filmstrip_is_jpeg_only_when_every_pixel_is_opaque() -> None:
    opaque = gradient_frames(2, 16, 24)
    data, media_type = encode_filmstrip(opaque, "AUTO_JPEG_PNG")
    assert media_type == "image/jpeg" and data[:2] == b"\xff\xd8"
    decoded = np.asarray(PILImage.open(io.BytesIO(data)))
    assert decoded.shape == (32, 24, 3)
    assert np.abs(decoded.astype(int) - np.concatenate(opaque)).mean() < 6
    _, media_type = encode_filmstrip(few_color_frames(2), "AUTO_JPEG_PNG")
    assert media_type == "image/png"
    # A half-transparent pixel (a fractional mask, ADR 0055) keeps its alpha in a PNG.
    translucent = [np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]) for f in opaque]
    translucent[1][0, 0, 3] = 128
    data, media_type = encode_filmstrip(translucent, "AUTO_JPEG_PNG")
    assert media_type == "image/png"
    assert np.asarray(PILImage.open(io.BytesIO(data)))[16, 0, 3] == 128
