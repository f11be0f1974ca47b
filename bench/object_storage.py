"""computePixels from local COGs vs the same COGs in an S3 store, cold and warm (issue 15).

A benchmark, not a test. In one run: the 15 COGs of bench_common (B4/B3/B2 of the 5 August
2023 images of tile 33TWL, DEFLATE, 256-px tiles, overviews) are ingested twice with
`openee ingest --template`, from a local folder (BENCH/LOCAL) and from `s3://imagery/s2/` in the
project's S3 server (`scripts/s3.py`, moto on 127.0.0.1: no network latency, so the figures show
openee's and GDAL's own cost of going through HTTP, not a cloud store's round trips). The
request is bench_common's median of the collection on an EPSG:4326 grid at 100 m, 640x640 and
2048x2048, over HTTP (NPY).

Per source and size, a fresh `openee serve` (so nothing is open or cached), a warm-up request on
other files (the demo collection, tile 33TWM), then:
  cold   the first request; GETs = object GETs the store logged for it
  warm   median of --runs repeats in the same server; GETs = those the repeats caused
Local and S3 responses are compared byte for byte.

    .venv/bin/python bench/object_storage.py [--runs 3] [--out bench/OBJECT_STORAGE.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from bench_common import BAND_FILES, Grid, band_paths, expression, make_cog_catalog  # noqa: E402
from bench_http import Server  # noqa: E402

REPO_ROOT = BENCH_DIR.parent
BUCKET, PREFIX = "imagery", "s2/"
TEMPLATE = "{id}_{date:%Y%m%d}_{band}.tif"
SIZES = (640, 2048)


class Store:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "scripts" / "s3.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().decode().strip()
        if not self.url:
            raise SystemExit("scripts/s3.py did not start")

    def _post(self, action: str) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/recorder/{action}", method="POST")
        urllib.request.urlopen(request).close()

    def record(self) -> None:
        self._post("reset-recording")
        self._post("start-recording")

    def gets(self) -> tuple[int, int]:
        """(object GETs, bytes asked for) since `record`."""
        with urllib.request.urlopen(f"{self.url}/moto-api/recorder/download-recording") as r:
            entries = [json.loads(line) for line in r.read().decode().splitlines() if line]
        count = size = 0
        for e in entries:
            if e["method"] == "GET" and f"/{BUCKET}/" in e["url"]:
                count += 1
                span = e["headers"].get("Range", "").removeprefix("bytes=").split("-")
                if len(span) == 2 and span[1]:
                    size += int(span[1]) - int(span[0]) + 1
        return count, size

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(15)


def flat_cogs(catalog: Path, target: Path) -> list[Path]:
    """The 15 COGs under names the template reads: `<scene>_<yyyymmdd>_<band>.tif`."""
    target.mkdir()
    out = []
    for band, paths in band_paths(catalog).items():
        assert BAND_FILES[band]
        for path in paths:
            scene = path.parent.name  # S2B_33TWL_20230813_0_L2A
            mission, tile, date = scene.split("_")[:3]
            flat = target / f"{mission}-{tile}-{date}_{date}_{band}.tif"
            shutil.copyfile(path, flat)
            out.append(flat)
    return out


def ingest(data_dir: Path, source: str, asset_id: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "openee", "ingest", source, "--asset-id", asset_id,
         "--data-dir", str(data_dir), "--template", TEMPLATE],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"ingest of {source} failed:\n{done.stderr}")


def body(asset_id: str, grid: Grid) -> dict[str, Any]:
    text = json.dumps(expression()).replace('"COPERNICUS/S2_SR_HARMONIZED"', json.dumps(asset_id))
    return {
        "expression": json.loads(text),
        "fileFormat": "NPY",
        "bandIds": ["B4", "B3", "B2"],
        "grid": grid.to_wire(),
    }


def measure(
    data_dir: Path, logs: Path, store: Store, asset_id: str, size: int, runs: int
) -> dict[str, Any]:
    grid = Grid.centered(size, 100.0)
    with Server(data_dir, logs) as server:
        server.warm_up()
        store.record()
        started = time.perf_counter()
        first = server.compute_pixels(body(asset_id, grid))
        cold_s = time.perf_counter() - started
        cold_gets = store.gets()
        store.record()
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            again = server.compute_pixels(body(asset_id, grid))
            times.append(time.perf_counter() - started)
            assert again == first
        warm_gets = store.gets()
    return {
        "cold_s": cold_s,
        "cold_gets": cold_gets,
        "warm_s": statistics.median(times),
        "warm_gets": warm_gets,
        "bytes": first,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="write the table here too")
    args = parser.parse_args()
    import boto3

    work = Path(tempfile.mkdtemp(prefix="openee-bench-s3-"))
    store = Store()
    try:
        os.environ.update(
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_REGION="us-east-1",
            AWS_ENDPOINT_URL=store.url,
            AWS_VIRTUAL_HOSTING="FALSE",
            OPENEE_ALLOWED_URL_PREFIXES=f"s3://{BUCKET}/{PREFIX}",
        )
        local = work / "local"
        files = flat_cogs(make_cog_catalog(work / "cogs"), local)
        client = boto3.client("s3", endpoint_url=store.url)
        client.create_bucket(Bucket=BUCKET)
        for path in files:
            client.upload_file(str(path), BUCKET, PREFIX + path.name)
        data_dir = work / "data"
        ingest(data_dir, str(local), "BENCH/LOCAL")
        ingest(data_dir, f"s3://{BUCKET}/{PREFIX}", "BENCH/S3")
        rows = []
        for size in SIZES:
            results = {
                name: measure(data_dir, work, store, asset, size, args.runs)
                for name, asset in (("local", "BENCH/LOCAL"), ("s3", "BENCH/S3"))
            }
            same = results["local"]["bytes"] == results["s3"]["bytes"]
            for name, r in results.items():
                rows.append(
                    f"| {size}x{size} | {name} | {r['cold_s'] * 1000:.0f} |"
                    f" {r['cold_gets'][0]} ({r['cold_gets'][1] / 1e6:.2f} MB) |"
                    f" {r['warm_s'] * 1000:.0f} | {r['warm_gets'][0]} |"
                    f" {'identical' if same else 'DIFFERENT'} |"
                )
        header = [
            f"computePixels, median of B4/B3/B2 over 5 COG images (15 files), EPSG:4326 100 m;"
            f" {platform.machine()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
            "",
            "| grid | source | cold ms | cold GETs (bytes) | warm ms (median) | warm GETs | local vs S3 |",
            "|---|---|---|---|---|---|---|",
        ]
        table = "\n".join([*header, *rows])
        print(table)
        if args.out:
            args.out.write_text(
                "# Local COGs vs the S3 store (bench/object_storage.py)\n\n" + table + "\n"
            )
        return 0
    finally:
        store.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
