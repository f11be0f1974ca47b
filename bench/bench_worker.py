"""Peak memory of one large openee computePixels request (NPY), in a process of its own.

Run by compute_pixels.py as a subprocess; prints one JSON line. The peak is the process's RSS
high-water mark (getrusage ru_maxrss), measured once before the request (after imports and a
small warm-up request) and once after it.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import BANDS, Grid, expression


def maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def current_rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--metres", type=float, default=25.0)
    parser.add_argument("--bands", default=",".join(BANDS))
    args = parser.parse_args()

    from openee.algorithms import default_registry
    from openee.algorithms.context import EvalContext, evaluation_context
    from openee.catalog.sqlite import SqliteCatalog
    from openee.compute.pixels import compute_pixels
    from openee.errors import OpeneeError
    from openee.graph.evaluate import evaluate
    from openee.settings import Settings

    settings = Settings()
    registry = default_registry()
    catalog = SqliteCatalog(args.catalog)
    bands = args.bands.split(",")
    executor = ThreadPoolExecutor(settings.chunk_workers)

    def request(grid: Grid) -> bytes:
        body = {"fileFormat": "NPY", "bandIds": bands, "grid": grid.to_wire()}
        with evaluation_context(EvalContext(catalog, "bench")):
            image = evaluate(expression(), registry)
            return compute_pixels(
                image, body, executor, settings.limits, settings.chunk_size
            ).content

    request(Grid.centered(64, 100.0))
    baseline = maxrss_bytes()
    baseline_now = current_rss_bytes()
    grid = Grid.centered(args.size, args.metres)
    started = time.perf_counter()
    status, response_bytes = "ok", 0
    try:
        response_bytes = len(request(grid))
    except OpeneeError as exc:
        status = f"rejected: {type(exc).__name__}: {exc}"
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "size": args.size,
                "metres": args.metres,
                "bands": bands,
                "status": status,
                "seconds": elapsed,
                "response_bytes": response_bytes,
                "baseline_maxrss_bytes": baseline,
                "baseline_rss_bytes": baseline_now,
                "peak_maxrss_bytes": maxrss_bytes(),
                "budget_bytes": settings.limits.max_response_bytes,
                "chunk_size": settings.chunk_size,
                "chunk_workers": settings.chunk_workers,
            }
        )
    )
    executor.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
