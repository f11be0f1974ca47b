"""Benchmark (not a test): `listAssets` over 10,000 images in a fresh catalog.

Fills a new SQLite catalog (or, with `--dsn`, a PostgreSQL one) with synthetic image records
(random footprints and dates, no files), then reports:

* the latency of `catalog.service.list_assets` with an `intersects(...)` filter, as the stock
  client's `ee.data.listImages(region=...)` writes it, for regions of several sizes (target:
  under 100 ms);
* paging over all images, by name and through a filter, checking that each image comes back
  exactly once.

With `--http` the same requests go to a real `openee serve` subprocess over HTTP (the stock
client's path: service, asset JSON and its rendering), on a SQLite catalog in a temp data dir.

    .venv/bin/python bench/list_assets.py [--images 10000] [--runs 30] [--dsn postgresql://...]
    .venv/bin/python bench/list_assets.py --http
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import shapely.geometry

from openee.catalog.model import IMAGE, IMAGE_COLLECTION, AssetRecord
from openee.catalog.service import list_assets
from openee.catalog.store import CatalogStore, open_store

PARENT = "projects/bench/assets/coll"
DAY_MS = 86_400_000
T0 = 1_577_836_800_000  # 2020-01-01
TARGET_MS = 100.0


def box(west: float, south: float, east: float, north: float) -> dict[str, object]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def synthetic(n: int, seed: int = 1) -> list[AssetRecord]:
    """`n` images with 0.5-3 degree footprints over Europe (40 x 25 degrees, so that regions
    select from a few to most of them) and dates over five years."""
    rng = random.Random(seed)
    out = [AssetRecord(PARENT, IMAGE_COLLECTION)]
    for i in range(n):
        size = rng.uniform(0.5, 3.0)
        lon, lat = rng.uniform(-10, 30 - size), rng.uniform(35, 60 - size)
        t = T0 + rng.randrange(5 * 365) * DAY_MS
        out.append(
            AssetRecord(
                name=f"{PARENT}/img_{i:05d}",
                type=IMAGE,
                properties={"CLOUD": rng.randrange(100), "system:time_start": t},
                start_time=t,
                end_time=t,
                footprint=box(lon, lat, lon + size, lat + size),
            )
        )
    return out


def client_region(geojson: dict[str, object]) -> str:
    """The filter term the stock client writes for a region (double quotes made single)."""
    return 'intersects("' + json.dumps(geojson).replace('"', "'") + '")'


# Lists one page: (parent, pageSize, pageToken, filter) -> (asset names, next token).
Lister = Callable[[str, int | None, str | None, str | None], tuple[list[str], str | None]]


def service_lister(store: CatalogStore) -> Lister:
    def call(
        parent: str, size: int | None, token: str | None, flt: str | None
    ) -> tuple[list[str], str | None]:
        page = list_assets(store, parent, size, token, flt)
        return [r.name for r in page.assets], page.next_page_token

    return call


def http_lister(base_url: str, session: Any) -> Lister:
    def call(
        parent: str, size: int | None, token: str | None, flt: str | None
    ) -> tuple[list[str], str | None]:
        params = {k: v for k, v in [("pageSize", size), ("pageToken", token), ("filter", flt)] if v}
        r = session.get(f"{base_url}/v1/{parent}:listAssets", params=params, timeout=60)
        if r.status_code != 200:
            raise RuntimeError(f"listAssets answered {r.status_code}: {r.text[:300]}")
        body = r.json()
        return [a["name"] for a in body.get("assets", [])], body.get("nextPageToken")

    return call


def every_page(
    lister: Lister, parent: str, size: int, filter: str | None = None
) -> tuple[list[str], int, float]:
    names: list[str] = []
    token, pages = None, 0
    started = time.perf_counter()
    while True:
        got, token = lister(parent, size, token, filter)
        names.extend(got)
        pages += 1
        if token is None:
            return names, pages, time.perf_counter() - started


REGIONS = [
    ("point", (10.0, 45.0, 10.0, 45.0)),
    ("1 x 1 deg", (10.0, 45.0, 11.0, 46.0)),
    ("2 x 2 deg", (10.0, 44.0, 12.0, 46.0)),
    ("5 x 5 deg", (5.0, 42.0, 10.0, 47.0)),
    ("10 x 10 deg", (0.0, 40.0, 10.0, 50.0)),
]


def report(
    lister: Lister,
    parent: str,
    records: list[AssetRecord],
    runs: int,
    cpu_seconds: Callable[[], float] = time.process_time,
) -> bool:
    """Prints latencies and paging checks; True when something came back wrong.

    Besides wall-clock latency, the median CPU time the serving process spent per request
    (`cpu_seconds` reads it): on a machine shared with other work, wall time swings with the
    load while CPU time stays close to what an idle machine would show."""
    failed = False
    print(f"\nlistAssets with intersects(), {runs} runs each (target < {TARGET_MS:.0f} ms):")
    print(
        f"{'region':>22} {'matches':>8} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}"
        f" {'CPU median ms':>14}"
    )
    shapes = [shapely.geometry.shape(r.footprint) for r in records[1:] if r.footprint]
    for label, (west, south, east, north) in REGIONS:
        if west == east:
            region: dict[str, object] = {"type": "Point", "coordinates": [west, south]}
        else:
            region = box(west, south, east, north)
        shape = shapely.geometry.shape(region)
        expected = sum(1 for s in shapes if s.intersects(shape))
        times, cpu = [], []
        for _ in range(runs):
            t, c = time.perf_counter(), cpu_seconds()
            names, _ = lister(parent, None, None, client_region(region))
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((cpu_seconds() - c) * 1000)
        if len(names) != min(expected, 1000):
            print(f"  MISMATCH: {len(names)} listed, {expected} intersect")
            failed = True
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        median = statistics.median(times)
        flag = "" if median < TARGET_MS else "  (over target)"
        print(
            f"{label:>22} {expected:>8} {median:>10.1f} {p95:>8.1f} {times[-1]:>8.1f}"
            f" {statistics.median(cpu):>14.1f}{flag}"
        )

    print("\npaging over every image:")
    everything = sorted(r.name for r in records[1:])
    for label, size, flt in [
        ("by name, pageSize 1000", 1000, None),
        ("by name, pageSize 100", 100, None),
        ("filtered, pageSize 1000", 1000, 'startTime >= "2019-01-01T00:00:00Z"'),
    ]:
        names, pages, seconds = every_page(lister, parent, size, flt)
        once = len(names) == len(set(names)) and sorted(names) == everything
        failed |= not once
        print(
            f"  {label:<26} {len(names):>6} images in {pages:>3} pages, {seconds:.2f} s:"
            f" {'each exactly once' if once else 'MISSING OR REPEATED'}"
        )
    return failed


def server_cpu(server: Any) -> Callable[[], float]:
    """The server process's CPU seconds so far, summed over its threads (Linux schedstat, in
    nanoseconds: the request runs on a worker thread)."""
    tasks = Path(f"/proc/{server._proc.pid}/task")

    def read() -> float:
        total = 0
        for task in tasks.iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):  # a thread that ended
                total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9

    return read


def reparented(records: list[AssetRecord], parent: str) -> list[AssetRecord]:
    return [replace(r, name=parent + r.name[len(PARENT) :]) for r in records]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--dsn", help="a PostgreSQL connection string (default: a temp SQLite)")
    parser.add_argument("--http", action="store_true", help="through a real openee serve")
    args = parser.parse_args(argv)

    records = synthetic(args.images)
    with tempfile.TemporaryDirectory() as tmp:
        if args.http:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from bench_http import Server

            data_dir = Path(tmp) / "data"
            with Server(data_dir, Path(tmp)) as server:
                parent = f"projects/{server.project}/assets/coll"
                records = reparented(records, parent)
                store = open_store(data_dir / "catalog.sqlite")
                try:
                    started = time.perf_counter()
                    store.put_many(records)
                    took = time.perf_counter() - started
                    print(f"HTTP, SQLite: {args.images} images written in {took:.2f} s")
                finally:
                    store.close()
                lister = http_lister(server.base_url, server._session)
                lister(parent, 1, None, None)  # token, imports, first connection
                failed = report(lister, parent, records, args.runs, server_cpu(server))
            return 1 if failed else 0
        store = open_store(args.dsn or Path(tmp) / "catalog.sqlite")
        kind = "PostgreSQL" if args.dsn else "SQLite"
        try:
            started = time.perf_counter()
            store.put_many(records)
            print(f"{kind}: {args.images} images written in {time.perf_counter() - started:.2f} s")
            failed = report(service_lister(store), PARENT, records, args.runs)
        finally:
            store.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
