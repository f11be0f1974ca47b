"""One openee in-process request in a fresh process; run by compute_pixels.py, prints one JSON line.

  cold    the time of one request with empty caches (no dataset open, no decoded block, no
          sampling grid), after a warm-up request on 33TWM files that loads the code paths
  floor   the decode floor in a fresh process: bench_pipelines.decode_floor (rasterio reading
          the source windows the grid needs, at the matching overview) timed as `cold` times its
          request, after the same kind of warm-up (the floor on a 33TWM grid) and the same
          allocator setting; the like-for-like floor of a cold request (--files: the directory
          of the band files)
  profile the own CPU time per function, over all threads (yappi), of one cold request
  phases  per-phase wall and CPU time (bench_phases.py) of one cold request, then in the same
          process of the request on a new grid (shifted by --shift pixels: no sample map or
          output chunk reused, the same files) and of the same request again (fully warm)
  idle    the same request in one process, first cold, then again after each idle gap of
          --gaps seconds, with the kernel's counters: a warm process whose fresh memory (the
          response buffer) lands on pages the hypervisor took back while the machine was idle
  --counters (cold, floor): the kernel's counters of the timed call too (bench_counters.py:
          per-thread CPU and run-queue wait, context switches, faults, the machine's steal)
  memory  the peak memory of one large request. The peak is the RSS high-water mark (VmHWM of
          /proc/self/status; getrusage's ru_maxrss would do, but Linux carries it over fork +
          exec from the parent), reset after the warm-up (clear_refs 5) so it is the request's.

Both use openee's own Settings, with the OPENEE_* environment (chunk size, chunk workers, limits,
start-up work), as the server does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import BANDS, WARMUP_TILE, Grid, band_paths, expression
from bench_counters import counted
from bench_http import WARMUP_LAT, WARMUP_LON


def status_bytes(field: str) -> int:
    """A memory field of /proc/self/status (VmHWM: peak RSS, VmRSS: current RSS), in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    raise KeyError(field)


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def profile(run: Callable[[], object], top: int) -> dict[str, Any]:
    """CPU time per function over every thread (yappi, builtins included), own time first."""
    import yappi

    yappi.set_clock_type("cpu")
    yappi.start(builtins=True, profile_threads=True)
    started = time.perf_counter()
    run()
    wall = time.perf_counter() - started
    yappi.stop()
    stats = yappi.get_func_stats()
    stats.sort("tsub", "desc")
    total = sum(t.ttot for t in yappi.get_thread_stats())
    rows = []
    for s in list(stats)[:top]:
        where = f"{Path(s.module).name}:{s.lineno}" if s.lineno else Path(s.module).name
        rows.append({"function": s.name, "where": where, "calls": s.ncall, "own_s": s.tsub})
    yappi.clear_stats()
    return {"seconds": wall, "cpu_seconds": total, "rows": rows}


def floor(args: argparse.Namespace) -> int:
    """The decode floor in a fresh process, timed as `cold` times its request."""
    from bench_pipelines import decode_floor

    from openee.engine.allocator import tune_allocator

    tune_allocator()  # as compute_pixels.py does for the floor it measures in its own process
    # The same kind of warm-up as `cold`: the floor on the 33TWM files (GDAL's drivers, rasterio,
    # pyproj), none of the measured blocks.
    warm_up = Grid.centered(64, 100.0, WARMUP_LON, WARMUP_LAT)
    decode_floor(band_paths(args.files, WARMUP_TILE), warm_up, args.threads)
    files = band_paths(args.files)
    grid = Grid.centered(args.size, args.metres)
    out: dict[str, Any] = {"mode": "floor", "size": args.size, "metres": args.metres}
    with counted() if args.counters else contextlib.nullcontext({}) as counters:
        cpu, started = time.process_time(), time.perf_counter()
        out["pixels"] = decode_floor(files, grid, args.threads)
        out["seconds"] = time.perf_counter() - started
        out["cpu_seconds"] = time.process_time() - cpu
    if counters:
        out["counters"] = counters
    print(json.dumps(out))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["cold", "floor", "idle", "profile", "phases", "memory"])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--catalog", type=Path, help="openee's catalog.sqlite (not for floor)")
    parser.add_argument("--files", type=Path, help="the band files' directory (floor)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="floor")
    parser.add_argument("--counters", action="store_true", help="cold, floor: kernel counters")
    parser.add_argument("--gaps", default="0,0,5,0,5,0,8,0", help="idle: seconds before each")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--metres", type=float, required=True)
    parser.add_argument("--bands", default=",".join(BANDS))
    parser.add_argument("--shift", type=float, default=0.37, help="pixels, for `phases`")
    parser.add_argument(
        "--no-startup",
        action="store_true",
        help="skip what `openee serve` does before its first request (engine/startup.py)",
    )
    args = parser.parse_args()
    if args.mode == "floor":
        return floor(args)

    timer = None
    if args.mode == "phases":  # before openee's modules are imported by name below
        from bench_phases import PhaseTimer

        timer = PhaseTimer()
        timer.install()

    from openee.algorithms import default_registry
    from openee.algorithms.context import EvalContext, evaluation_context
    from openee.api.requests import pixels_request
    from openee.catalog.sqlite import SqliteCatalog
    from openee.engine.allocator import tune_allocator
    from openee.engine.startup import prepare_response_buffers, prepare_threads
    from openee.errors import OpeneeError
    from openee.graph.evaluate import evaluate
    from openee.services.pixels import compute_pixels
    from openee.settings import Settings

    tune_allocator()  # as `openee serve` does
    settings = Settings.from_env()  # as `openee serve` reads its settings
    registry = default_registry()
    catalog = SqliteCatalog(args.catalog)
    executor = ThreadPoolExecutor(settings.chunk_workers)
    if not args.no_startup:  # as `openee serve` does before its first request
        prepare_threads([(executor, settings.chunk_workers)], settings.prefault_bytes)
        prepare_response_buffers(settings.response_buffer_bytes)

    def request(grid: Grid, bands: list[str], point: tuple[float, float] | None = None) -> bytes:
        body = pixels_request({"fileFormat": "NPY", "bandIds": bands, "grid": grid.to_wire()})
        with evaluation_context(EvalContext(catalog, "bench")):
            image = evaluate(expression(*(point or ())), registry)
            return compute_pixels(
                image, body, executor, settings.limits, settings.chunk_size
            ).content

    request(Grid.centered(64, 100.0, WARMUP_LON, WARMUP_LAT), list(BANDS), (WARMUP_LON, WARMUP_LAT))
    out: dict[str, Any] = {"mode": args.mode, "size": args.size, "metres": args.metres}
    grid = Grid.centered(args.size, args.metres)
    bands = args.bands.split(",")
    if args.mode == "cold":
        with counted() if args.counters else contextlib.nullcontext({}) as counters:
            cpu, started = time.process_time(), time.perf_counter()
            request(grid, bands)
            out["seconds"] = time.perf_counter() - started
            out["cpu_seconds"] = time.process_time() - cpu  # all threads of this process
        if counters:
            out["counters"] = counters
    elif args.mode == "idle":
        out["requests"] = []
        for gap in [0.0] + [float(g) for g in args.gaps.split(",")]:
            time.sleep(gap)
            with counted() as counters:
                request(grid, bands)
            out["requests"].append({"gap_s": gap, "counters": counters})
    elif timer is not None:
        moved = grid.shifted(args.shift)
        for case, case_grid in (("cold", grid), ("new grid", moved), ("warm", moved)):
            with timer.measure() as measured:
                request(case_grid, bands)
            out[case] = measured
    elif args.mode == "profile":
        out.update(profile(lambda: request(grid, bands), args.top))
    else:
        out["baseline_rss_bytes"] = status_bytes("VmRSS")
        out["peak_reset"] = reset_peak()
        status, response_bytes = "ok", 0
        started = time.perf_counter()
        try:
            response_bytes = len(request(grid, bands))
        except OpeneeError as exc:
            status = f"rejected: {type(exc).__name__}: {exc}"
        out.update(
            bands=bands,
            status=status,
            seconds=time.perf_counter() - started,
            response_bytes=response_bytes,
            peak_rss_bytes=status_bytes("VmHWM"),
            budget_bytes=settings.limits.memory_budget_bytes,
            chunk_size=settings.chunk_size,
            chunk_workers=settings.chunk_workers,
        )
    print(json.dumps(out))
    executor.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
