"""computePixels benchmark (issue 3): openee against the decode floor and its peers, side by side.

A benchmark, not a test. In one run, on the same files and the same grids, it times the median of
B4/B3/B2 over the 5 images of tile 33TWL (COPERNICUS/S2_SR_HARMONIZED, August 2023) on an
EPSG:4326 grid at 100 m, 640x640 and 2048x2048, centred at (15.7, 45.55):

  floor    rasterio reading only the source windows the grid needs, at the matching overview;
           no warp, no math (threads = nproc), in this long-running process
  floor-cold  the same floor, each run in a fresh process (bench_worker.py floor) after the same
           kind of warm-up as openee's cold request (the floor on 33TWM files): the like-for-like
           floor of a cold request, timed as it is and interleaved with it
  naive    rasterio reproject (nearest) + numpy masked median (threads = nproc)
  inproc   openee's evaluator + compute_pixels in this process (NPY), no HTTP
  http     openee over HTTP: `python -m openee serve`, google-auth AuthorizedSession, NPY
  odc      odc.stac.load onto the same GeoBox (nearest) + xarray median skipping nodata
  transfer the time a requests session takes to receive a body as large as openee's response
           from a bare uvicorn server that has it ready (bench_transfer.py): the part of any
           HTTP request's time that no server can remove

each on the JPEG2000 source files and on the same 15 files converted to COG (DEFLATE, 256-px
tiles, overviews). It also measures the peak memory of an 8192x8192 request in a subprocess, and
profiles the in-process path once (yappi, own CPU time per function), and times it per phase
(bench_phases.py: plan, sample maps, reads + decode, gather, reduce, assemble, encode) for a
cold request, a new grid and a repeat in one fresh process. Results go to bench/RESULTS.md (between the markers).

Timing: floor, naive and odc keep no cache from one run to the next: "first" is the first run,
"warm" the median (and min) of --runs further runs (fewer when they exceed --cell-budget s), and
cold = warm. openee keeps datasets open, and so GDAL's decoded blocks, across requests; so its
"cold" is the median of --cold requests each made by a fresh process (in-process: a
bench_worker.py subprocess; HTTP: a fresh `openee serve`), after a warm-up request on 33TWM files
that loads the code paths without touching the measured blocks; "first" is the first of them;
"warm" is the median of --runs repeated requests in one primed process; "new grid" is the
median of --runs requests in that same primed process (server) each on a grid shifted by a
fraction of a pixel (0.37, 0.74, 1.11, ... px, counted on across cells and formats: the two
formats' files share one source grid and the in-process pipeline one process, so a shift seen in
an earlier cell would find its sample maps cached), so no sample map or output chunk is reused while
the files stay open (their decoded blocks in GDAL's cache): what a running server meets on every
new tile position, export window or user region. Ratios to the floor use
openee's cold figure (the issue's target is about cold requests) and show the warm one too;
openee's cold figure is also set against floor-cold (median of --cold fresh processes, one run
before each of openee's cold requests), whose process, like openee's, starts with no page of its
memory touched: on the benchmark's VM such memory costs ~20x more to fault in when the
hypervisor has taken it back (bench/RESULTS.md, 2026-12-05 10:20).
openee's time ends when the NPY response is complete (in-process: the encoded bytes; HTTP: the
body received by google-auth's session): turning it into a (3, H, W) float array for the
agreement check is not timed, as the other pipelines end with the arrays they compute.

Run as `make bench`, or:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/compute_pixels.py
(OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, set on some machines, slow a current numpy.)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
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
    npy_to_stack,
    odc_stac_xarray,
    rasterio_numpy,
    stac_items,
)
from bench_transfer import TransferServer  # noqa: E402

RESULTS = BENCH_DIR / "RESULTS.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
PIPELINES = {
    "floor": "decode floor (rasterio windows)",
    "floor-cold": "decode floor, fresh process (rasterio windows)",
    "naive": "rasterio reproject + numpy median",
    "inproc": "openee in-process",
    "http": "openee HTTP",
    "odc": "odc-stac + xarray (numpy nanmedian)",
    "odc-bn": "odc-stac + xarray + bottleneck",
}
TARGET_HTTP_OVER_FLOOR = 2.0
NEW_GRID_SHIFT = 0.37  # pixels: run k of the new-grid case is shifted by k times this
TARGET_ODC_OVER_HTTP = {640: 3.0, 2048: 30.0}
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass
class Cell:
    """The timings of one pipeline on one (format, size)."""

    first: float = float("nan")
    warm: list[float] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)  # openee only: empty decoded-block caches
    new_grid: list[float] = field(default_factory=list)  # openee only: primed process, new grid
    # Fraction of pixels equal to the exact-nearest reference (same mask; values within 0.5).
    agree: float | None = None

    @property
    def warm_median(self) -> float:
        return statistics.median(self.warm) if self.warm else self.first

    @property
    def warm_min(self) -> float:
        return min(self.warm) if self.warm else self.first

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
        self.phases: dict[str, str] = {}
        self.references: dict[int, np.ndarray] = {}
        self.startups: list[float] = []
        self.cpu_ratio: dict[int, list[float]] = {}  # CPU time / wall time of cold requests
        self.loads: dict[tuple[str, int], tuple[str, str]] = {}  # load average around a cell
        self.new_grids = 0  # new-grid requests made so far: each is shifted further
        # Per size: (response bytes, seconds for the stock client to receive that many bytes).
        self.transfers: dict[int, tuple[int, float]] = {}
        self.allocator_tuned = False

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
            self.setup_notes.append(
                f"cog: converted 30 files (15 measured, 15 of the warm-up tile) to COG in {seconds:.2f} s"
            )
            data_dir.mkdir(parents=True)
            store = SqliteCatalog(data_dir / "catalog.sqlite")
            ingest_stac(store, catalog_dir / "catalog.json", COLLECTION_ID, SENTINEL2_L2A)
            store.close()
            # The catalog already holds the collection, so bootstrap only writes the key.
            bootstrap(Settings(data_dir=data_dir))
        self.setup_notes.append(f"{fmt}: {describe_files(catalog_dir)}")
        return catalog_dir, data_dir

    # -- measurement ----------------------------------------------------------------------------

    def worker(self, *args: str) -> dict[str, Any]:
        """Run bench_worker.py in a fresh process; its JSON answer."""
        cmd = [sys.executable, str(BENCH_DIR / "bench_worker.py"), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"bench_worker {args[0]} failed:\n{proc.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        return result

    def inproc_cold(self, catalog: Path, grid: Grid) -> float:
        """One in-process request in a fresh process (bench_worker.py cold)."""
        args = ["--catalog", str(catalog), "--size", str(grid.width)]
        args += ["--metres", repr(self.args.metres)]
        result = self.worker("cold", *args)
        self.cpu_ratio.setdefault(grid.width, []).append(result["cpu_seconds"] / result["seconds"])
        return float(result["seconds"])

    def floor_cold(self, catalog_dir: Path, grid: Grid) -> float:
        """The decode floor in a fresh process (bench_worker.py floor)."""
        args = ["--files", str(catalog_dir), "--size", str(grid.width)]
        args += ["--metres", repr(self.args.metres), "--threads", str(self.threads)]
        return float(self.worker("floor", *args)["seconds"])

    def http_cold(self, data_dir: Path, grid: Grid) -> tuple[float, bytes]:
        """One request to a freshly started server, after a warm-up request on 33TWM."""
        with Server(data_dir, self.work) as server:
            self.startups.append(server.startup_s)
            server.warm_up()
            return timed(lambda: server.fetch(grid))

    def report_cell(self, key: tuple[str, int, str]) -> None:
        c = self.cells[key]
        agree = f" agree {c.agree:.4f}" if c.agree is not None else ""
        if c.new_grid:
            agree += f" new grid {statistics.median(c.new_grid):.3f}"
        log(
            f"  {key[0]:>4} {key[1]:>5} {key[2]:<7} first {c.first:7.3f}  cold {c.cold_median:7.3f}"
            f"  warm {c.warm_median:7.3f} (min {c.warm_min:.3f}, n {len(c.warm)}){agree}"
        )

    def run_format(self, fmt: str) -> None:
        catalog_dir, data_dir = self.prepare(fmt)
        odc = {"odc", "odc-bn"} & set(self.args.pipelines)
        items = stac_items(catalog_dir) if odc else []
        inproc = OpeneeInProcess(data_dir / "catalog.sqlite")
        executor = ThreadPoolExecutor(inproc.settings.chunk_workers, thread_name_prefix="bench")
        # Imports and first-call costs, on 33TWM files only (none of the measured blocks).
        inproc(
            Grid.centered(64, 100.0, WARMUP_LON, WARMUP_LAT),
            InlineExecutor(),
            (WARMUP_LON, WARMUP_LAT),
        )
        with contextlib.ExitStack() as stack:
            server = None
            if "http" in self.args.pipelines:
                server = stack.enter_context(Server(data_dir, self.work))
                server.warm_up()
            for size in self.args.sizes:
                self.run_cell(fmt, size, catalog_dir, items, inproc, executor, server)
        if fmt in self.args.profile:
            self.profile(fmt, data_dir, max(self.args.sizes))
        if fmt in self.args.phases:
            self.phase_profile(fmt, data_dir, max(self.args.sizes))
        if fmt == self.args.mem_format and self.args.mem_size:
            self.memory_probe(data_dir)
        executor.shutdown()
        inproc.close()

    def run_cell(
        self,
        fmt: str,
        size: int,
        catalog_dir: Path,
        items: list[Any],
        inproc: OpeneeInProcess,
        executor: Executor,
        server: Server | None,
    ) -> None:
        """All pipelines on one (format, size), interleaved round by round so that a change in
        the machine's load hits every pipeline alike."""
        grid = Grid.centered(size, self.args.metres)
        files = band_paths(catalog_dir)
        log(f"{fmt} {size}x{size}:")
        load_before = loadavg()
        ref = self.references.get(size)
        if ref is None:  # the same values in both formats: computed once per size
            ref = self.references[size] = exact_reference(files, grid)
        names = [n for n in PIPELINES if n in self.args.pipelines]
        cells = {n: self.cells.setdefault((fmt, size, n), Cell()) for n in names}
        warm: dict[str, Callable[[], Any]] = {
            "floor": lambda: decode_floor(files, grid, self.threads),
            "naive": lambda: rasterio_numpy(files, grid, self.threads),
            # openee's output is the NPY response itself: its conversion to a (3, H, W) stack
            # for the agreement check is not timed (the other pipelines return arrays).
            "inproc": lambda: inproc.content(grid, executor),
            "odc": lambda: odc_stac_xarray(items, grid, self.threads, bottleneck=False),
            "odc-bn": lambda: odc_stac_xarray(items, grid, self.threads, bottleneck=True),
        }
        if server is not None:
            warm["http"] = lambda: server.fetch(grid)
        new_grid: dict[str, Callable[[Grid], Any]] = {
            "inproc": lambda g: inproc.content(g, executor),
            "http": lambda g: server.fetch(g) if server is not None else None,
        }
        catalog = inproc.catalog_path
        data_dir = catalog.parent
        response_bytes = 0
        # Round 1: the first run of each; for openee that is a cold request in a fresh process.
        for name in names:
            cell = cells[name]
            if name == "inproc":
                cell.first = self.inproc_cold(catalog, grid)
                cell.cold.append(cell.first)
                out = inproc(grid, executor)  # primes this process for the warm runs
            elif name == "http":
                cell.first, out = self.http_cold(data_dir, grid)
                cell.cold.append(cell.first)
                warm["http"]()  # primes the long-running server for the warm runs
            elif name == "floor-cold":
                cell.first = self.floor_cold(catalog_dir, grid)
                cell.cold.append(cell.first)
                continue
            else:
                cell.first, out = timed(warm[name])
            if isinstance(out, (bytes, bytearray, memoryview)):
                response_bytes = len(out)
                out = npy_to_stack(out)
            if isinstance(out, np.ndarray):
                cell.agree = agreement(ref, out)
        # More cold openee requests, each in a fresh process, each after a fresh floor.
        for _ in range(self.args.cold - 1):
            if "floor-cold" in cells:
                cells["floor-cold"].cold.append(self.floor_cold(catalog_dir, grid))
            if "inproc" in cells:
                cells["inproc"].cold.append(self.inproc_cold(catalog, grid))
            if "http" in cells:
                cells["http"].cold.append(self.http_cold(data_dir, grid)[0])
        # Warm rounds; a slow cache-less pipeline stops once its runs took --cell-budget seconds
        # (with none at all, its first run stands for the warm figure).
        for _ in range(self.args.runs):
            for name in names:
                cell = cells[name]
                if name == "floor-cold":  # only ever cold
                    continue
                if name in new_grid:  # the primed process asked for a grid it never saw
                    self.new_grids += 1
                    moved = grid.shifted(NEW_GRID_SHIFT * self.new_grids)
                    cell.new_grid.append(timed(functools.partial(new_grid[name], moved))[0])
                if cell.first + sum(cell.warm) > self.args.cell_budget and name not in (
                    "inproc",
                    "http",
                ):
                    continue
                cell.warm.append(timed(warm[name])[0])
        self.loads[(fmt, size)] = (load_before, loadavg())
        if "http" in cells and size not in self.transfers:
            with TransferServer() as bare:
                self.transfers[size] = (response_bytes, bare.seconds(response_bytes))
            log(f"  transfer floor {response_bytes} bytes: {self.transfers[size][1]:.3f} s")
        for name in names:
            self.report_cell((fmt, size, name))

    def profile(self, fmt: str, data_dir: Path, size: int) -> None:
        """Own CPU time per function over all threads (yappi) of one cold in-process request."""
        args = ["--catalog", str(data_dir / "catalog.sqlite"), "--size", str(size)]
        args += ["--metres", repr(self.args.metres), "--top", str(self.args.profile_top)]
        try:
            result = self.worker("profile", *args)
        except RuntimeError as exc:
            self.profiles[f"{fmt} {size}x{size}"] = f"failed: {exc}"
            return
        rows = ["  own CPU s   calls  function (where)"]
        rows += [
            f"{r['own_s']:11.3f} {r['calls']:7d}  {r['function']} ({r['where']})"
            for r in result["rows"]
        ]
        title = (
            f"{fmt} {size}x{size}, cold: wall {result['seconds']:.2f} s, CPU over all threads "
            f"{result['cpu_seconds']:.2f} s"
        )
        self.profiles[title] = "\n".join(rows)
        log(f"profile {title}\n" + "\n".join(rows))

    def phase_profile(self, fmt: str, data_dir: Path, size: int) -> None:
        """Wall and CPU time per phase (bench_phases.py) of a cold request, then a new grid and
        a repeat of it, in one fresh process."""
        args = ["--catalog", str(data_dir / "catalog.sqlite"), "--size", str(size)]
        args += ["--metres", repr(self.args.metres), "--shift", repr(NEW_GRID_SHIFT)]
        try:
            result = self.worker("phases", *args)
        except RuntimeError as exc:
            self.phases[f"{fmt} {size}x{size}"] = f"failed: {exc}"
            return
        cases = ("cold", "new grid", "warm")
        head = "".join(f" {c + ' wall':>14} {'cpu':>6} {'faults':>6}" for c in cases)
        rows = [f"{'phase (own time, summed over threads)':<52}{head}"]
        for i, phase in enumerate(result["cold"]["phases"]):
            cols = "".join(
                f" {p['wall_s']:14.3f} {p['cpu_s']:6.3f} {p['minor_faults']:6d}"
                for p in (result[c]["phases"][i] for c in cases)
            )
            rows.append(f"{phase['phase']:<52}{cols}")
        req = "".join(
            f" {result[c]['seconds']:14.3f} {result[c]['cpu_seconds']:6.3f}"
            f" {result[c]['minor_faults']:6d}"
            for c in cases
        )
        rows.append(f"{'request (wall; CPU of the process)':<52}{req}")
        title = f"{fmt} {size}x{size}"
        self.phases[title] = "\n".join(rows)
        log(f"phases {title}\n" + "\n".join(rows))

    def memory_probe(self, data_dir: Path) -> None:
        """Peak memory of one size x size request in a fresh process: all three bands first,
        then, if the budget rejects that, the bands that fit."""
        size = self.args.mem_size
        metres = self.args.metres * max(self.args.sizes) / size  # the 2048 grid's footprint
        for bands in ("B4,B3,B2", "B4,B3"):
            log(f"memory probe: {size}x{size} at {metres:g} m, bands {bands}")
            args = ["--catalog", str(data_dir / "catalog.sqlite"), "--size", str(size)]
            args += ["--metres", repr(metres), "--bands", bands]
            try:
                result = self.worker("memory", *args)
            except RuntimeError as exc:
                result = {"bands": bands.split(","), "status": f"failed: {exc}"}
            self.memory.append(result)
            log(f"  {memory_line(result)}")
            if result.get("status") == "ok":
                break

    # -- report ---------------------------------------------------------------------------------

    def table(self) -> list[str]:
        rows = [
            "| size | files | pipeline | first s | cold s | new grid s (median (n)) | warm s (median (n)) | warm min s | agrees with exact nearest |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for (fmt, size, name), c in self.cells.items():
            agree = f"{c.agree:.4f}" if c.agree is not None else ""
            cold = f"{c.cold_median:.3f}" if c.cold else "="
            new = f"{statistics.median(c.new_grid):.3f} ({len(c.new_grid)})" if c.new_grid else ""
            warm = f"{c.warm_median:.3f} ({len(c.warm)}) | {c.warm_min:.3f}" if c.warm else " | "
            rows.append(
                f"| {size} | {fmt} | {PIPELINES[name]} | {c.first:.3f} | {cold} | {new} | "
                f"{warm} | {agree} |"
            )
        return rows

    def ratios(self) -> list[str]:
        lines = []
        keys = sorted({(fmt, size) for fmt, size, _ in self.cells}, key=lambda k: (k[1], k[0]))
        for fmt, size in keys:
            floor, floor_cold, inproc, http, odc, odc_bn = (
                self.cells.get((fmt, size, name))
                for name in ("floor", "floor-cold", "inproc", "http", "odc", "odc-bn")
            )
            parts = []
            if http and floor:
                r = http.cold_median / floor.warm_median
                rw = http.warm_median / floor.warm_median
                ok = "met" if r <= TARGET_HTTP_OVER_FLOOR else "NOT met"
                parts.append(
                    f"HTTP/floor {r:.2f}x cold, {rw:.2f}x warm "
                    f"(target <= {TARGET_HTTP_OVER_FLOOR:g}x cold: {ok})"
                )
            transfer = self.transfers.get(size)
            if http and floor and transfer:
                r = http.cold_median / (floor.warm_median + transfer[1])
                parts.append(
                    f"transfer floor {transfer[1]:.3f} s (the stock client receiving "
                    f"{transfer[0] / 2**20:.1f} MiB from a server that has it ready), "
                    f"HTTP/(floor + transfer) {r:.2f}x cold"
                )
            target = TARGET_ODC_OVER_HTTP.get(size)
            for label, peer in (("odc-stac", odc), ("odc-stac+bottleneck", odc_bn)):
                if peer and http:
                    r = peer.warm_median / http.cold_median
                    rw = peer.warm_median / http.warm_median
                    verdict = "met" if r >= (target or 0) else "NOT met"
                    if target and r < target and floor:
                        # What meeting it would take, against what no reader can go below.
                        needed = peer.warm_median / target
                        verdict += (
                            f": needs HTTP <= {needed:.3f} s = "
                            f"{needed / floor.warm_median:.2f}x the decode floor"
                        )
                    ok = f" (target >= {target:g}x: {verdict})" if target else ""
                    parts.append(f"{label}/HTTP {r:.2f}x vs cold, {rw:.2f}x vs warm{ok}")
            if inproc and floor:
                r = inproc.cold_median / floor.warm_median
                rw = inproc.warm_median / floor.warm_median
                parts.append(f"inproc/floor {r:.2f}x cold, {rw:.2f}x warm")
            if floor_cold:
                fresh = floor_cold.cold_median
                for label, cell in (("inproc", inproc), ("HTTP", http)):
                    if cell:
                        parts.append(
                            f"{label} cold/fresh-process floor ({fresh:.3f} s, median of "
                            f"{len(floor_cold.cold)}) {cell.cold_median / fresh:.2f}x"
                        )
                if http and transfer:
                    r = http.cold_median / (fresh + transfer[1])
                    parts.append(f"HTTP/(fresh-process floor + transfer) {r:.2f}x cold")
            for label, cell in (("inproc", inproc), ("HTTP", http)):
                if cell and cell.new_grid:
                    new = statistics.median(cell.new_grid)
                    parts.append(
                        f"{label} new grid {new:.3f} s = {new / cell.warm_median:.2f}x warm, "
                        f"{new / cell.cold_median:.2f}x cold"
                    )
            if http and inproc:
                d_cold = 1000 * (http.cold_median - inproc.cold_median)
                d_warm = 1000 * (http.warm_median - inproc.warm_median)
                parts.append(f"HTTP - inproc {d_cold:+.0f} ms cold, {d_warm:+.0f} ms warm")
            load = self.loads.get((fmt, size))
            if load:
                parts.append(f"1-min load average {load[0].split()[0]} -> {load[1].split()[0]}")
            lines.append(f"- {size}x{size} {fmt}: " + "; ".join(parts))
        return lines


def memory_line(m: dict[str, Any]) -> str:
    if "peak_rss_bytes" not in m:
        return f"bands {','.join(m['bands'])}: {m['status']}"
    mib = 1024 * 1024
    peak, budget, before = m["peak_rss_bytes"], m["budget_bytes"], m["baseline_rss_bytes"]
    verdict = "under" if peak <= budget else "OVER"
    reset = "" if m.get("peak_reset") else " (peak not reset: includes the warm-up)"
    return (
        f"{m['size']}x{m['size']} NPY, bands {','.join(m['bands'])} at {m['metres']:g} m: "
        f"{m['status']}; {m['seconds']:.1f} s; response {m['response_bytes'] / mib:.0f} MiB; "
        f"peak RSS {peak / mib:.0f} MiB{reset} (RSS before the request {before / mib:.0f} MiB, "
        f"so {(peak - before) / mib:+.0f} MiB for the request) vs the budget "
        f"(Limits.memory_budget_bytes) {budget / mib:.0f} MiB: {verdict} "
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
        "- Allocator: glibc's mallopt settings of `openee serve` (openee/engine/allocator.py), "
        "in this process for every pipeline and in the openee subprocesses: "
        + ("applied" if bench.allocator_tuned else "not available here"),
        f"- Threads: {bench.threads} for floor, naive and odc (pool=); openee in-process and the "
        "server use their own Settings() (chunk_workers, chunk_size)",
        f"- Grid: EPSG:4326, {bench.args.metres:g} m (= {bench.args.metres:g}/111319.49 deg), "
        "centred at (15.7, 45.55); runs: first + "
        f"{bench.args.runs} warm (cell budget {bench.args.cell_budget:g} s); openee cold = median of "
        f"{bench.args.cold} fresh processes",
        *[f"- Setup: {n}" for n in bench.setup_notes],
        *(
            [
                f"- openee serve: ready in {statistics.median(bench.startups):.2f} s (median of "
                f"{len(bench.startups)} starts; not counted in any request)"
            ]
            if bench.startups
            else []
        ),
        "",
        *bench.table(),
        "",
        "Ratios (cold = openee with empty decoded-block caches; the floor keeps no cache):",
        "",
        *bench.ratios(),
        "",
        *(
            [
                "openee in-process cold requests, CPU time over wall time (2.0 = both cores busy): "
                + ", ".join(
                    f"{size}x{size} {statistics.median(r):.2f}"
                    for size, r in sorted(bench.cpu_ratio.items())
                ),
                "",
            ]
            if bench.cpu_ratio
            else []
        ),
    ]
    if bench.memory:
        lines += ["Peak memory of a large request (fresh process, VmHWM):", ""]
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
    for title, text in bench.phases.items():
        lines += [
            f"Phases of openee in-process ({title}; one fresh process: a cold request, then the "
            f"grid shifted by {NEW_GRID_SHIFT} px (new grid), then that again (warm)), seconds and "
            "minor page faults:",
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
    p.add_argument(
        "--runs",
        type=int,
        default=5,
        help="warm (and new-grid) runs after the first (default 5: a median of 3 moved with a "
        "few ms of noise, ~10 %% of a 2048² in-process request)",
    )
    p.add_argument("--cold", type=int, default=3, help="cache-cold openee runs (default 3)")
    p.add_argument(
        "--cell-budget",
        type=float,
        default=40.0,
        help="stop warm runs of a cache-less pipeline after this many seconds (default 40)",
    )
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
    p.add_argument(
        "--phases", default="cog", help="formats to time per phase in-process ('' for none)"
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
    args.phases = [f for f in args.phases.split(",") if f]
    unknown = set(args.pipelines) - set(PIPELINES) | set(args.formats) - {"jp2", "cog"}
    if unknown:
        p.error(f"unknown: {sorted(unknown)}")
    return args


def main() -> int:
    args = parse_args()
    # A SIGTERM unwinds like Ctrl-C, so servers stop and the work directory goes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if any(v in os.environ for v in OPENBLAS_VARS):
        log(f"warning: {' / '.join(OPENBLAS_VARS)} set: numpy may be slowed; see bench/RESULTS.md")
    from openee.engine.allocator import tune_allocator

    # The allocator setting `openee serve` makes, for every pipeline measured in this process
    # (floor, naive, odc and openee in-process alike).
    allocator_tuned = tune_allocator()
    started, load_before = dt.datetime.now(dt.UTC), loadavg()
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="openee-bench-"))
    bench = Bench(args, work)
    bench.allocator_tuned = allocator_tuned
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
