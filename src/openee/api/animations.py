"""Video and filmstrip thumbnails of an ImageCollection (`getVideoThumbURL`,
`getFilmstripThumbURL`): checked when their id is created, drawn when it is fetched.

They work as thumbnails do (api/capabilities.py): creating an id is an authenticated compute
call that evaluates the expression (no pixels) and stores the request; fetching the id draws
it as its creator. Every image of the collection is one frame, drawn as its own thumbnail
would be (the same visualization and PNG pixels) on ONE grid: the request's `grid`, or else the
grid the first image's thumbnail would have (with the stock client's `region`/`dimensions`,
every image is clipped to the same bounds and scaled to the same size anyway). A video is a
GIF (or an MP4, beyond Earth Engine) at `videoOptions.framesPerSecond`; a filmstrip is one
PNG or JPEG with the frames top to bottom (or left to right).

Earth Engine's VideoOptions bound a video: `maxFrames` (1000 by default) and
`maxPixelsPerFrame` (1e8); `framesPerSecond` is 0.1 to 120 (5 by default). Going over a bound
answers 400, when the id is created.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, cast

import numpy as np
from fastapi.responses import Response

from openee.api import capabilities
from openee.api.evaluation import evaluate_as
from openee.api.requests import grid_request, visualization
from openee.api.state import AppState
from openee.auth import Principal
from openee.auth.capabilities import Capability
from openee.auth.iam import Iam
from openee.encode.video import (
    FilmstripFormat,
    Orientation,
    VideoFormat,
    encode_filmstrip,
    encode_video,
    frame_rate,
)
from openee.encode.visualize import Visualization
from openee.errors import GridTooLargeError, InvalidArgumentError
from openee.raster.grid import PixelGrid, affine_to_wire
from openee.raster.image import Image, ImageCollection
from openee.services.pixels import check_limits, compute_rgba, resolve_grid
from openee.services.requests import GridRequest, PixelsRequest
from openee.settings import Limits

AnimationKind = Literal["video", "filmstrip"]

# Earth Engine's VideoOptions defaults (REST reference, projects.videoThumbnails).
DEFAULT_FPS = 5.0
DEFAULT_MAX_FRAMES = 1000
DEFAULT_MAX_PIXELS_PER_FRAME = 100_000_000
VIDEO_FORMATS: dict[str, VideoFormat] = {"GIF": "gif", "MP4": "mp4"}
FILMSTRIP_FORMATS = ("PNG", "JPEG", "AUTO_JPEG_PNG")
_MEDIA_TYPES = {"gif": "image/gif", "mp4": "video/mp4"}
# Peak memory per pixel of a filmstrip: its RGBA frames, the stacked strip and the encoder's copy.
_FILMSTRIP_BYTES_PER_PIXEL = 12
# Peak memory per pixel of a video beyond the frame being drawn: the encoded file (a GIF of
# noise takes about 1.5 bytes per pixel after LZW).
_VIDEO_BYTES_PER_PIXEL = 2


def create(
    state: AppState, principal: Principal, project: str, body: dict[str, Any], kind: AnimationKind
) -> str:
    """Authorizes and checks a video or filmstrip request, stores it and returns its new id."""
    Iam(state.auth).authorize(principal, "compute", project)
    stored = _prepare(state, principal, project, body, kind)
    return state.capabilities.create(kind, project, principal.email, principal.scopes, stored)


def render(state: AppState, capability: Capability) -> Response:
    """Draws a stored request as its creator: every frame, then the GIF, MP4 or filmstrip."""
    principal = capabilities.computing_principal(state, capability)
    stored = capability.request
    kind = cast(AnimationKind, capability.kind)
    images = _frames(state, principal, capability.project, stored["expression"])
    grid = resolve_grid(images[0], grid_request(stored["grid"]))
    _check_frames(images, grid, kind, stored.get("maxFrames", DEFAULT_MAX_FRAMES), state)
    vis = stored.get("visualizationOptions")
    pixels = _draw(state, images, grid, visualization(vis) if vis else None)
    if kind == "video":
        fmt = VIDEO_FORMATS[stored["fileFormat"]]
        content = encode_video(pixels, stored["framesPerSecond"], fmt)
        media_type = _MEDIA_TYPES[fmt]
    else:
        content, media_type = encode_filmstrip(
            list(pixels),
            cast(FilmstripFormat, stored["fileFormat"]),
            cast(Orientation, stored["orientation"]),
        )
    return capabilities.capability_response(capability, content, media_type)


def _prepare(
    state: AppState, principal: Principal, project: str, body: dict[str, Any], kind: AnimationKind
) -> dict[str, Any]:
    if "expression" not in body:
        raise InvalidArgumentError("The request has no 'expression'.")
    stored: dict[str, Any] = {"expression": body["expression"]}
    if kind == "video":
        stored.update(_video_options(body))
    else:
        stored.update(_filmstrip_options(body))
    vis = body.get("visualizationOptions")
    visualization(vis)  # raises for malformed options
    if vis:
        stored["visualizationOptions"] = vis
    images = _frames(state, principal, project, body["expression"])
    requested = grid_request(body.get("grid"))
    if requested is None:
        requested = grid_request(capabilities.default_thumbnail_grid(images[0], visual=True))
    grid = resolve_grid(images[0], requested)
    max_pixels = stored.pop("maxPixelsPerFrame", DEFAULT_MAX_PIXELS_PER_FRAME)
    if grid.width * grid.height > max_pixels:
        raise InvalidArgumentError(
            f"Too many pixels per frame: {grid.width}x{grid.height} = {grid.width * grid.height}"
            f" (maxPixelsPerFrame is {max_pixels})."
        )
    _check_frames(images, grid, kind, stored.get("maxFrames", DEFAULT_MAX_FRAMES), state)
    # The resolved grid, so that every fetch draws every frame on exactly this one.
    stored["grid"] = {
        "crsCode": grid.crs,
        "affineTransform": affine_to_wire(grid.transform),
        "dimensions": {"width": grid.width, "height": grid.height},
    }
    return stored


def _video_options(body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("fileFormat") or "GIF"
    if not isinstance(name, str):
        raise InvalidArgumentError("fileFormat must be a string.")
    name = "GIF" if name.upper() == "VIDEO_FILE_FORMAT_UNSPECIFIED" else name.upper()
    if name not in VIDEO_FORMATS:
        raise InvalidArgumentError(
            f"Invalid value for fileFormat: '{body.get('fileFormat')}'. A video thumbnail is "
            f"one of: {', '.join(VIDEO_FORMATS)}."
        )
    options = body.get("videoOptions") or {}
    if not isinstance(options, dict):
        raise InvalidArgumentError("videoOptions must be an object.")
    fps = options.get("framesPerSecond", DEFAULT_FPS)
    frame_rate(fps)  # raises outside 0.1..120
    return {
        "fileFormat": name,
        "framesPerSecond": fps,
        "maxFrames": _positive_int(options.get("maxFrames"), "maxFrames", DEFAULT_MAX_FRAMES),
        "maxPixelsPerFrame": _positive_int(
            options.get("maxPixelsPerFrame"), "maxPixelsPerFrame", DEFAULT_MAX_PIXELS_PER_FRAME
        ),
    }


def _filmstrip_options(body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("fileFormat") or "AUTO_JPEG_PNG"
    if not isinstance(name, str) or name.upper() not in FILMSTRIP_FORMATS:
        raise InvalidArgumentError(
            f"Invalid value for fileFormat: '{body.get('fileFormat')}'. A filmstrip thumbnail "
            f"is one of: {', '.join(FILMSTRIP_FORMATS)}."
        )
    orientation = body.get("orientation") or "VERTICAL"
    if orientation == "ORIENTATION_UNSPECIFIED":
        orientation = "VERTICAL"
    if orientation not in ("VERTICAL", "HORIZONTAL"):
        raise InvalidArgumentError(
            f"Invalid value for orientation: '{orientation}'. Supported: VERTICAL, HORIZONTAL."
        )
    return {"fileFormat": name.upper(), "orientation": orientation}


def _positive_int(value: object, name: str, default: int) -> int:
    """An integer option, also as Earth Engine's Int64Value (a string, or {"value": ...})."""
    if value is None:
        return default
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"videoOptions.{name} must be a positive integer.")
    return value


def _frames(state: AppState, principal: Principal, project: str, expression: Any) -> list[Image]:
    """The images of the request's ImageCollection, in order (lazily: no pixels yet)."""
    value = evaluate_as(state, principal, project, expression)
    if not isinstance(value, ImageCollection):
        raise InvalidArgumentError(
            f"Expected an ImageCollection expression, got {type(value).__name__}."
        )
    images = value.images
    if not images:
        raise InvalidArgumentError("The ImageCollection is empty: there is no frame to draw.")
    return images


def _check_frames(
    images: list[Image], grid: PixelGrid, kind: AnimationKind, max_frames: int, state: AppState
) -> None:
    """The bounds of the whole request, then each frame's as a thumbnail's."""
    limits: Limits = state.settings.limits
    if len(images) > max_frames:
        raise InvalidArgumentError(
            f"Too many frames: the ImageCollection has {len(images)} images, more than "
            f"maxFrames ({max_frames})."
        )
    pixels = len(images) * grid.width * grid.height
    if kind == "filmstrip":
        side = len(images) * max(grid.width, grid.height)
        if side > limits.max_grid_side:
            raise GridTooLargeError(
                f"The filmstrip would be {side} pixels long: at most {limits.max_grid_side} "
                "pixels per side; use fewer images or smaller dimensions."
            )
    per_pixel = _FILMSTRIP_BYTES_PER_PIXEL if kind == "filmstrip" else _VIDEO_BYTES_PER_PIXEL
    if pixels * per_pixel > limits.memory_budget_bytes:
        raise GridTooLargeError(
            f"The {kind} needs about {pixels * per_pixel // 2**20} MiB of memory, more than the "
            f"server's budget of {limits.memory_budget_bytes // 2**20} MiB per request: use "
            "fewer images or smaller dimensions."
        )
    for image in images:
        if len(image.bands) not in (1, 3):
            raise InvalidArgumentError(
                f"Expected 1 or 3 bands for each frame, got {len(image.bands)}; use bands and "
                "min/max, or visualize the images first."
            )
        check_limits(image, grid, limits)


def _draw(
    state: AppState, images: list[Image], grid: PixelGrid, vis: Visualization | None
) -> Iterator[np.ndarray]:
    """Each image's RGBA pixels on `grid`, drawn one at a time as they are asked for."""
    settings = state.settings
    for image in images:
        shown = vis if vis is not None else Visualization()
        request = PixelsRequest("PNG", visualization=shown, grid=GridRequest.of(grid))
        yield compute_rgba(image, request, state.executor, settings.limits, settings.chunk_size)
