"""NPY image exports without a server: the options the client sends, and the file, written
window by window (and resumed from the ledger), byte for byte what numpy writes for the same
structured array."""

from __future__ import annotations

import io
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from openee.api.export_options import image_options
from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.image import Band, Image
from openee.raster.sources import ConstantBand
from openee.services.export_image import write_image_files
from openee.values.projection import Projection

GRID = PixelGrid("EPSG:4326", Affine(1, 0, 0, 0, -1, 0), 600, 300)


class _Counting:
    """An executor that runs a chunk at once and counts them."""

    def __init__(self) -> None:
        self.calls = 0

    def submit(self, fn, *args):
        self.calls += 1
        future: Future = Future()
        future.set_result(fn(*args))
        return future


def _image() -> Image:
    projection = Projection(GRID.crs, tuple(GRID.transform)[:6])
    size = (GRID.width, GRID.height)
    return Image(
        (
            Band("a", ConstantBand(3.0, "uint16"), projection, size),
            Band("b", ConstantBand(0.25, "float32"), projection, size),
            Band("c", ConstantBand(9.0, "int8", masked=True), projection, size),
        )
    )


def test_npy_options_as_the_client_sends_them() -> None:
    opts = image_options({"fileExportOptions": {"fileFormat": "NPY"}, "maxPixels": {"value": "7"}})
    assert (opts.file_format, opts.max_pixels, opts.skip_empty) == ("NPY", 7, False)
    with pytest.raises(InvalidArgumentError, match="geoTiffOptions cannot be given with"):
        image_options(
            {"fileExportOptions": {"fileFormat": "NPY", "geoTiffOptions": {"cloudOptimized": 1}}}
        )
    with pytest.raises(InvalidArgumentError, match="use GEO_TIFF, NPY or TF_RECORD_IMAGE"):
        image_options({"fileExportOptions": {"fileFormat": "PNG"}})


def test_npy_file_resumed_from_its_ledger_is_numpys_file(tmp_path: Path) -> None:
    opts = image_options({"fileExportOptions": {"fileFormat": "NPY"}})

    class Stop(Exception):
        pass

    def stop_after_two(progress) -> None:
        if progress.done == 2:
            raise Stop()

    with pytest.raises(Stop):
        write_image_files(_image(), opts, tmp_path, _Counting(), 256, lambda: None, stop_after_two)
    executor = _Counting()
    files = write_image_files(_image(), opts, tmp_path, executor, 256, lambda: None, lambda p: None)
    assert executor.calls == 3 * 2 - 2  # six 256 x 256 windows, two done before the stop
    ((path, suffix),) = files
    assert suffix == ".npy"
    expected = np.zeros((300, 600), dtype=[("a", "<u2"), ("b", "<f4"), ("c", "i1")])
    expected["a"], expected["b"] = 3, 0.25  # c is masked everywhere: 0
    written = io.BytesIO()
    np.save(written, expected)
    assert path.read_bytes() == written.getvalue()


def test_a_large_npy_grid_stays_one_file(tmp_path: Path) -> None:
    # Past the 32768-pixel side at which a GeoTIFF export without fileDimensions is split.
    opts = image_options({"fileExportOptions": {"fileFormat": "NPY"}})
    grid = PixelGrid("EPSG:4326", Affine(1, 0, 0, 0, -1, 0), 40000, 1)
    projection = Projection(grid.crs, tuple(grid.transform)[:6])
    image = Image((Band("a", ConstantBand(1.0, "uint8"), projection, (40000, 1)),))
    files = write_image_files(
        image, opts, tmp_path, _Counting(), 1024, lambda: None, lambda p: None
    )
    assert [suffix for _, suffix in files] == [".npy"]
    assert np.load(files[0][0])["a"].shape == (1, 40000)
