"""computePixels benchmark (issue 3): openee against the decode floor and its peers, side by side.

A benchmark, not a test. In one run, on the same files and the same grids, it times the median of
B4/B3/B2 over the 5 images of tile 33TWL (COPERNICUS/S2_SR_HARMONIZED, August 2023) on an
EPSG:4326 grid at 100 m, 640x640 and 2048x2048, centred at (15.7, 45.55):

  floor    rasterio reading only the source windows the grid needs, at the matching overview;
           no warp, no math (threads = nproc)
  naive    rasterio reproject (nearest) + numpy masked median (threads = nproc)
  inproc   openee's evaluator + compute_pixels in this process (NPY), no HTTP
  http     openee over HTTP: `python -m openee serve`, google-auth AuthorizedSession, NPY
  odc      odc.stac.load onto the same GeoBox (nearest) + xarray median skipping nodata

each on the JPEG2000 source files and on the same 15 files converted to COG (DEFLATE, 256-px
tiles, overviews). It also measures the peak memory of an 8192x8192 request in a subprocess, and
profiles the in-process path once. Results go to bench/RESULTS.md (between the markers).

Timing: "first" is the first run; "warm" the median (and min) of --runs further runs. openee keeps
datasets open per thread, so its warm runs are served from GDAL's decoded-block cache: "cold" is
the median of --cold runs each with empty decoded-block caches (in-process: a fresh thread pool;
HTTP: a fresh server, warmed up on 33TWM files first). floor, naive and odc keep no cache across
runs, so for them cold = warm. Ratios against the floor use openee's cold figure.

Run as `make bench`, or:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/compute_pixels.py
(OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, set on some machines, slow a current numpy.)
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from bench_common import (  # noqa: E402
    COLLECTION_ID,
    DEMO_CATALOG_DIR,
    band_paths,
    describe_files,
    make_cog_catalog,
)
from bench_common import Grid as Grid  # noqa: E402
from bench_http import WARMUP_LAT, WARMUP_LON, Server  # noqa: E402
from bench_pipelines import (  # noqa: E402
    InlineExecutor,
    OpeneeInProcess,
    agreement,
    decode_floor,
    exact_reference,
    odc_stac_xarray,
    rasterio_numpy,
    stac_items,
)

RESULTS = BENCH_DIR / "RESULTS.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
PIPELINES = {
    "floor": "decode floor (rasterio windows)",
    "naive": "rasterio reproject + numpy median",
    "inproc": "openee in-process",
    "http": "openee HTTP",
    "odc": "odc-stac + xarray",
}
TARGET_HTTP_OVER_FLOOR = 2.0
TARGET_ODC_OVER_HTTP = {640: 3.0, 2048: 30.0}
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass
class Cell:
    """The timings of one pipeline on one (format, size)."""

    first: float = float("nan")
    warm: list[float] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)  # openee only: empty decoded-block caches
    # Fraction of pixels equal to the exact-nearest reference (same mask; values within 0.5).
    agree: float | None = None
    note: str = ""

    @property
    def warm_median(self) -> float:
        return statistics.median(self.warm) if self.warm else float("nan")

    @property
    def warm_min(self) -> float:
        return min(self.warm) if self.warm else float("nan")

    @property
    def cold_median(self) -> float:
        """Median time with no decoded-block cache; for cache-less pipelines, the warm median."""
        return statistics.median(self.cold) if self.cold else self.warm_median


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.threads = args.threads
        self.cells: dict[tuple[str, int, str], Cell] = {}
        self.setup_notes: list[str] = []
        self.memory: list[dict[str, Any]] = []
        self.profiles: dict[str, str] = {}
        self.references: dict[int, np.ndarray] = {}

    # -- inputs ---------------------------------------------------------------------------------

    def prepare(self, fmt: str) -> tuple[Path, Path]:
        """(catalog directory of the band files, openee data dir whose catalog points at them)."""
        from openee.bootstrap import bootstrap
        from openee.catalog.profiles import SENTINEL2_L2A
        from openee.catalog.sqlite import SqliteCatalog
        from openee.catalog.stac_ingest import ingest_stac
        from openee.settings import Settings

        data_dir = self.work / f"{fmt}-data"
        if fmt == "jp2":
            catalog_dir = DEMO_CATALOG_DIR
            seconds, _ = timed(lambda: bootstrap(Settings(data_dir=data_dir)))
            self.setup_notes.append(f"jp2: openee bootstrap (ingest + key) {seconds:.2f} s")
        else:
            seconds, catalog_dir = timed(lambda: make_cog_catalog(self.work / "cog"))
            self.setup_notes.append(f"cog: converted 15 files to COG in {seconds:.2f} s")
            data_dir.mkdir(parents=True)
            store = SqliteCatalog(data_dir / "catalog.sqlite")
            ingest_stac(store, catalog_dir / "catalog.json", COLLECTION_ID, SENTINEL2_L2A)
            store.close()
            # The catalog already holds the collection, so bootstrap only writes the key.
            bootstrap(Settings(data_dir=data_dir))
        self.setup_notes.append(f"{fmt}: {describe_files(catalog_dir)}")
        return catalog_dir, data_dir

    # -- measurement ----------------------------------------------------------------------------

    def measure(
        self, key: tuple[str, int, str], run: Callable[[], Any], reference: np.ndarray | None
    ) -> Any:
        """First run plus --runs warm runs of a cache-less pipeline."""
        cell = self.cells.setdefault(key, Cell())
        cell.first, first = timed(run)
        for _ in range(self.args.runs):
            cell.warm.append(timed(run)[0])
        if reference is not None and isinstance(first, np.ndarray):
            cell.agree = agreement(reference, first)
        self.report_cell(key)
        return first

    def measure_inproc(
        self, key: tuple[str, int, str], inproc: OpeneeInProcess, grid: Grid, ref: np.ndarray
    ) -> None:
        cell = self.cells.setdefault(key, Cell())
        executor = None
        for i in range(self.args.cold):
            if executor is not None:
                executor.shutdown()  # its threads' open datasets (and cached blocks) go with it
            executor = ThreadPoolExecutor(self.threads, thread_name_prefix="bench-openee")
            seconds, out = timed(lambda ex=executor: inproc(grid, ex))
            cell.cold.append(seconds)
            if i == 0:
                cell.first = seconds
                cell.agree = agreement(ref, out)
        assert executor is not None
        for _ in range(self.args.runs):
            cell.warm.append(timed(lambda ex=executor: inproc(grid, ex))[0])
        executor.shutdown()
        self.report_cell(key)

    def measure_http(
        self, key: tuple[str, int, str], data_dir: Path, grid: Grid, ref: np.ndarray
    ) -> None:
        cell = self.cells.setdefault(key, Cell())
        startups = []
        for i in range(self.args.cold):
            with Server(data_dir, self.work) as server:
                startups.append(server.startup_s)
                server.warm_up()
                seconds, out = timed(lambda s=server: s(grid))
                cell.cold.append(seconds)
                if i == 0:
                    cell.first = seconds
                    cell.agree = agreement(ref, out)
                if i == self.args.cold - 1:
                    for _ in range(self.args.runs):
                        cell.warm.append(timed(lambda s=server: s(grid))[0])
        cell.note = f"server ready in {statistics.median(startups):.2f} s"
        self.report_cell(key)

    def report_cell(self, key: tuple[str, int, str]) -> None:
        c = self.cells[key]
        agree = f" agree {c.agree:.4f}" if c.agree is not None else ""
        log(
            f"  {key[0]:>4} {key[1]:>5} {key[2]:<7} first {c.first:7.3f}  cold {c.cold_median:7.3f}"
            f"  warm {c.warm_median:7.3f} (min {c.warm_min:.3f}){agree}"
        )

    def run_format(self, fmt: str) -> None:
        catalog_dir, data_dir = self.prepare(fmt)
        files = band_paths(catalog_dir)
        items = stac_items(catalog_dir) if "odc" in self.args.pipelines else []
        inproc = OpeneeInProcess(data_dir / "catalog.sqlite")
        # Imports and first-call costs, on 33TWM files only (none of the measured blocks).
        inproc(
            Grid.centered(64, 100.0, WARMUP_LON, WARMUP_LAT),
            InlineExecutor(),
            (WARMUP_LON, WARMUP_LAT),
        )
        for size in self.args.sizes:
            grid = Grid.centered(size, self.args.metres)
            log(f"{fmt} {size}x{size}:")
            ref = self.references.get(size)
            if ref is None:  # the same values in both formats: computed once per size
                ref = self.references[size] = exact_reference(files, grid)
            if "floor" in self.args.pipelines:
                self.measure(
                    (fmt, size, "floor"), lambda g=grid: decode_floor(files, g, self.threads), None
                )
            if "naive" in self.args.pipelines:
                self.measure(
                    (fmt, size, "naive"), lambda g=grid: rasterio_numpy(files, g, self.threads), ref
                )
            if "inproc" in self.args.pipelines:
                self.measure_inproc((fmt, size, "inproc"), inproc, grid, ref)
            if "http" in self.args.pipelines:
                self.measure_http((fmt, size, "http"), data_dir, grid, ref)
            if "odc" in self.args.pipelines:
                self.measure(
                    (fmt, size, "odc"), lambda g=grid: odc_stac_xarray(items, g, self.threads), ref
                )
        if fmt in self.args.profile:
            self.profile(fmt, inproc, Grid.centered(max(self.args.sizes), self.args.metres))
        if fmt == self.args.mem_format and self.args.mem_size:
            self.memory_probe(data_dir)
        inproc.close()

    def profile(self, fmt: str, inproc: OpeneeInProcess, grid: Grid) -> None:
        """cProfile of one in-process request, chunks run inline so the profiler sees them."""
        profiler = cProfile.Profile()
        profiler.enable()
        inproc(grid, InlineExecutor())
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        total = stats.total_tt  # type: ignore[attr-defined]
        stats.sort_stats("tottime").print_stats(self.args.profile_top)
        lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
        start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
        self.profiles[f"{fmt} {grid.width}x{grid.height}, one thread, total {total:.2f} s"] = (
            "\n".join(lines[start:])
        )

    def memory_probe(self, data_dir: Path) -> None:
        size = self.args.mem_size
        metres = self.args.metres * max(self.args.sizes) / size  # same footprint as the 2048 grid
        attempts = [("B4,B3,B2"), ("B4,B3")]
        for bands in attempts:
            cmd = [sys.executable, str(BENCH_DIR / "bench_memprobe.py")]
            cmd += ["--catalog", str(data_dir / "catalog.sqlite"), "--size", str(size)]
            cmd += ["--metres", f"{metres:g}", "--bands", bands]
            log(f"memory probe: {size}x{size} at {metres:g} m, bands {bands}")
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            if proc.returncode != 0:
                self.memory.append(
                    {"bands": bands.split(","), "status": f"failed: {proc.stderr[-800:]}"}
                )
                continue
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            self.memory.append(result)
            log(f"  {memory_line(result)}")
            if result["status"] == "ok":
                break

    # -- report ---------------------------------------------------------------------------------

    def table(self) -> list[str]:
        rows = [
            "| size | files | pipeline | first s | cold s | warm s (median) | warm min s | agrees with exact nearest |",
            "|---|---|---|---:|---:|---:|---:|---:|",
        ]
        for (fmt, size, name), c in self.cells.items():
            agree = f"{c.agree:.4f}" if c.agree is not None else ""
            cold = f"{c.cold_median:.3f}" if c.cold else "="
            note = f" ({c.note})" if c.note else ""
            rows.append(
                f"| {size} | {fmt} | {PIPELINES[name]}{note} | {c.first:.3f} | {cold} | "
                f"{c.warm_median:.3f} | {c.warm_min:.3f} | {agree} |"
            )
        return rows

    def ratios(self) -> list[str]:
        lines = []
        keys = sorted({(fmt, size) for fmt, size, _ in self.cells}, key=lambda k: (k[1], k[0]))
        for fmt, size in keys:
            floor, inproc, http, odc = (
                self.cells.get((fmt, size, name)) for name in ("floor", "inproc", "http", "odc")
            )
            parts = []
            if http and floor:
                r = http.cold_median / floor.warm_median
                rw = http.warm_median / floor.warm_median
                ok = "met" if r <= TARGET_HTTP_OVER_FLOOR else "NOT met"
                parts.append(
                    f"HTTP/floor {r:.2f}x cold, {rw:.2f}x warm (target <= {TARGET_HTTP_OVER_FLOOR:g}x: {ok})"
                )
            if odc and http:
                r = odc.warm_median / http.cold_median
                rw = odc.warm_median / http.warm_median
                target = TARGET_ODC_OVER_HTTP.get(size)
                ok = (
                    ""
                    if target is None
                    else f" (target >= {target:g}x: {'met' if r >= target else 'NOT met'})"
                )
                parts.append(f"odc-stac/HTTP {r:.2f}x vs cold, {rw:.2f}x vs warm{ok}")
            if inproc and floor:
                r = inproc.cold_median / floor.warm_median
                rw = inproc.warm_median / floor.warm_median
                parts.append(f"inproc/floor {r:.2f}x cold, {rw:.2f}x warm")
            if http and inproc:
                parts.append(
                    f"HTTP overhead {1000 * (http.cold_median - inproc.cold_median):+.0f} ms cold"
                )
            lines.append(f"- {size}x{size} {fmt}: " + "; ".join(parts))
        return lines


def memory_line(m: dict[str, Any]) -> str:
    if "peak_maxrss_bytes" not in m:
        return f"bands {','.join(m['bands'])}: {m['status']}"
    mib = 1024 * 1024
    peak, budget = m["peak_maxrss_bytes"], m["budget_bytes"]
    verdict = "under" if peak <= budget else "OVER"
    return (
        f"{m['size']}x{m['size']} NPY, bands {','.join(m['bands'])} at {m['metres']:g} m: "
        f"{m['status']}; {m['seconds']:.1f} s; response {m['response_bytes'] / mib:.0f} MiB; "
        f"peak RSS {peak / mib:.0f} MiB (before the request {m['baseline_maxrss_bytes'] / mib:.0f} MiB) "
        f"vs budget max_response_bytes {budget / mib:.0f} MiB: {verdict} "
        f"(chunks {m['chunk_size']} px, {m['chunk_workers']} workers)"
    )


def versions() -> dict[str, str]:
    import rasterio

    out = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "rasterio": rasterio.__version__,
        "GDAL": rasterio.__gdal_version__,
    }
    for module in ("xarray", "dask", "odc.stac", "odc.geo", "odc.loader", "pystac"):
        try:
            mod = __import__(module, fromlist=["__version__"])
            out[module] = str(getattr(mod, "__version__", "?"))
        except ImportError:
            out[module] = "not installed"
    return out


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"nproc {os.cpu_count()}, {cpu}, {mem:.0f} GiB RAM, {platform.system()} {platform.release()}"


def blas_note() -> str:
    unset = [v for v in OPENBLAS_VARS if v not in os.environ]
    set_ = [f"{v}={os.environ[v]}" for v in OPENBLAS_VARS if v in os.environ]
    note = f"unset: {', '.join(unset) or '-'}; set: {', '.join(set_) or '-'}"
    try:
        from threadpoolctl import threadpool_info

        kernels = {
            f"{i.get('internal_api')} {i.get('architecture')} x{i.get('num_threads')}"
            for i in threadpool_info()
        }
        note += f"; threadpoolctl: {', '.join(sorted(kernels)) or 'no BLAS loaded'}"
    except ImportError:
        pass
    return note


def command_line() -> str:
    unset = " ".join(f"-u {v}" for v in OPENBLAS_VARS)
    argv = " ".join(shlex.quote(a) for a in sys.argv[1:])
    return f"env {unset} .venv/bin/python bench/compute_pixels.py {argv}".rstrip()


def render(bench: Bench, started: dt.datetime, elapsed: float, load: tuple[str, str]) -> str:
    v = versions()
    lines = [
        BEGIN,
        f"Run {started:%Y-%m-%d %H:%M} UTC, {elapsed:.0f} s in all. Generated by bench/compute_pixels.py;",
        "everything between the markers is rewritten by each run.",
        "",
        "```",
        command_line(),
        "```",
        "",
        f"- Machine: {machine()}; load average before/after: {load[0]} / {load[1]}",
        f"- Versions: {', '.join(f'{k} {val}' for k, val in v.items())}",
        f"- OpenBLAS variables: {blas_note()}",
        f"- Threads: {bench.threads} for floor, naive, odc (pool) and openee in-process; the server "
        "uses its own Settings().chunk_workers",
        f"- Grid: EPSG:4326, {bench.args.metres:g} m (= {bench.args.metres:g}/111319.49 deg), "
        "centred at (15.7, 45.55); runs: first + "
        f"{bench.args.runs} warm; openee cold = median of {bench.args.cold} cache-cold runs",
        *[f"- Setup: {n}" for n in bench.setup_notes],
        "",
        *bench.table(),
        "",
        "Ratios (cold = openee with empty decoded-block caches; the floor keeps no cache):",
        "",
        *bench.ratios(),
        "",
    ]
    if bench.memory:
        lines += ["Peak memory of a large request (subprocess, ru_maxrss):", ""]
        lines += [f"- {memory_line(m)}" for m in bench.memory]
        lines.append("")
    for title, text in bench.profiles.items():
        lines += [
            f"Profile of openee in-process ({title}), top by own time:",
            "",
            "```",
            text,
            "```",
            "",
        ]
    lines.append(END)
    return "\n".join(lines)


def write_results(section: str) -> None:
    header = (
        "# computePixels benchmark results\n\n"
        "See bench/compute_pixels.py for what is measured and how.\n\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else header + f"{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=3, help="warm runs after the first (default 3)")
    p.add_argument("--cold", type=int, default=3, help="cache-cold openee runs (default 3)")
    p.add_argument("--sizes", default="640,2048", help="output sizes (default 640,2048)")
    p.add_argument("--metres", type=float, default=100.0, help="output pixel size (default 100)")
    p.add_argument("--formats", default="jp2,cog", help="jp2, cog or both (default both)")
    p.add_argument(
        "--pipelines", default=",".join(PIPELINES), help="subset of " + ",".join(PIPELINES)
    )
    p.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    p.add_argument(
        "--profile", default="jp2,cog", help="formats to profile in-process ('' for none)"
    )
    p.add_argument("--profile-top", type=int, default=8)
    p.add_argument("--mem-size", type=int, default=8192, help="memory probe size (0: skip)")
    p.add_argument("--mem-format", default="cog", help="files of the memory probe (default cog)")
    p.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    p.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    args = p.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    args.formats = [f for f in args.formats.split(",") if f]
    args.pipelines = [x for x in args.pipelines.split(",") if x]
    args.profile = [f for f in args.profile.split(",") if f]
    unknown = set(args.pipelines) - set(PIPELINES) | set(args.formats) - {"jp2", "cog"}
    if unknown:
        p.error(f"unknown: {sorted(unknown)}")
    return args


def main() -> int:
    args = parse_args()
    if any(v in os.environ for v in OPENBLAS_VARS):
        log(f"warning: {' / '.join(OPENBLAS_VARS)} set: numpy may be slowed; see bench/RESULTS.md")
    started, load_before = dt.datetime.now(dt.UTC), loadavg()
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="openee-bench-"))
    bench = Bench(args, work)
    try:
        for fmt in args.formats:
            bench.run_format(fmt)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    section = render(bench, started, time.perf_counter() - t0, (load_before, loadavg()))
    print(section.replace(BEGIN, "").replace(END, "").strip())
    if not args.no_write:
        write_results(section)
        log(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
