"""Requests/s and latency with 1 vs 2 API replicas behind the balancer (issue 15).

A benchmark, not a test. It brings up `scripts/cluster.py`'s deployment (PostgreSQL, the S3
store with the demo COGs, Dask scheduler + 2 workers, 2 replicas, the balancer) and a second
balancer in front of replica 1 alone, so that both configurations pay the same proxy. Then, for
each configuration in turn (1, 2, 1, 2: the machine is shared, so drifts show), 8 client threads
each send computePixels requests back to back for --seconds: bench_common's August median of the
33TWL collection (5 images x B4/B3/B2, read from the S3 store), 256 x 256 pixels at 120 m, PNG,
on grids shifted by a fraction of a pixel each time (no two requests alike; GDAL's block cache is
warm after the warm-up, as in a busy server). Reported: requests/s, p50 and p99 latency, errors,
and the CPU seconds each process used per wall second (replicas, balancer, Dask workers, the
client threads of this script) — on 2 cores the sum cannot pass 2.0, which is what limits the
second replica.

    .venv/bin/python bench/replicas.py [--seconds 20] [--clients 8] [--out bench/REPLICAS.md]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import requests

BENCH_DIR = Path(__file__).resolve().parent
SCRIPTS = BENCH_DIR.parent / "scripts"
for folder in (BENCH_DIR, SCRIPTS):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import cluster  # noqa: E402  (scripts/cluster.py)
from bench_common import BANDS, Grid, expression  # noqa: E402

CLOUD = "https://www.googleapis.com/auth/cloud-platform"
SIZE, METRES = 256, 120.0


def body(index: int) -> dict[str, Any]:
    grid = Grid.centered(SIZE, METRES).shifted((index % 97) * 0.37)
    return {
        "expression": expression(),
        "fileFormat": "PNG",
        "bandIds": list(BANDS),
        "grid": grid.to_wire(),
        "visualizationOptions": {"ranges": [{"min": 0, "max": 3000}]},
    }


def token(info: dict[str, Any]) -> str:
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_file(info["key"], scopes=[CLOUD])
    credentials.refresh(Request())
    return str(credentials.token)


def load(url: str, project: str, bearer: str, clients: int, seconds: float) -> dict[str, Any]:
    """`clients` threads sending requests back to back for `seconds`; latencies and errors."""
    counter = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    target = f"{url}/v1/projects/{project}/image:computePixels"

    def client() -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {bearer}"
            while time.monotonic() < stop_at:
                payload = body(next(counter))
                started = time.perf_counter()
                response = session.post(target, json=payload, timeout=120)
                elapsed = time.perf_counter() - started
                with lock:
                    if response.status_code == 200 and response.content[:4] == b"\x89PNG":
                        latencies.append(elapsed)
                    else:
                        errors.append(f"{response.status_code} {response.text[:100]}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    return {"wall": wall, "latencies": latencies, "errors": errors}


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds so far of each component with its children (a dask worker's
    process under its nanny); of this process alone (the components are its children too)."""
    out = {}
    for name, pid in pids.items():
        try:
            process = psutil.Process(pid)
            own = process.cpu_times()
            times = (
                [own]
                if pid == os.getpid()
                else [own] + [c.cpu_times() for c in process.children(True)]
            )
        except psutil.NoSuchProcess:
            continue
        out[name] = sum(t.user + t.system for t in times)
    return out


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run(args: argparse.Namespace, state: Path) -> str:
    info = cluster.up(state, cluster.free_port(), args.cogs)
    deploy = cluster.Deployment(state)
    pids = {c["name"]: int(c["pid"]) for c in deploy.components}
    single_port = cluster.free_port()
    single = deploy.spawn(
        "balancer-1-replica",
        [
            sys.executable,
            str(SCRIPTS / "balancer.py"),
            "--port",
            str(single_port),
            "--backend",
            info["replicas"][0],
        ],
        cluster.child_env({}),
    )
    single_url = f"http://127.0.0.1:{single_port}"
    deploy.wait_http("balancer-1-replica", single, f"{single_url}/$discovery/rest?version=v1")
    pids["balancer-1-replica"] = single.pid
    pids["bench client"] = os.getpid()
    bearer = token(info)
    configs = {"1 replica": single_url, "2 replicas": info["url"]}
    for url in configs.values():  # warm-up: files opened, blocks cached, code paths loaded
        load(url, info["project"], bearer, args.clients, 5.0)

    rows = []
    for name in ["1 replica", "2 replicas"] * args.rounds:
        before = cpu_seconds(pids)
        psutil.cpu_percent()  # the machine's busy share from here on, every process counted
        result = load(configs[name], info["project"], bearer, args.clients, args.seconds)
        result["busy"] = psutil.cpu_percent()
        after = cpu_seconds(pids)
        wall = result["wall"]
        cpu = {k: (after[k] - before.get(k, 0.0)) / wall for k in after}
        rows.append((name, result, cpu))
        done = len(result["latencies"])
        print(f"{name}: {done / wall:.1f} req/s, {len(result['errors'])} errors", file=sys.stderr)

    rate = {
        name: statistics.median(len(r["latencies"]) / r["wall"] for n, r, _ in rows if n == name)
        for name in configs
    }
    lines = [
        f"`bench/replicas.py --seconds {args.seconds} --clients {args.clients} --rounds "
        f"{args.rounds}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.machine()}, {os.cpu_count()} cores, load average before "
        f"{args.load_before:.1f}, after {os.getloadavg()[0]:.1f}.",
        "",
        f"computePixels: the August median of 33TWL (5 images x {'/'.join(BANDS)} from the S3 "
        f"store), {SIZE}x{SIZE} px at {METRES:.0f} m, PNG; {args.clients} clients back to back.",
        "",
        "| config | req/s | p50 ms | p99 ms | errors | replicas' CPU ms per request | CPU s per "
        "s: replica-1, replica-2, balancer, dask workers, bench client | machine busy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, result, cpu in rows:
        lat = result["latencies"]
        balancer = cpu.get("balancer" if name == "2 replicas" else "balancer-1-replica", 0.0)
        workers = cpu.get("dask-worker-1", 0.0) + cpu.get("dask-worker-2", 0.0)
        replicas = cpu.get("replica-1", 0.0) + cpu.get("replica-2", 0.0)
        per_request = 1000 * replicas * result["wall"] / max(1, len(lat))
        lines.append(
            f"| {name} | {len(lat) / result['wall']:.1f} | {quantile(lat, 0.5) * 1000:.0f} | "
            f"{quantile(lat, 0.99) * 1000:.0f} | {len(result['errors'])} | "
            f"{per_request:.0f} | {cpu.get('replica-1', 0.0):.2f}, "
            f"{cpu.get('replica-2', 0.0):.2f}, {balancer:.2f}, {workers:.2f}, "
            f"{cpu.get('bench client', 0.0):.2f} | {result['busy']:.0f} % |"
        )
    ratio = rate["2 replicas"] / rate["1 replica"]
    lines += [
        "",
        f"Median requests/s: 1 replica {rate['1 replica']:.1f}, 2 replicas "
        f"{rate['2 replicas']:.1f}; ratio {ratio:.2f}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cogs", type=Path, default=None, help="a COG cache (cluster.py --cogs)")
    parser.add_argument("--out", type=Path, default=None, help="append the results here")
    args = parser.parse_args()
    args.load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="openee-replicas-") as tmp:
        state = Path(tmp)
        try:
            report = run(args, state)
        finally:
            cluster.down(state)
    print(report)
    if args.out:
        with args.out.open("a") as out:
            out.write("\n" + report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
