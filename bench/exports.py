"""Export benchmark (issue 12): openee's image export on dask.distributed, and the same export
done the way a user would without openee. A benchmark, not a test.

The job: the median of B4 over the 5 August 2023 images of tile 33TWL
(COPERNICUS/S2_SR_HARMONIZED, the demo data), on an EPSG:4326 grid of 0.0002 degrees centred at
(15.7, 45.55), written as a Cloud Optimized GeoTIFF, split into files of 2048 x 2048 pixels.

  dask-1 / dask-2  openee's export (`services/export_image.write_image_files`) with its chunks
                   run as Dask tasks on a LocalCluster of 1, then 2 worker processes (1 thread
                   each); output Mpix/s and the scaling ratio
  threads          the same export on a local thread pool of 2 threads (no Dask)
  memory           the peak resident memory of each worker process, with the export's side
                   doubled (4x the pixels) on a fresh 2-worker cluster: it must stay flat
  odc              odc.stac.load onto the same GeoBox (nearest, dask chunks of 1024, the
                   2-worker cluster) + xarray median skipping nodata + rioxarray writing a COG

Run: `.venv/bin/python bench/exports.py [--side 4096]` after `pip install -e '.[bench]' rioxarray`.
Results go to bench/EXPORTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from affine import Affine

from openee.catalog.profiles import SENTINEL2_L2A
from openee.catalog.sqlite import SqliteCatalog
from openee.catalog.stac_ingest import ingest_stac
from openee.catalog.store import ImageQuery
from openee.demo import S2_L2A_CATALOG
from openee.raster.image import Band, Image
from openee.raster.sources import FileBand, ReducedBand
from openee.services.export_image import ImageOptions, write_image_files
from openee.values.projection import Projection

LON, LAT, PIXEL = 15.7, 45.55, 0.0002
OUT = Path(__file__).resolve().parent / "EXPORTS.md"
OPTIONS = ImageOptions(cloud_optimized=True, file_dimensions=(2048, 2048))


def median_band(workdir: Path) -> tuple[ReducedBand, list[Path]]:
    catalog = SqliteCatalog(workdir / "catalog.sqlite")
    ingest_stac(catalog, S2_L2A_CATALOG, "COPERNICUS/S2_SR_HARMONIZED", SENTINEL2_L2A)
    records = catalog.query_images(
        ImageQuery("projects/earthengine-public/assets/COPERNICUS/S2_SR_HARMONIZED")
    )
    files = tuple(
        FileBand(b.path, b.index, b.dtype, b.nodata)
        for r in records
        if "33TWL" in r.name
        for b in r.bands
        if b.id == "B4"
    )
    assert len(files) == 5
    items = sorted({Path(f.path).parent for f in files})
    return ReducedBand("median", files), items


def image_of(band: ReducedBand, side: int) -> Image:
    transform = Affine(PIXEL, 0, LON - PIXEL * side / 2, 0, -PIXEL, LAT + PIXEL * side / 2)
    projection = Projection("EPSG:4326", tuple(transform)[:6])
    return Image((Band("B4", band, projection, (side, side)),))


def run_export(image: Image, executor: Any, workdir: Path, in_flight: int) -> float:
    staging = Path(tempfile.mkdtemp(dir=workdir))
    start = time.perf_counter()
    write_image_files(
        image, OPTIONS, staging, executor, 1024, lambda: None, lambda p: None, in_flight
    )
    return time.perf_counter() - start


def cluster(workers: int) -> Any:
    from distributed import Client, LocalCluster

    local = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    )
    return local, Client(local)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def odc_export(items: list[Path], side: int, client: Any, workdir: Path) -> float:
    """What a user does without openee: odc-stac onto the GeoBox, xarray median, rioxarray COG."""
    import odc.stac
    import pystac
    import rioxarray  # noqa: F401  (registers the .rio accessor)
    import xarray as xr
    from odc.geo.geobox import GeoBox

    odc.stac.configure_rio(cloud_defaults=False, GDAL_DISABLE_READDIR_ON_OPEN="TRUE")
    stac_items = [pystac.Item.from_file(str(p / f"{p.name}.json")) for p in items]
    transform = Affine(PIXEL, 0, LON - PIXEL * side / 2, 0, -PIXEL, LAT + PIXEL * side / 2)
    geobox = GeoBox((side, side), transform, "EPSG:4326")
    start = time.perf_counter()
    ds = odc.stac.load(
        stac_items,
        bands=["red"],
        geobox=geobox,
        resampling="nearest",
        chunks={"x": 1024, "y": 1024},
        groupby="time",
    )
    red = ds["red"]
    median = red.where(red != 0).median("time", skipna=True)
    with xr.set_options(keep_attrs=True):
        median.rio.to_raster(workdir / "odc.tif", driver="COG", compress="DEFLATE", lock=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=4096)
    args = parser.parse_args()
    side = args.side
    mpix = side * side / 1e6
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="openee-bench-exports-") as tmp:
        workdir = Path(tmp)
        band, items = median_band(workdir)
        image = image_of(band, side)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as pool:
            rows["threads"] = run_export(image, pool, workdir, 4)
        for workers in (1, 2):
            local, client = cluster(workers)
            with local, client:
                run_export(image_of(band, 512), client, workdir, 2 * workers)  # warm-up
                rows[f"dask-{workers}"] = run_export(image, client, workdir, 2 * workers)
        memory = {}
        for factor in (1, 2):
            local, client = cluster(2)
            with local, client:
                run_export(image_of(band, side * factor // 2), client, workdir, 4)
                memory[side * factor // 2] = sorted(client.run(_peak_rss_mib).values())
        local, client = cluster(2)
        with local, client:
            try:
                rows["odc"] = odc_export(items, side, client, workdir)
            except ImportError as exc:
                rows["odc"] = f"not run ({exc})"
    lines = [
        f"# Export benchmark ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the end (shared with other jobs: figures are indicative).",
        f"Job: median of B4 over 5 images (33TWL, demo data), {side} x {side} pixels "
        f"({mpix:.1f} Mpix), EPSG:4326 at {PIXEL} degrees, COG, files of 2048 x 2048.",
        "",
        "| run | seconds | output Mpix/s |",
        "|---|---|---|",
    ]
    for name, value in rows.items():
        if isinstance(value, float):
            lines.append(f"| {name} | {value:.1f} | {mpix / value:.2f} |")
        else:
            lines.append(f"| {name} | {value} | |")
    if isinstance(rows.get("dask-1"), float) and isinstance(rows.get("dask-2"), float):
        lines += ["", f"Scaling 1 -> 2 workers: {rows['dask-1'] / rows['dask-2']:.2f}x."]
    lines += [
        "",
        "Peak resident memory per worker (MiB), 2 workers, as the export grows 4x:",
        "",
        "| side | workers' peak RSS (MiB) |",
        "|---|---|",
    ]
    for s, peaks in memory.items():
        lines.append(f"| {s} x {s} | {', '.join(f'{p:.0f}' for p in peaks)} |")
    lines += ["", "Raw: " + json.dumps({"rows": rows, "memory": memory})]
    text = "\n".join(lines) + "\n"
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
