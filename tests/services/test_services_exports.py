"""Export building blocks without a server: option parsing, Earth Engine's file names, the
bucket map, atomic local publishing, and the operations store's extra metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from openee.api.export_options import image_options
from openee.errors import InvalidArgumentError
from openee.raster.grid import PixelGrid
from openee.raster.image import Band, Image
from openee.raster.sources import ConstantBand
from openee.services.destinations import (
    bucket_destination,
    drive_destination,
    drive_file,
    safe_relative,
)
from openee.services.export_image import (
    ImageOptions,
    check_max_pixels,
    file_parts,
    write_image_files,
)
from openee.services.operations import OperationStore
from openee.settings import parse_buckets
from openee.values.projection import Projection

GRID = PixelGrid("EPSG:32633", Affine(10, 0, 500000, 0, -10, 5000000), 2500, 1300)


def test_file_parts_use_earth_engines_names_and_tile_the_grid() -> None:
    parts = file_parts(GRID, (1024, 1024), ".tif")
    assert [p.suffix for p in parts] == [
        f"-{r:010d}-{c:010d}.tif" for r in (0, 1024) for c in (0, 1024, 2048)
    ]
    covered = np.zeros(GRID.shape, dtype=int)
    for p in parts:
        assert p.grid.transform == GRID.transform @ Affine.translation(p.col, p.row)
        covered[p.row : p.row + p.grid.height, p.col : p.col + p.grid.width] += 1
    assert (covered == 1).all()


def test_a_grid_within_one_file_is_named_by_the_prefix_alone() -> None:
    assert [p.suffix for p in file_parts(GRID, (4096, 4096), ".tif")] == [".tif"]


def test_image_options_from_the_clients_wire_form() -> None:
    body = {
        "fileExportOptions": {
            "fileFormat": "GEO_TIFF",
            "cloudStorageDestination": {"bucket": "b", "filenamePrefix": "p"},
            "geoTiffOptions": {
                "cloudOptimized": True,
                "noData": {"floatValue": 0},
                "tileDimensions": {"width": 4096, "height": 2048},
                "skipEmptyFiles": True,
                "tileSize": {"value": 512},
            },
        },
        "maxPixels": {"value": "10000000000"},
    }
    assert image_options(body) == ImageOptions(
        cloud_optimized=True,
        no_data=0.0,
        file_dimensions=(4096, 2048),
        tile_size=512,
        skip_empty=True,
        max_pixels=10_000_000_000,
    )


@pytest.mark.parametrize(
    ("tiff", "error", "match"),
    [
        ({"tileDimensions": {"width": 300, "height": 256}}, InvalidArgumentError, "multiple"),
        ({"tileSize": {"value": 0}}, InvalidArgumentError, "positive"),
    ],
)
def test_bad_image_options_are_refused(tiff, error, match) -> None:
    body = {"fileExportOptions": {"fileFormat": "GEO_TIFF", "geoTiffOptions": tiff}}
    with pytest.raises(error, match=match):
        image_options(body)


def test_max_pixels_message_is_earth_engines() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        check_max_pixels(GRID, 1000)
    assert info.value.message == (
        "Export too large: specified 3250000 pixels (max: 1000). Specify higher maxPixels "
        "value if you intend to export a large area."
    )


@pytest.mark.parametrize("bad", ["../x", "a/../../b", "a\\b", "", "a/./b", "a/\x00b"])
def test_prefixes_cannot_escape(bad: str) -> None:
    with pytest.raises(InvalidArgumentError):
        safe_relative(bad, "filenamePrefix")


def test_prefixes_are_relative_to_their_root() -> None:
    assert safe_relative("/abs//x", "filenamePrefix") == "abs/x"


def test_bucket_map_and_default_folders(tmp_path: Path) -> None:
    buckets = parse_buckets("results=s3://r/ee, local=/srv/out")
    assert buckets == (("results", "s3://r/ee"), ("local", "/srv/out"))
    assert bucket_destination(tmp_path, buckets, "results", "a/b").uri(".tif") == (
        "s3://r/ee/a/b.tif"
    )
    assert (
        bucket_destination(tmp_path, buckets, "local", "x").uri(".tif") == "file:///srv/out/x.tif"
    )
    other = bucket_destination(tmp_path, buckets, "other-bucket", "p")
    assert Path(other.root) == tmp_path / "buckets" / "other-bucket"
    with pytest.raises(InvalidArgumentError):
        bucket_destination(tmp_path, buckets, "../etc", "p")
    drive = drive_destination(tmp_path, "sa@p.iam.gserviceaccount.com", "out", "f")
    assert Path(drive.root) == tmp_path / "drive" / "sa@p.iam.gserviceaccount.com"
    assert drive.prefix == "out/f"


def test_local_publish_leaves_only_complete_files(tmp_path: Path) -> None:
    staged = tmp_path / "staged.bin"
    staged.write_bytes(b"x" * 1000)
    dest = bucket_destination(tmp_path, (), "bucket", "dir/name")
    uris = dest.publish([(staged, ".bin")])
    target = tmp_path / "buckets" / "bucket" / "dir" / "name.bin"
    assert uris == [target.absolute().as_uri()]
    assert target.read_bytes() == b"x" * 1000
    assert [p.name for p in target.parent.iterdir()] == ["name.bin"]  # no temporary left


def test_written_files_hold_the_bands_with_no_data_where_masked(tmp_path: Path) -> None:
    grid = PixelGrid("EPSG:4326", Affine(0.5, 0, 10, 0, -0.5, 50), 600, 300)
    projection = Projection(grid.crs, tuple(grid.transform)[:6])
    image = Image(
        (
            Band("one", ConstantBand(7.0, "uint8"), projection, (600, 300)),
            Band("none", ConstantBand(0.0, "uint8", masked=True), projection, (600, 300)),
        )
    )
    opts = ImageOptions(no_data=255.0, file_dimensions=(512, 256))
    files = write_image_files(
        image, opts, tmp_path, _Threads(), 128, lambda: None, lambda progress: None
    )
    assert [suffix for _, suffix in files] == [
        "-0000000000-0000000000.tif",
        "-0000000000-0000000512.tif",
        "-0000000256-0000000000.tif",
        "-0000000256-0000000512.tif",
    ]
    with rasterio.open(files[3][0]) as src:
        assert (src.width, src.height) == (88, 44)
        assert src.transform == grid.transform @ Affine.translation(512, 256)
        assert src.nodata == 255
        assert (src.read(1) == 7).all()
        assert (src.read(2) == 255).all()


class _Threads:
    """An executor that runs a chunk at once (the export only needs submit -> future)."""

    def submit(self, fn, *args):
        from concurrent.futures import Future

        future: Future = Future()
        future.set_result(fn(*args))
        return future


def test_operation_metadata_merges_progress(tmp_path: Path) -> None:
    store = OperationStore(tmp_path / "operations.sqlite")
    op, created = store.create("p", "EXPORT_IMAGE", "d", "me", None, extra={"priority": 7})
    assert created
    store.update_metadata(op.id, progress=0.5, stages=[{"displayName": "x"}])
    meta = store.require("p", op.id).resource()["metadata"]
    assert meta["priority"] == 7
    assert meta["progress"] == 0.5
    assert meta["stages"] == [{"displayName": "x"}]
    store.close()


def _constant_image(grid: PixelGrid, masked: bool = False) -> Image:
    projection = Projection(grid.crs, tuple(grid.transform)[:6])
    band = ConstantBand(3.0, "uint16", masked=masked)
    return Image((Band("b", band, projection, (grid.width, grid.height)),))


class _Counting(_Threads):
    def __init__(self) -> None:
        self.calls = 0

    def submit(self, fn, *args):
        self.calls += 1
        return super().submit(fn, *args)


def test_skip_empty_files_drops_files_without_a_valid_pixel(tmp_path: Path) -> None:
    grid = PixelGrid("EPSG:4326", Affine(1, 0, 0, 0, -1, 0), 512, 256)
    opts = ImageOptions(file_dimensions=(256, 256), skip_empty=True)
    files = write_image_files(
        _constant_image(grid, masked=True), opts, tmp_path, _Threads(), 256, lambda: None, print
    )
    assert files == []


def test_a_resumed_export_computes_only_the_windows_not_in_the_ledger(tmp_path: Path) -> None:
    grid = PixelGrid("EPSG:4326", Affine(1, 0, 0, 0, -1, 0), 1024, 512)
    opts = ImageOptions(file_dimensions=(512, 512))
    image = _constant_image(grid)

    class Stop(Exception):
        pass

    seen = []

    def stop_after_three(progress) -> None:
        seen.append(progress.done)
        if progress.done == 3:
            raise Stop()

    with pytest.raises(Stop):
        write_image_files(image, opts, tmp_path, _Threads(), 256, lambda: None, stop_after_three)
    executor = _Counting()
    progress = []
    files = write_image_files(image, opts, tmp_path, executor, 256, lambda: None, progress.append)
    assert executor.calls == 8 - 3  # two files of four 256 x 256 windows; three were done
    assert progress[0].resumed == 3
    assert [suffix for _, suffix in files] == [
        "-0000000000-0000000000.tif",
        "-0000000000-0000000512.tif",
    ]
    for path, _ in files:
        with rasterio.open(path) as src:
            assert (src.read(1) == 3).all()


def test_a_ledger_for_another_cut_is_discarded(tmp_path: Path) -> None:
    grid = PixelGrid("EPSG:4326", Affine(1, 0, 0, 0, -1, 0), 512, 512)
    image = _constant_image(grid)
    write_image_files(
        image, ImageOptions(), tmp_path, _Threads(), 256, lambda: None, lambda p: None
    )
    executor = _Counting()
    opts = ImageOptions(file_dimensions=(256, 256))  # another cut of the same grid
    files = write_image_files(image, opts, tmp_path, executor, 256, lambda: None, lambda p: None)
    assert executor.calls == 4
    assert len(files) == 4


def test_pending_operations_carry_their_queue_position(tmp_path: Path) -> None:
    store = OperationStore(tmp_path / "operations.sqlite")
    first, _ = store.create("p", "EXPORT_IMAGE", "a", "me", None)
    store.create("q", "EXPORT_IMAGE", "b", "me", None)
    store.create("p", "INGEST_IMAGE", "an import: another runner", "me", None)
    third, _ = store.create("p", "EXPORT_IMAGE", "c", "me", None)
    store.start(first.id)
    meta = store.require("p", third.id).resource()["metadata"]
    assert meta["queuePosition"] == 2  # behind `b`, of another project, on the same runner
    assert "queuePosition" not in store.require("p", first.id).resource()["metadata"]
    assert [op.resource()["metadata"].get("queuePosition") for op in store.list("p", 0, 10)] == [
        2,
        1,
        None,
    ]
    store.close()


def test_a_disk_that_fills_up_mid_write_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    import errno
    import shutil

    from openee.errors import FailedPreconditionError

    staged = tmp_path / "staged.tif"
    staged.write_bytes(b"x" * 4096)

    def half_then_full(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(b"x" * 2048)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", half_then_full)
    dest = bucket_destination(tmp_path, (), "bucket", "out/file")
    with pytest.raises(FailedPreconditionError, match="No space left on device"):
        dest.publish([(staged, ".tif")])
    # Neither the file nor its temporary, nor the folders made for it.
    assert [p.name for p in tmp_path.iterdir()] == ["staged.tif"]


def test_drive_files_are_served_to_their_owner_only(tmp_path: Path) -> None:
    owner = "sa@p.iam.gserviceaccount.com"
    folder = tmp_path / "drive" / owner / "out"
    folder.mkdir(parents=True)
    (folder / "f.tif").write_bytes(b"x")
    (folder / ".f.tif.1234.partial").write_bytes(b"x")
    (tmp_path / "secret").write_bytes(b"s")
    (folder / "link.tif").symlink_to(tmp_path / "secret")
    assert drive_file(tmp_path, owner, owner, "out/f.tif") == (folder / "f.tif").resolve()
    assert drive_file(tmp_path, "other@p.iam.gserviceaccount.com", owner, "out/f.tif") is None
    for path in ("out/.f.tif.1234.partial", "out/link.tif", "../../secret", "out", "out/g"):
        assert drive_file(tmp_path, owner, owner, path) is None, path
    link = drive_destination(tmp_path, owner, "out", "a b", "http://h:1/")
    assert link.uri(".tif") == f"http://h:1/v1/drive/{owner}/out/a%20b.tif"
