"""Orphans (issue 16, item 16): temporaries of killed imports and ingests are swept when the
server starts; the mosaic an overwriting import replaced is removed unless a copy still reads
it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio
from fastapi.testclient import TestClient
from rasterio.transform import from_origin
from security_kit import Api, succeeded

from openee.api.app import create_app
from openee.settings import Settings


def dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def test_temporaries_of_dead_processes_are_swept_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    folder = data / "mosaics" / "p" / "x"
    folder.mkdir(parents=True)
    (data / "cog").mkdir()
    dead, alive = dead_pid(), os.getppid()
    gone = [
        folder / f".op1_tileset0.tif.{dead}.merge.tif",
        folder / f".op1_tileset0.tif.{dead}.partial",
        folder / f".op1_tileset0.tif.{dead}.partial.ovr.tmp",
        data / "cog" / f".scene.tif.{dead}.partial",
    ]
    kept = [
        folder / f".op2_tileset0.tif.{alive}.partial",  # an import still running
        folder / "op3_tileset0.tif",  # a finished mosaic
        data / "user.partial",  # not openee's
    ]
    for path in gone + kept:
        path.write_bytes(b"x")
    with TestClient(create_app(Settings(data_dir=data, auth_enabled=False))):
        pass  # a start (the sweep), then the shutdown
    assert [p.exists() for p in gone] == [False] * len(gone)
    assert [p.exists() for p in kept] == [True] * len(kept)


def tile(path: Path, west: float, value: int) -> str:
    with rasterio.open(
        path, "w", driver="GTiff", width=16, height=16, count=1, dtype="uint16",
        crs="EPSG:32633", transform=from_origin(west, 5100000, 120, 120),
    ) as dst:  # fmt: skip
        dst.write(np.full((1, 16, 16), value, dtype=np.uint16))
    return str(path)


def mosaics(api: Api) -> set[Path]:
    return {p for p in (api.data_dir / "mosaics").rglob("*.tif")}


def test_an_overwrite_removes_the_mosaic_it_replaced_unless_a_copy_reads_it(
    api: Api, uploads: Path
) -> None:
    left = tile(uploads / "left.tif", 500000, 1)
    right = tile(uploads / "right.tif", 500000 + 16 * 120, 2)
    before = mosaics(api) if (api.data_dir / "mosaics").exists() else set()
    assert succeeded(api.import_image("mosaic", [left, right]))
    first = mosaics(api) - before
    assert len(first) == 1
    assert succeeded(api.import_image("mosaic", [left], overwrite=True))
    assert mosaics(api) - before == set()  # the replaced mosaic is gone

    assert succeeded(api.import_image("mosaic2", [left, right]))
    second = mosaics(api) - before
    copied = api.post("assets/mosaic2:copy", {"destinationName": "projects/p/assets/mosaic2_copy"})
    assert copied.status_code == 200, copied.text
    assert succeeded(api.import_image("mosaic2", [right], overwrite=True))
    assert mosaics(api) - before == second  # the copy still reads it
    assert api.get_pixels("mosaic2_copy").status_code == 200
