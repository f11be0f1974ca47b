"""Video and filmstrip thumbnails through the stock client: `getVideoThumbURL` and
`getFilmstripThumbURL` make ids with an authenticated call; the URLs are fetched with plain
`requests` and no credentials, decoded (Pillow for GIF/PNG/JPEG, FFmpeg through PyAV for MP4),
and each frame is checked against the oracle (rasterio/numpy on the demo files) or against the
single-image `getThumbURL` of the same image and parameters."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
import requests
from affine import Affine
from oracle import COLLECTION_ID, Grid, load_items, select_items, warp_band
from PIL import Image as PILImage
from PIL import ImageSequence
from pyproj import Transformer

UTM = "EPSG:32633"
REGION = [15.6, 45.5, 15.8, 45.6]  # inside tile 33TWL (lon/lat)
START, END = "2023-08-01", "2023-09-01"
POINT = (15.7, 45.55)
WIDTH, HEIGHT = 64, 48
ITEMS = {item.id: item for item in load_items()}


def region_grid() -> Grid:
    """The grid clipToBoundsAndScale gives REGION at WIDTH x HEIGHT: its bounds in UTM."""
    lons = [REGION[0], REGION[2], REGION[2], REGION[0]]
    lats = [REGION[1], REGION[1], REGION[3], REGION[3]]
    xs, ys = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(lons, lats)
    xmin, xmax, ymin, ymax = min(xs), max(xs), min(ys), max(ys)
    transform = Affine((xmax - xmin) / WIDTH, 0, xmin, 0, -(ymax - ymin) / HEIGHT, ymax)
    return Grid(UTM, transform, WIDTH, HEIGHT)


def grey_oracle(item_id: str, band: str, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """(grey levels, valid) of one band stretched lo..hi, as a thumbnail draws it."""
    values = warp_band(ITEMS[item_id].band_path(band), region_grid())
    unit = np.clip((values.astype(np.float64) - lo) / (hi - lo), 0, 1)
    return np.rint(unit * 255).astype(np.uint8), values != 0


def fetch(url: str) -> requests.Response:
    """A plain GET, as a browser or <img> tag would: no credentials at all."""
    response = requests.get(url, timeout=120)
    assert response.status_code == 200, response.text[:500]
    return response


def rgba(content: bytes) -> np.ndarray:
    return np.asarray(PILImage.open(io.BytesIO(content)).convert("RGBA"))


def gif_frames(content: bytes) -> list[np.ndarray]:
    image = PILImage.open(io.BytesIO(content))
    assert image.format == "GIF"
    return [np.asarray(frame.convert("RGBA")) for frame in ImageSequence.Iterator(image)]


@pytest.fixture(scope="module")
def collection(ee_api):
    return (
        ee_api.ImageCollection(COLLECTION_ID)
        .filterBounds(ee_api.Geometry.Point(*POINT))
        .filterDate(START, END)
    )


@pytest.fixture(scope="module")
def frame_ids(collection) -> list[str]:
    """The collection's images in its order, which must be the oracle's images."""
    ids = collection.aggregate_array("system:index").getInfo()
    assert sorted(ids) == sorted(i.id for i in select_items(START, END, *POINT))
    assert len(ids) == 5
    return ids


@pytest.mark.parametrize(
    ("extra", "duration_ms"), [({"framesPerSecond": 4}, 250), ({}, 200)], ids=["4fps", "default"]
)
def test_grey_video_frames_match_the_oracle(
    ee_api, server, collection, frame_ids, extra: dict, duration_ms: int
) -> None:
    url = collection.getVideoThumbURL(
        {"region": REGION, "dimensions": f"{WIDTH}x{HEIGHT}", "bands": ["B8"], "min": 0,
         "max": 5000, **extra}
    )  # fmt: skip
    assert url.startswith(f"{server.base_url}/v1/projects/{server.project}/videoThumbnails/")
    response = fetch(url)
    assert response.headers["content-type"] == "image/gif"
    frames = gif_frames(response.content)
    assert len(frames) == len(frame_ids)
    gif = PILImage.open(io.BytesIO(response.content))
    # Earth Engine's framesPerSecond defaults to 5.
    assert [f.info["duration"] for f in ImageSequence.Iterator(gif)] == [duration_ms] * len(frames)
    for frame, item_id in zip(frames, frame_ids, strict=True):
        assert frame.shape == (HEIGHT, WIDTH, 4)
        grey, valid = grey_oracle(item_id, "B8", 0, 5000)
        # At most 256 grey levels: the GIF holds them exactly; masked pixels are transparent.
        for channel in range(3):
            np.testing.assert_array_equal(frame[..., channel][valid], grey[valid])
        np.testing.assert_array_equal(frame[..., 3], np.where(valid, 255, 0))


def test_rgb_video_frames_match_the_thumbnails(ee_api, collection, frame_ids) -> None:
    params = {"region": REGION, "dimensions": [WIDTH, HEIGHT], "bands": ["B4", "B3", "B2"],
              "min": 0, "max": 3000}  # fmt: skip
    frames = gif_frames(fetch(collection.getVideoThumbURL(params)).content)
    assert len(frames) == len(frame_ids)
    for frame, item_id in zip(frames, frame_ids, strict=True):
        image = ee_api.Image(f"{COLLECTION_ID}/{item_id}")
        thumbnail = rgba(fetch(image.getThumbURL({**params, "format": "png"})).content)
        assert frame.shape == thumbnail.shape == (HEIGHT, WIDTH, 4)
        np.testing.assert_array_equal(frame[..., 3], thumbnail[..., 3])
        # More than 256 colours: the GIF's palette (median cut, per frame) is close, not exact.
        error = np.abs(frame[..., :3].astype(int) - thumbnail[..., :3])[thumbnail[..., 3] > 0]
        assert error.mean() < 4


def test_filmstrip_is_the_thumbnails_top_to_bottom(ee_api, collection, frame_ids) -> None:
    params = {"region": REGION, "dimensions": f"{WIDTH}x{HEIGHT}", "bands": ["B4", "B3", "B2"],
              "min": 0, "max": 3000}  # fmt: skip
    response = fetch(collection.getFilmstripThumbURL({**params, "format": "png"}))
    assert response.headers["content-type"] == "image/png"
    strip = rgba(response.content)
    assert strip.shape == (len(frame_ids) * HEIGHT, WIDTH, 4)
    for k, item_id in enumerate(frame_ids):
        image = ee_api.Image(f"{COLLECTION_ID}/{item_id}")
        thumbnail = rgba(fetch(image.getThumbURL({**params, "format": "png"})).content)
        np.testing.assert_array_equal(strip[k * HEIGHT : (k + 1) * HEIGHT], thumbnail)
    # And against the oracle: the red channel of the first strip is B4 stretched 0..3000.
    red, valid = grey_oracle(frame_ids[0], "B4", 0, 3000)
    np.testing.assert_array_equal(strip[:HEIGHT, :, 0][valid], red[valid])


def test_jpeg_filmstrip(collection, frame_ids) -> None:
    url = collection.getFilmstripThumbURL(
        {"region": REGION, "dimensions": f"{WIDTH}x{HEIGHT}", "bands": ["B8"], "min": 0,
         "max": 5000, "format": "jpg"}
    )  # fmt: skip
    response = fetch(url)
    assert response.headers["content-type"] == "image/jpeg"
    strip = np.asarray(PILImage.open(io.BytesIO(response.content)).convert("L"))
    assert strip.shape == (len(frame_ids) * HEIGHT, WIDTH)
    grey, valid = grey_oracle(frame_ids[-1], "B8", 0, 5000)
    last = strip[-HEIGHT:].astype(int)
    assert np.abs(last - np.where(valid, grey, 0)).mean() < 6  # JPEG (quality 90) is lossy


def expression(ee_api, value) -> dict:
    return ee_api.serializer.encode(value, for_cloud_api=True)


def test_mp4_video(ee_api, server, authed_session, collection, frame_ids) -> None:
    """Beyond Earth Engine (whose video thumbnails are GIF only): fileFormat MP4, H.264."""
    visualized = collection.map(
        lambda img: img.clipToBoundsAndScale(
            geometry=ee_api.Geometry.Rectangle(REGION, None, False), width=WIDTH, height=HEIGHT
        ).visualize(bands=["B8"], min=0, max=5000)
    )
    body = {"expression": expression(ee_api, visualized), "fileFormat": "MP4",
            "videoOptions": {"framesPerSecond": 2.5}}  # fmt: skip
    created = authed_session.post(
        f"{server.base_url}/v1/projects/{server.project}/videoThumbnails", json=body
    )
    assert created.status_code == 200, created.text
    response = fetch(f"{server.base_url}/v1/{created.json()['name']}:getPixels")
    assert response.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(response.content)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.average_rate == 2.5
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(frames) == len(frame_ids)
    for frame, item_id in zip(frames, frame_ids, strict=True):
        assert frame.shape == (HEIGHT, WIDTH, 3)
        grey, valid = grey_oracle(item_id, "B8", 0, 5000)
        assert np.abs(frame[..., 1].astype(int) - np.where(valid, grey, 0)).mean() < 4


def test_too_many_frames_through_the_client(ee_api) -> None:
    # Earth Engine's VideoOptions.maxFrames defaults to 1000 frames.
    many = ee_api.ImageCollection(ee_api.List.repeat(ee_api.Image(1).toByte(), 1001))
    with pytest.raises(
        ee_api.EEException, match=r"Too many frames: .* 1001 images, more than maxFrames \(1000\)"
    ):
        many.getVideoThumbURL({"region": REGION, "dimensions": 16, "min": 0, "max": 1})


def test_frames_per_second_out_of_range_through_the_client(ee_api, collection) -> None:
    with pytest.raises(ee_api.EEException, match=r"framesPerSecond must be a number between 0\.1"):
        collection.getVideoThumbURL({"region": REGION, "dimensions": 16, "bands": ["B8"],
                                     "min": 0, "max": 5000, "framesPerSecond": 500})  # fmt: skip


@pytest.mark.parametrize(
    ("resource", "extra", "message"),
    [
        ("videoThumbnails", {"fileFormat": "WEBM"}, "Invalid value for fileFormat: 'WEBM'"),
        ("filmstripThumbnails", {"fileFormat": "GEO_TIFF"}, "Invalid value for fileFormat"),
        ("videoThumbnails", {"videoOptions": {"maxFrames": 2}}, "Too many frames: the Image"),
        ("videoThumbnails", {"videoOptions": {"maxFrames": "x"}}, "maxFrames must be a positive"),
        ("videoThumbnails", {"videoOptions": {"maxPixelsPerFrame": {"value": "100"}}},
         "Too many pixels per frame"),
        ("filmstripThumbnails", {"orientation": "DIAGONAL"}, "Invalid value for orientation"),
    ],
)  # fmt: skip
def test_bad_requests_answer_400(
    ee_api, server, authed_session, collection, resource: str, extra: dict, message: str
) -> None:
    small = collection.map(
        lambda img: img.clipToBoundsAndScale(
            geometry=ee_api.Geometry.Rectangle(REGION, None, False), width=16, height=12
        ).visualize(bands=["B8"], min=0, max=5000)
    )
    body = {"expression": expression(ee_api, small), **extra}
    response = authed_session.post(
        f"{server.base_url}/v1/projects/{server.project}/{resource}", json=body
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    assert message in error["message"]


def test_an_image_is_not_a_collection(ee_api, server, authed_session) -> None:
    body = {"expression": expression(ee_api, ee_api.Image(1).toByte())}
    response = authed_session.post(
        f"{server.base_url}/v1/projects/{server.project}/videoThumbnails", json=body
    )
    assert response.status_code == 400
    assert (
        "Expected an ImageCollection expression, got Image" in response.json()["error"]["message"]
    )


def test_an_id_only_draws_as_its_own_kind(collection, server) -> None:
    url = collection.getVideoThumbURL({"region": REGION, "dimensions": 16, "bands": ["B8"],
                                       "min": 0, "max": 5000})  # fmt: skip
    other = url.replace("/videoThumbnails/", "/filmstripThumbnails/")
    response = requests.get(other, timeout=60)
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"
