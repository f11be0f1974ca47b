"""Request limits and the memory bound of chunked execution (in-process, no HTTP)."""

from __future__ import annotations

import io
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from affine import Affine

from openee.api.requests import pixels_request
from openee.engine.chunks import materialize
from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.image import constant_image
from openee.raster.sources import ConstantBand
from openee.services.pixels import compute_pixels
from openee.settings import Limits


def grid_request(width: int, height: int, **extra: Any) -> dict[str, Any]:
    """The wire form of an NPY request on a width x height grid."""
    return {
        "fileFormat": "NPY",
        "grid": {
            "crsCode": "EPSG:4326",
            "affineTransform": {
                "scaleX": 0.001,
                "translateX": 15,
                "scaleY": -0.001,
                "translateY": 46,
            },
            "dimensions": {"width": width, "height": height},
        },
        **extra,
    }


@pytest.fixture(scope="module")
def executor() -> ThreadPoolExecutor:
    with ThreadPoolExecutor(2) as pool:
        yield pool


def test_strict_profile_uses_earth_engines_limits_and_wording(executor: ThreadPoolExecutor) -> None:
    strict = Limits.strict()
    assert strict.max_response_bytes == 48 * 1024 * 1024
    image = constant_image([1.5, 2.5])  # two float64 bands: 16 bytes per pixel
    with pytest.raises(
        InvalidArgumentError,
        match=r"Total request size \(\d+ bytes\) must be less than or equal to 50331648 bytes",
    ):
        compute_pixels(image, pixels_request(grid_request(2000, 2000)), executor, strict, 512)
    with pytest.raises(InvalidArgumentError, match="at most 32768 pixels per side"):
        compute_pixels(image, pixels_request(grid_request(40000, 10)), executor, strict, 512)


def test_default_profile_lifts_the_48_mib_cap(executor: ThreadPoolExecutor) -> None:
    image = constant_image([1.5, 2.5])
    result = compute_pixels(
        image, pixels_request(grid_request(2000, 2000)), executor, Limits(), 512
    )
    arr = np.load(io.BytesIO(result.content))
    assert arr.shape == (2000, 2000) and float(arr["constant_1"][1999, 1999]) == 2.5


def test_memory_budget_is_configurable(executor: ThreadPoolExecutor) -> None:
    small = Limits(memory_budget_bytes=100 * 100 * 8 * 1)  # under 1x the raw NPY output
    with pytest.raises(InvalidArgumentError, match="more than the server's budget"):
        compute_pixels(
            constant_image([1.5]), pixels_request(grid_request(100, 100)), executor, small, 512
        )


@pytest.mark.parametrize("bad", [{"width": 0, "height": 5}, {"width": -3, "height": 5}])
def test_non_positive_dimensions_are_rejected(
    executor: ThreadPoolExecutor, bad: dict[str, int]
) -> None:
    request = grid_request(1, 1)
    request["grid"]["dimensions"] = bad
    with pytest.raises(InvalidArgumentError, match="must be positive"):
        compute_pixels(constant_image([1]), pixels_request(request), executor, Limits(), 512)


def test_peak_memory_does_not_grow_with_the_number_of_chunks(executor: ThreadPoolExecutor) -> None:
    grid = PixelGrid("EPSG:4326", Affine(0.001, 0, 15, 0, -0.001, 46), 2048, 2048)
    source = ConstantBand(3.0, "float64")
    output_bytes = 2048 * 2048 * (8 + 1)  # data plus mask

    def peak(chunk: int) -> int:
        tracemalloc.start()
        try:
            materialize([source], grid, executor, chunk)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    few, many = peak(1024), peak(128)  # 4 chunks vs 256 chunks
    assert many - output_bytes < 8 * 128 * 128 * 9 + 2_000_000
    assert many <= few


PEAK_SCRIPT = """
import resource, sys
from concurrent.futures import ThreadPoolExecutor
from openee.api.requests import pixels_request
from openee.services.pixels import compute_pixels
from openee.raster.image import constant_image
from openee.settings import Limits
request = {"fileFormat": sys.argv[1], "grid": {"crsCode": "EPSG:4326",
    "affineTransform": {"scaleX": 0.0001, "translateX": 15, "scaleY": -0.0001, "translateY": 46},
    "dimensions": {"width": 4096, "height": 4096}}}
image = constant_image([1.5, 2.5])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with ThreadPoolExecutor(2) as pool:
    result = compute_pixels(image, pixels_request(request), pool, Limits(), 1024)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before * 1024, after * 1024, len(result.content))
"""


@pytest.mark.parametrize("file_format", ["NPY", "GEO_TIFF"])
def test_measured_peak_memory_stays_under_the_estimate_the_budget_checks(file_format: str) -> None:
    import subprocess
    import sys

    from openee.encode.formats import FORMATS

    done = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, file_format],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, after, response = (int(v) for v in done.stdout.split())
    pixels = 4096 * 4096 * 2 * 8
    if file_format == "NPY":
        assert response > pixels  # the NPY holds every pixel
    assert after - before <= FORMATS[file_format].peak_per_output_byte * pixels
