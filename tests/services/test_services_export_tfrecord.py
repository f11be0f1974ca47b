"""TFRecord exports without a server: the files are read back with an independent reader (the
`tfrecord` package's reader and its own copy of TensorFlow's example.proto; CRCs checked with
the `crc32c` package) and compared with numpy slices of the source file the test wrote."""

from __future__ import annotations

import gzip
import json
import struct
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import crc32c
import numpy as np
import pytest
import rasterio
from affine import Affine
from tfrecord import example_pb2
from tfrecord.reader import tfrecord_iterator

from openee.api.export_options import image_options, table_file_format, tfrecord_options
from openee.encode.tfrecord import TfRecordOptions, table_records
from openee.errors import InvalidArgumentError, UnimplementedError
from openee.raster.grid import PixelGrid
from openee.raster.image import Band, Image
from openee.raster.sources import FileBand
from openee.services.export_image import ImageOptions
from openee.services.export_tfrecord import estimate_tfrecord, write_tfrecord_files
from openee.values.projection import Projection

WIDTH, HEIGHT = 70, 45
TRANSFORM = Affine(10, 0, 500000, 0, -10, 5000000)
NODATA = -1


class _Inline:
    """An executor that runs a chunk at once (the export only needs submit -> future)."""

    def submit(self, fn: Any, *args: Any) -> Future:
        future: Future = Future()
        future.set_result(fn(*args))
        return future


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, np.ndarray, np.ndarray]:
    """Two bands: int16 values 0.. and float32 halves; a masked square in band 1."""
    path = tmp_path_factory.mktemp("tfr") / "source.tif"
    ints = np.arange(WIDTH * HEIGHT, dtype=np.int16).reshape(HEIGHT, WIDTH)
    ints[10:14, 20:26] = NODATA
    floats = (np.arange(WIDTH * HEIGHT, dtype=np.float32) / 2).reshape(HEIGHT, WIDTH)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=WIDTH,
        height=HEIGHT,
        count=1,
        dtype="int16",
        crs="EPSG:32633",
        transform=TRANSFORM,
        nodata=NODATA,
    ) as dst:
        dst.write(ints, 1)
    fpath = path.with_name("floats.tif")
    with rasterio.open(
        fpath,
        "w",
        driver="GTiff",
        width=WIDTH,
        height=HEIGHT,
        count=1,
        dtype="float32",
        crs="EPSG:32633",
        transform=TRANSFORM,
    ) as dst:
        dst.write(floats, 1)
    return path, ints, floats


def _image(source: tuple[Path, np.ndarray, np.ndarray]) -> Image:
    path, _, _ = source
    projection = Projection("EPSG:32633", tuple(TRANSFORM)[:6])
    return Image(
        (
            Band("B1", FileBand(str(path), 1, "int16", NODATA), projection, (WIDTH, HEIGHT)),
            Band(
                "B2",
                FileBand(str(path.with_name("floats.tif")), 1, "float32", None),
                projection,
                (WIDTH, HEIGHT),
            ),
        )
    )


def _records(path: Path) -> list[dict[str, np.ndarray]]:
    """The Examples of a file, read by the tfrecord package; every CRC checked with crc32c."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    offset = 0
    while offset < len(raw):
        (length,) = struct.unpack_from("<Q", raw, offset)
        header_crc, data_crc = (
            struct.unpack_from("<I", raw, offset + 8)[0],
            struct.unpack_from("<I", raw, offset + 12 + length)[0],
        )
        assert header_crc == _masked(crc32c.crc32c(raw[offset : offset + 8]))
        assert data_crc == _masked(crc32c.crc32c(raw[offset + 12 : offset + 12 + length]))
        offset += 16 + length
    compression = "gzip" if path.suffix == ".gz" else None
    out = []
    for record in tfrecord_iterator(str(path), compression_type=compression):
        ex = example_pb2.Example()
        ex.ParseFromString(bytes(record))
        out.append(
            {
                k: np.array(v.float_list.value) if v.HasField("float_list") else v.bytes_list.value
                for k, v in ex.features.feature.items()
            }
        )
    return out


def _masked(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _export(source, tmp_path: Path, chunk: int = 64, **options: Any) -> list[tuple[Path, str]]:
    opts = ImageOptions(file_format="TF_RECORD_IMAGE", tfrecord=TfRecordOptions(**options))
    return write_tfrecord_files(
        _image(source), opts, tmp_path, _Inline(), chunk, lambda: None, lambda progress: None
    )


def _padded(values: np.ndarray, margin: tuple[int, int], fill: float) -> np.ndarray:
    mx, my = margin
    return np.pad(values.astype(np.float64), ((my, my), (mx, mx)), constant_values=fill)


@pytest.mark.parametrize("compress", [False, True])
def test_patches_with_margins_equal_the_source_in_row_major_order(
    source, tmp_path: Path, compress: bool
) -> None:
    _, ints, floats = source
    files = _export(
        source, tmp_path, patch=(16, 10), margin=(3, 2), compress=compress, default_value=-7.5
    )
    ext = ".tfrecord.gz" if compress else ".tfrecord"
    assert [s for _, s in files] == [f"-00000{ext}", "-mixer.json"]
    records = _records(files[0][0])
    cols, rows = WIDTH // 16, HEIGHT // 10  # 4 x 4: the partial last column and row dropped
    assert len(records) == rows * cols
    # masked (nodata in B1) -> defaultValue in every band; integer bands take its integer part
    masked = ints == NODATA
    b1 = _padded(np.where(masked, -7, ints), (3, 2), -7)
    b2 = _padded(np.where(masked, -7.5, floats), (3, 2), -7.5)
    for i, record in enumerate(records):
        r, c = divmod(i, cols)
        window = np.s_[r * 10 : r * 10 + 14, c * 16 : c * 16 + 22]
        assert set(record) == {"B1", "B2"}
        np.testing.assert_array_equal(record["B1"].reshape(14, 22), b1[window])
        np.testing.assert_array_equal(record["B2"].reshape(14, 22), b2[window])


def test_mixer_places_the_patches(source, tmp_path: Path) -> None:
    files = _export(source, tmp_path, patch=(16, 10), margin=(3, 2))
    mixer = json.loads(files[-1][0].read_text())
    assert mixer == {
        "projection": {
            "crs": "EPSG:32633",
            "affine": {"doubleMatrix": [10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0]},
        },
        "patchDimensions": [16, 10],
        "patchesPerRow": 4,
        "totalPatches": 16,
    }


def test_files_are_cut_at_max_file_size(source, tmp_path: Path) -> None:
    # A record of 2 bands x 8x5 floats is a few hundred bytes.
    files = _export(source, tmp_path, chunk=20, patch=(8, 5), max_file_bytes=1100)
    tfr = [p for p, s in files if s.endswith(".tfrecord")]
    (length,) = struct.unpack_from("<Q", tfr[0].read_bytes())
    per_file = 1100 // (16 + length)
    assert per_file >= 2  # several records a file, several files
    assert all(p.stat().st_size <= 1100 for p in tfr)
    patches = [rec for p in tfr for rec in _records(p)]
    assert len(patches) == (WIDTH // 8) * (HEIGHT // 5)
    assert len(tfr) == -(-len(patches) // per_file)
    assert [s for _, s in files][:2] == ["-00000.tfrecord", "-00001.tfrecord"]
    _, _, floats = source
    np.testing.assert_array_equal(patches[WIDTH // 8 + 1]["B2"].reshape(5, 8), floats[5:10, 8:16])


def test_masked_threshold_drops_patches_and_the_mixer(source, tmp_path: Path) -> None:
    # The masked square fills rows 10-13, columns 20-25: in 8x5 patches, the patch at row 2
    # (rows 10-14), column 3 (columns 24-31) is 8 of 40 pixels masked, column 2 (16-23) 16 of 40.
    files = _export(source, tmp_path, patch=(8, 5), max_masked_ratio=0.3)
    assert [s for _, s in files] == ["-00000.tfrecord"]
    records = _records(files[0][0])
    assert len(records) == (WIDTH // 8) * (HEIGHT // 5) - 1


def test_collapse_bands_is_one_chw_tensor_named_after_the_first_band(source, tmp_path) -> None:
    _, ints, floats = source
    files = _export(source, tmp_path, patch=(16, 10), collapse_bands=True)
    first = _records(files[0][0])[0]
    assert list(first) == ["B1"]
    chw = first["B1"].reshape(2, 10, 16)
    np.testing.assert_array_equal(chw[0], ints[:10, :16])
    np.testing.assert_array_equal(chw[1], floats[:10, :16])


def test_estimate_counts_patches_bytes_and_files(source, tmp_path: Path) -> None:
    opts = ImageOptions(
        file_format="TF_RECORD_IMAGE",
        tfrecord=TfRecordOptions(patch=(8, 5), max_file_bytes=1100),
    )
    out = estimate_tfrecord(_image(source), opts, 20)
    files = _export(source, tmp_path, chunk=20, patch=(8, 5), max_file_bytes=1100)
    tfr = [p for p, s in files if s.endswith(".tfrecord")]
    assert out["patches"] == 8 * 9
    assert out["files"] == len(tfr)
    assert out["uncompressedBytes"] == sum(p.stat().st_size for p in tfr)


def test_options_from_the_wire_as_the_client_sends_them() -> None:
    # ee.batch's mapping of formatOptions (python/ee/batch.py): kernelSize -> marginDimensions,
    # maxFileSize -> maxSizeBytes {"value": "<str>"}, maskedThreshold -> maxMaskedRatio.
    body = {
        "fileExportOptions": {
            "fileFormat": "TF_RECORD_IMAGE",
            "cloudStorageDestination": {"bucket": "b"},
            "tfRecordOptions": {
                "tileDimensions": {"width": 128, "height": 64},
                "marginDimensions": {"width": 128, "height": 32},
                "compress": True,
                "maxSizeBytes": {"value": "104857600"},
                "defaultValue": -1,
                "tensorDepths": {"B4": 3},
                "maxMaskedRatio": {"value": 0.5},
            },
        }
    }
    opts = image_options(body).tfrecord
    assert opts == TfRecordOptions(
        patch=(128, 64),
        margin=(64, 16),
        compress=True,
        max_file_bytes=104857600,
        default_value=-1.0,
        tensor_depths={"B4": 3},
        max_masked_ratio=0.5,
    )
    assert opts.tile() == (256, 96)  # patch + kernelSize, as the guide's U-Net example reads


@pytest.mark.parametrize(
    ("raw", "error", "match"),
    [
        ({}, InvalidArgumentError, "patchDimensions"),
        ({"tileDimensions": {"width": 0, "height": 4}}, InvalidArgumentError, "positive"),
        (
            {"tileDimensions": {"width": 4, "height": 4}, "sequenceData": True},
            UnimplementedError,
            "sequenceData",
        ),
        (
            {"tileDimensions": {"width": 4, "height": 4}, "tensorDepths": [1]},
            InvalidArgumentError,
            "tensorDepths",
        ),
        (
            {"tileDimensions": {"width": 4, "height": 4}, "maxMaskedRatio": {"value": 2}},
            InvalidArgumentError,
            "maskedThreshold",
        ),
    ],
)
def test_bad_options_are_refused(raw, error, match) -> None:
    with pytest.raises(error, match=match):
        tfrecord_options(raw)


def test_region_smaller_than_a_patch_is_refused(source, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="smaller than one patch"):
        _export(source, tmp_path, patch=(WIDTH + 1, 4))


def test_table_records_hold_properties_as_floats_and_text(tmp_path: Path) -> None:
    features = [
        {
            "type": "Feature",
            "id": "0",
            "geometry": {"type": "Point", "coordinates": [15.5, 45.5]},
            "properties": {"a": 1, "b": 2.5, "name": "x", "arr": [[1, 2], [3, 4]], "flag": True},
        },
        {"type": "Feature", "id": "1", "geometry": None, "properties": {"a": 3, "b": None}},
    ]
    assert table_file_format("TFRecord") == "TF_RECORD_TABLE"
    path = tmp_path / "t.tfrecord"
    path.write_bytes(table_records(features, ["a", "b", "name", "arr", "flag"]))
    first, second = _records(path)
    np.testing.assert_array_equal(first["a"], [1.0])
    np.testing.assert_array_equal(first["b"], [2.5])
    np.testing.assert_array_equal(first["arr"], [1, 2, 3, 4])
    np.testing.assert_array_equal(first["flag"], [1.0])
    assert list(first["name"]) == [b"x"]
    assert set(second) == {"a"}  # a null property has no feature
    path.write_bytes(table_records(features, ["b", "system:index", ".geo"]))
    first, _ = _records(path)
    assert set(first) == {"b", "system:index", ".geo"}
    assert json.loads(first[".geo"][0]) == features[0]["geometry"]


def test_grid_of_a_tfrecord_export_is_the_images(source) -> None:
    # (the patches tile the image's own grid from its top-left corner)
    image = _image(source)
    grid = PixelGrid("EPSG:32633", TRANSFORM, WIDTH, HEIGHT)
    opts = ImageOptions(file_format="TF_RECORD_IMAGE", tfrecord=TfRecordOptions(patch=(10, 9)))
    assert estimate_tfrecord(image, opts, 64)["grid"]["transform"] == list(grid.transform)[:6]
