"""Map-tile benchmark (issue 13): openee against TiTiler, on the same files and the same tiles.

A benchmark, not a test. Two layers over the demo files converted to COG (bench_common):

  median   the median of B4/B3/B2 over the 5 August-2023 images of tile 33TWL, min 0 max 3000;
           openee: the stock client's `getMapId` of
           ImageCollection(...).filterBounds(point).filterDate(...).median();
           TiTiler: rio-tiler's mosaic_reader with MedianMethod over the same 15 files
           (bench/titiler_app.py)
  palette  B4 of one image, min 0 max 3000, a 5-colour palette; openee: `getMapId`;
           TiTiler: titiler.core's TilerFactory tile endpoint, `rescale` and a 256-entry
           colormap that is the palette interpolated as Earth Engine does

Both servers are real processes on loopback (`python -m openee serve`, `uvicorn titiler_app:app`,
one process each); tiles are fetched over HTTP with one requests session per client. The tile
list (every tile of zooms --zooms over the 33TWL footprint) is fetched in the same order from
both: with 8 clients each takes the next tile of the list, so each tile is fetched once a pass.

  cold   a fresh server process (after one warm-up tile of each layer's 33TWM twin, which loads
         the code paths without decoding a measured block); 1 client in one process, 8 clients
         in another
  warm   the same process, the same list again, after the cold pass (openee serves it from its
         encoded-tile cache; TiTiler has none, its GDAL block cache is warm); 1 then 8 clients

A second openee server with the tile cache off (OPENEE_TILE_CACHE_BYTES=0) shows the warm figures
of the pixel path itself. Each round starts every process afresh; --rounds rounds (default 2) and
the spread between them is reported, since the machine may be shared. Pixels: the PNG tiles of
the first pass are decoded and compared (equal, within 1, same mask).

Run:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/tiles.py
Results go to bench/TILES.md (between the markers).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import itertools
import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from bench_common import (  # noqa: E402
    AUGUST,
    COLLECTION_ID,
    LAT,
    LON,
    REPO_ROOT,
    WARMUP_TILE,
    describe_files,
    item_dirs,
    make_cog_catalog,
)
from bench_http import WARMUP_LAT, WARMUP_LON, Server  # noqa: E402

RESULTS = BENCH_DIR / "TILES.md"
BEGIN, END = "<!-- tiles:begin -->", "<!-- tiles:end -->"
VIS_MIN, VIS_MAX = 0, 3000
PALETTE = ["000004", "51127c", "b73779", "fc8961", "fcfdbf"]
READY_TIMEOUT_S = 90.0
TARGET_WARM_P50_S = 0.010


# -- inputs -------------------------------------------------------------------------------------


def tile_list(bounds: tuple[float, float, float, float], zooms: list[int]) -> list[tuple[int, ...]]:
    """(z, x, y) of every Web Mercator tile over `bounds` (lon/lat), zoom by zoom, row by row."""

    def xy(lon: float, lat: float, z: int) -> tuple[int, int]:
        n = 1 << z
        x = int((lon + 180.0) / 360.0 * n)
        r = math.radians(lat)
        y = int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n)
        return x, y

    tiles = []
    west, south, east, north = bounds
    for z in zooms:
        x0, y0 = xy(west, north, z)
        x1, y1 = xy(east, south, z)
        tiles += [(z, x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]
    return tiles


def footprint(path: Path) -> tuple[float, float, float, float]:
    import rasterio
    from rasterio.warp import transform_bounds

    with rasterio.open(path) as src:
        west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    return west, south, east, north


def ee_colormap(palette: list[str]) -> dict[int, list[int]]:
    """Earth Engine's palette (colours spread evenly over min..max, linear in between) sampled
    at the 256 values TiTiler's rescale gives."""
    colors = np.array([[int(c[i : i + 2], 16) for i in (0, 2, 4)] for c in palette], float)
    out = {}
    for i in range(256):
        pos = i / 255 * (len(palette) - 1)
        k = min(int(pos), len(palette) - 2)
        rgb = colors[k] + (colors[k + 1] - colors[k]) * (pos - k)
        out[i] = [*(int(v) for v in np.round(rgb)), 255]
    return out


# -- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def env_vars(extra: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def openee_server(data_dir: Path, log_dir: Path, tile_cache: bool) -> Iterator[str]:
    extra = {} if tile_cache else {"OPENEE_TILE_CACHE_BYTES": "0"}
    with env_vars(extra), Server(data_dir, log_dir) as server:
        yield server.base_url


@contextlib.contextmanager
def titiler_server(
    log_dir: Path, items: list[Path], twins: list[Path], colormap: dict[int, list[int]]
) -> Iterator[str]:
    import requests

    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(BENCH_DIR), *filter(None, [env.get("PYTHONPATH")])])
    env["BENCH_MEDIAN_ITEMS"] = os.pathsep.join(str(p) for p in items)
    env["BENCH_WARMUP_ITEMS"] = os.pathsep.join(str(p) for p in twins)
    env["BENCH_COLORMAP"] = json.dumps(colormap)
    # TiTiler's documented setting for file systems: no directory listing on each open.
    env.setdefault("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR")
    cmd = [sys.executable, "-m", "uvicorn", "titiler_app:app", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--log-level", "warning"]
    log_path = log_dir / f"titiler-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"titiler exited early:\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("titiler not ready")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/docs", timeout=2).status_code == 200:
                    break
            time.sleep(0.1)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


# -- the layers as each server names them ---------------------------------------------------------


@dataclass
class Layers:
    """Per layer, the tile URL template (after the base URL) on each server, and warm-up paths."""

    openee: dict[str, str] = field(default_factory=dict)
    openee_warmup: dict[str, str] = field(default_factory=dict)
    titiler: dict[str, str] = field(default_factory=dict)
    titiler_warmup: dict[str, str] = field(default_factory=dict)


def openee_map_paths(data_dir: Path, log_dir: Path, palette_item: str) -> dict[str, str]:
    """Map ids from the stock client's getMapId (content-addressed and stored in the data dir,
    so the same paths serve every later openee process on it)."""
    import ee

    with Server(data_dir, log_dir) as server:
        key_path = data_dir / "keys" / "default.json"
        key = json.loads(key_path.read_text())
        key["token_uri"] = f"{server.base_url}/token"
        credentials = ee.ServiceAccountCredentials(key["client_email"], key_data=json.dumps(key))
        ee.Initialize(credentials, project=key["project_id"], url=server.base_url)
        try:

            def median(lon: float, lat: float) -> Any:
                return (
                    ee.ImageCollection(COLLECTION_ID)
                    .filterBounds(ee.Geometry.Point([lon, lat]))
                    .filterDate(*AUGUST)
                    .median()
                )

            rgb = {"bands": ["B4", "B3", "B2"], "min": VIS_MIN, "max": VIS_MAX}
            pal = {"bands": ["B4"], "min": VIS_MIN, "max": VIS_MAX, "palette": PALETTE}
            image = ee.Image(f"{COLLECTION_ID}/{palette_item}")
            twin = ee.Image(f"{COLLECTION_ID}/{palette_item.replace('33TWL', WARMUP_TILE)}")
            made = {
                "median": median(LON, LAT).getMapId(rgb),
                "palette": image.getMapId(pal),
                "median-warmup": median(WARMUP_LON, WARMUP_LAT).getMapId(rgb),
                "palette-warmup": twin.getMapId(pal),
            }
        finally:
            ee.Reset()
    return {name: f"/v1/{m['mapid']}/tiles/{{z}}/{{x}}/{{y}}" for name, m in made.items()}


# -- fetching -----------------------------------------------------------------------------------


@dataclass
class Pass:
    latencies: list[float]
    seconds: float
    bodies: list[bytes]

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies, q))

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def fetch_pass(base: str, template: str, tiles: list[tuple[int, ...]], clients: int) -> Pass:
    """Fetch every tile once with `clients` concurrent sessions taking tiles in list order."""
    import requests

    urls = [base + template.format(z=z, x=x, y=y) for z, x, y in tiles]
    latencies = [0.0] * len(urls)
    bodies = [b""] * len(urls)
    counter = itertools.count()
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    i = next(counter)
                if i >= len(urls):
                    return
                t0 = time.perf_counter()
                r = session.get(urls[i], timeout=120)
                body = r.content
                latencies[i] = time.perf_counter() - t0
                if r.status_code != 200:
                    raise RuntimeError(f"{urls[i]} answered {r.status_code}: {body[:300]!r}")
                bodies[i] = body

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for f in [pool.submit(client) for _ in range(clients)]:
            f.result()
    return Pass(latencies, time.perf_counter() - started, bodies)


def warm_up(base: str, warmup: dict[str, str], tile: tuple[int, ...]) -> None:
    import requests

    for template in warmup.values():
        z, x, y = tile
        r = requests.get(base + template.format(z=z, x=x, y=y), timeout=120)
        if r.status_code != 200:
            raise RuntimeError(f"warm-up answered {r.status_code}: {r.text[:300]}")


# -- pixels -------------------------------------------------------------------------------------


def rgba(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def compare(ours: list[bytes], theirs: list[bytes]) -> dict[str, float]:
    """Fractions over all pixels of the tiles: same mask, both draw; and, over the pixels both
    draw, RGB equal and within 1 per channel."""
    same_mask = equal = within1 = both = total = 0
    for a_png, b_png in zip(ours, theirs, strict=True):
        a, b = rgba(a_png), rgba(b_png)
        va, vb = a[..., 3] > 0, b[..., 3] > 0
        total += va.size
        same_mask += int((va == vb).sum())
        drawn = va & vb
        both += int(drawn.sum())
        diff = np.abs(a[..., :3].astype(int) - b[..., :3].astype(int)).max(axis=-1)
        equal += int((drawn & (diff == 0)).sum())
        within1 += int((drawn & (diff <= 1)).sum())
    return {
        "same_mask": same_mask / total,
        "equal": equal / both if both else float("nan"),
        "within1": within1 / both if both else float("nan"),
        "drawn": both / total,
    }


# -- one round ----------------------------------------------------------------------------------


SERVERS = ("openee", "titiler", "openee-nocache")


def run_round(
    args: argparse.Namespace,
    data_dir: Path,
    work: Path,
    layers: Layers,
    tiles: list[tuple[int, ...]],
    items: list[Path],
    twins: list[Path],
    colormap: dict[int, list[int]],
) -> tuple[dict[tuple[str, str, str, int], Pass], dict[str, dict[str, list[bytes]]]]:
    """{(server, layer, cold|warm, clients): Pass}, and the first pass's PNGs per server/layer."""
    results: dict[tuple[str, str, str, int], Pass] = {}
    bodies: dict[str, dict[str, list[bytes]]] = {}

    def server(name: str) -> contextlib.AbstractContextManager[str]:
        if name == "titiler":
            return titiler_server(work, items, twins, colormap)
        return openee_server(data_dir, work, tile_cache=name == "openee")

    def paths(name: str) -> tuple[dict[str, str], dict[str, str]]:
        if name == "titiler":
            return layers.titiler, layers.titiler_warmup
        return layers.openee, layers.openee_warmup

    for name in SERVERS:
        templates, warmup = paths(name)
        # Process 1: cold with 1 client, then warm with 1 and 8.
        with server(name) as base:
            warm_up(base, warmup, args.warmup_tile)
            for layer, template in templates.items():
                cold = fetch_pass(base, template, tiles, 1)
                results[(name, layer, "cold", 1)] = cold
                bodies.setdefault(name, {})[layer] = cold.bodies
            for clients in (1, 8):
                for layer, template in templates.items():
                    results[(name, layer, "warm", clients)] = fetch_pass(
                        base, template, tiles, clients
                    )
        # Process 2: cold with 8 clients.
        with server(name) as base:
            warm_up(base, warmup, args.warmup_tile)
            for layer, template in templates.items():
                results[(name, layer, "cold", 8)] = fetch_pass(base, template, tiles, 8)
    return results, bodies


# -- report -------------------------------------------------------------------------------------


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def spread(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    """The median over rounds, and min..max when there are several."""
    med = statistics.median(values) * scale
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(values) * scale:.{digits}f}..{max(values) * scale:.{digits}f})"


def report(
    args: argparse.Namespace,
    rounds: list[dict[tuple[str, str, str, int], Pass]],
    pixels: dict[str, dict[str, float]],
    notes: list[str],
    tiles: list[tuple[int, ...]],
    started: float,
) -> str:
    cmd = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/tiles.py"
    if sys.argv[1:]:
        cmd += " " + " ".join(sys.argv[1:])
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run {now}, {time.time() - started:.0f} s in all. Generated by bench/tiles.py;",
        "everything between the markers is rewritten by each run.",
        "",
        "```",
        cmd,
        "```",
        "",
        *[f"- {n}" for n in notes],
        f"- Tiles: {len(tiles)} ({', '.join(f'z{z}: {sum(t[0] == z for t in tiles)}' for z in args.zooms)}) "
        f"over the 33TWL footprint, the same list in the same order for every server; "
        f"{len(rounds)} rounds, each with fresh server processes. Figures: median over rounds "
        "(min..max over rounds).",
        "",
    ]
    for layer in ("median", "palette"):
        lines += [
            f"### {layer}",
            "",
            "| pass | clients | metric | openee | TiTiler | openee / TiTiler | openee, tile cache off |",
            "|---|---:|---|---:|---:|---:|---:|",
        ]
        for kind in ("cold", "warm"):
            for clients in (1, 8):
                for metric in ("p50 ms", "p90 ms", "p99 ms", "tiles/s"):

                    def values(server: str, kind: str = kind, clients: int = clients,
                               metric: str = metric, layer: str = layer) -> list[float]:  # fmt: skip
                        out = []
                        for r in rounds:
                            p = r[(server, layer, kind, clients)]
                            out.append(p.rate if metric == "tiles/s" else p.pct(float(metric[1:3])))
                        return out

                    scale = 1.0 if metric == "tiles/s" else 1000.0
                    ours, theirs = values("openee"), values("titiler")
                    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
                    lines.append(
                        f"| {kind} | {clients} | {metric} | {spread(ours, scale)} | "
                        f"{spread(theirs, scale)} | {spread(ratios, 1.0, 2)} | "
                        f"{spread(values('openee-nocache'), scale)} |"
                    )
        lines += [
            "",
            "| pixels (first pass) | same mask | both draw | RGB equal | within 1 per channel |",
            "|---|---:|---:|---:|---:|",
        ]
        for z in args.zooms:
            px = pixels[f"{layer} z{z}"]
            lines.append(
                f"| {layer} z{z} | {px['same_mask']:.4f} | {px['drawn']:.3f} | "
                f"{px['equal']:.4f} | {px['within1']:.4f} |"
            )
        lines.append("")
    lines += ["### Targets (issue 13), on the median of the rounds", ""]
    for layer in ("median", "palette"):

        def med(server: str, kind: str, clients: int, metric: str, layer: str = layer) -> float:
            vals = []
            for r in rounds:
                p = r[(server, layer, kind, clients)]
                vals.append(p.rate if metric == "rate" else p.pct(50))
            return statistics.median(vals)

        checks = [
            ("openee warm p50 <= 10 ms", med("openee", "warm", 1, "p50") <= TARGET_WARM_P50_S),
            (
                "openee cold p50 <= TiTiler cold p50 (1 client)",
                med("openee", "cold", 1, "p50") <= med("titiler", "cold", 1, "p50"),
            ),
            (
                "openee tiles/s >= TiTiler, 8 clients, cold",
                med("openee", "cold", 8, "rate") >= med("titiler", "cold", 8, "rate"),
            ),
            (
                "openee tiles/s >= TiTiler, 8 clients, warm",
                med("openee", "warm", 8, "rate") >= med("titiler", "warm", 8, "rate"),
            ),
        ]
        for text, ok in checks:
            lines.append(f"- {layer}: {text}: {'met' if ok else 'MISSED'}")
    return "\n".join(lines) + "\n"


def write_results(text: str) -> None:
    old = RESULTS.read_text() if RESULTS.exists() else f"{BEGIN}\n{END}\n"
    head, rest = old.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    RESULTS.write_text(f"{head}{BEGIN}\n{text}{END}{tail}")


def versions() -> str:
    import rasterio
    import rio_tiler
    import titiler.core
    import uvicorn

    return (
        f"python {platform.python_version()}, numpy {np.__version__}, rasterio "
        f"{rasterio.__version__}, GDAL {rasterio.__gdal_version__}, titiler.core "
        f"{titiler.core.__version__}, rio-tiler {rio_tiler.__version__}, uvicorn {uvicorn.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zooms", type=int, nargs="+", default=[9, 10, 11])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="print, do not write TILES.md")
    args = parser.parse_args()
    started = time.time()
    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="openee-tiles-") as tmp:
        work = Path(tmp)
        catalog_dir = make_cog_catalog(work / "cog")
        data_dir = work / "data"
        prepare_openee(catalog_dir, data_dir)
        items = item_dirs(catalog_dir)
        twins = item_dirs(catalog_dir, WARMUP_TILE)
        palette_dir = items[0]
        bounds = footprint(palette_dir / "B04.tif")
        tiles = tile_list(bounds, args.zooms)
        # The warm-up tile: over the 33TWM twins only, outside every measured tile.
        args.warmup_tile = tile_list((WARMUP_LON, WARMUP_LAT, WARMUP_LON, WARMUP_LAT), [9])[0]
        assert args.warmup_tile not in tiles
        colormap = ee_colormap(PALETTE)
        layers = Layers()
        layers.openee = openee_map_paths(data_dir, work, palette_dir.name)
        layers.openee_warmup = {
            k: layers.openee.pop(k) for k in list(layers.openee) if "warmup" in k
        }
        png = "{z}/{x}/{y}.png"
        cog_tile = "/cog/tiles/WebMercatorQuad/" + png
        vis = f"rescale={VIS_MIN},{VIS_MAX}"
        layers.titiler = {
            "median": f"/median/{png}?{vis}",
            "palette": f"{cog_tile}?url={palette_dir / 'B04.tif'}&{vis}&colormap_name=bench",
        }
        layers.titiler_warmup = {
            "median": f"/median/{png}?{vis}&items=warmup",
            "palette": f"{cog_tile}?url={twins[0] / 'B03.tif'}&{vis}&colormap_name=bench",
        }
        rounds = []
        pixels: dict[str, dict[str, float]] = {}
        for i in range(args.rounds):
            print(f"round {i + 1}/{args.rounds}", file=sys.stderr, flush=True)
            results, bodies = run_round(args, data_dir, work, layers, tiles, items, twins, colormap)
            rounds.append(results)
            if not pixels:
                for layer in ("median", "palette"):
                    for z in args.zooms:
                        pick = [i for i, t in enumerate(tiles) if t[0] == z]
                        ours = [bodies["openee"][layer][i] for i in pick]
                        theirs = [bodies["titiler"][layer][i] for i in pick]
                        pixels[f"{layer} z{z}"] = compare(ours, theirs)
                for layer in ("median", "palette"):  # the cache must not change a pixel
                    assert bodies["openee"][layer] == bodies["openee-nocache"][layer], layer
        notes = [
            f"Machine: nproc {os.cpu_count()}, {platform.processor() or platform.machine()}, "
            f"Linux {platform.release()}; load average before/after: {load_before} / "
            + " ".join(f"{v:.2f}" for v in os.getloadavg())
            + " (the machine is shared with other jobs: figures are indicative)",
            f"Versions: {versions()}",
            f"Files: {describe_files(catalog_dir)}",
            "Servers: one process each; openee `python -m openee serve` with its default "
            "Settings (tile cache on; a second openee with OPENEE_TILE_CACHE_BYTES=0); TiTiler "
            "`uvicorn titiler_app:app` (bench/titiler_app.py) with GDAL's defaults",
        ]
        text = report(args, rounds, pixels, notes, tiles, started)
    print(text)
    if not args.no_write:
        write_results(text)


def prepare_openee(catalog_dir: Path, data_dir: Path) -> None:
    """An openee data dir whose catalog holds the COG copy of the demo collection."""
    from openee.bootstrap import bootstrap
    from openee.catalog.profiles import SENTINEL2_L2A
    from openee.catalog.sqlite import SqliteCatalog
    from openee.catalog.stac_ingest import ingest_stac
    from openee.settings import Settings

    data_dir.mkdir(parents=True)
    store = SqliteCatalog(data_dir / "catalog.sqlite")
    ingest_stac(store, catalog_dir / "catalog.json", COLLECTION_ID, SENTINEL2_L2A)
    store.close()
    bootstrap(Settings(data_dir=data_dir))


if __name__ == "__main__":
    assert REPO_ROOT.exists()
    main()
