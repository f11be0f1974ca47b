"""A/B comparison of two checkouts of openee on cold HTTP requests, interleaved.

Single cold runs on a shared 2-core machine vary by 15-20 %, more than most single changes
gain, so comparing two `make bench` runs says little. This runs the benchmark's request (the
median of B4/B3/B2 over the 5 images of 33TWL, EPSG:4326 at 100 m, NPY) against a fresh
`openee serve` of checkout A, then of checkout B, round after round, so that the machine's
load drifts alike for both, and prints the median cold and warm time of each.

  .venv/bin/python bench/ab_http.py /path/to/checkout-a /path/to/checkout-b \\
      [--format cog|jp2] [--size 2048] [--rounds 8]

Each checkout's own bench/bench_http.py starts its own server from its own src/; the data
(the COG conversion of the demo tile, or the demo JPEG2000 files) is prepared once, by this
checkout, in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent

# One cold request (then two warm ones) against a fresh server of the checkout whose bench
# directory is argv[1]; prints {"cold": s, "warm": s}.
ONE_ROUND = """
import json, statistics, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from bench_common import Grid
from bench_http import Server
data_dir, work, size = Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
grid = Grid.centered(size, 100.0)
with Server(data_dir, work) as server:
    server.warm_up()
    started = time.perf_counter()
    server.fetch(grid)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(2):
        started = time.perf_counter()
        server.fetch(grid)
        warm.append(time.perf_counter() - started)
print(json.dumps({"cold": cold, "warm": statistics.median(warm)}))
"""


def prepare(fmt: str, work: Path) -> Path:
    """An openee data dir whose catalog holds the benchmark's collection in `fmt` files."""
    sys.path.insert(0, str(BENCH_DIR))
    from compute_pixels import Bench

    bench = Bench(argparse.Namespace(threads=2), work)
    return bench.prepare(fmt)[1]


def one_round(checkout: Path, data_dir: Path, work: Path, size: int) -> dict[str, float]:
    cmd = [sys.executable, "-c", ONE_ROUND, str(checkout / "bench"), str(data_dir), str(work)]
    proc = subprocess.run([*cmd, str(size)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"{checkout}: {proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("checkouts", nargs=2, type=Path, help="the two checkouts (A and B)")
    p.add_argument("--format", default="cog", choices=["cog", "jp2"])
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--rounds", type=int, default=8)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="openee-ab-"))
    try:
        data_dir = prepare(args.format, work)
        times: dict[Path, list[dict[str, float]]] = {c: [] for c in args.checkouts}
        for i in range(args.rounds):
            for checkout in args.checkouts:
                times[checkout].append(one_round(checkout.resolve(), data_dir, work, args.size))
            print(f"round {i + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for label, checkout in zip("AB", args.checkouts, strict=True):
        cold = [t["cold"] for t in times[checkout]]
        warm = [t["warm"] for t in times[checkout]]
        print(
            f"{label} {checkout}: cold median {statistics.median(cold):.3f} s "
            f"(min {min(cold):.3f}, max {max(cold):.3f}), warm median "
            f"{statistics.median(warm):.3f} s; {args.format} {args.size}x{args.size}, "
            f"{args.rounds} rounds"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
