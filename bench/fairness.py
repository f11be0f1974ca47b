"""Load and fairness: mixed stock-client load from several projects on one live server (issue 16).

A benchmark, not a timed test (tests/e2e/test_e2e_fair_shares.py holds the behaviour). One
`openee serve` (authentication on, default settings) on 127.0.0.1 over a fresh data dir; three
projects, each with its own service account and key, each driven by its own process running the
stock `earthengine-api` client (`ee.Initialize` with the key, `url=` the server) from threads:

  quiet    QUIET threads, interactive mix: Number.add getInfo, getAsset of the demo
           collection, a 64 x 64 computePixels (NPY) of the demo collection's median, and every
           8th request a fresh token grant (google-auth, POST /token)
  steady   STEADY threads, the same mix
  noisy    NOISY threads, heavy: a List.map over 20000 elements (value:compute) and a
           512 x 512 computePixels of the median at 30 m, alternately

Phase A runs quiet and steady for DURATION seconds; phase B runs all three. Every HTTP answer the
client receives is counted by status (the client's own retries of 429/5xx included, through a
recording `http_transport`); latencies are per call as the user sees them (retries included).
The noisy-neighbour figure is the quiet project's p99 in B against A.

    .venv/bin/python bench/fairness.py [--duration 30] [--out bench/FAIRNESS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
COLLECTION = "COPERNICUS/S2_SR_HARMONIZED"
POINT = (15.7, 45.55)
PROJECTS = ("quiet", "steady", "noisy")
EE_SCOPE = "https://www.googleapis.com/auth/earthengine"


# ---- the client side (one process per project) -------------------------------------------


def _grid(size: int, metres: float) -> dict[str, Any]:
    res = metres / 111319.49
    west, north = POINT[0] - res * size / 2, POINT[1] + res * size / 2
    return {
        "crsCode": "EPSG:4326",
        "affineTransform": {"scaleX": res, "translateX": west, "scaleY": -res, "translateY": north},
        "dimensions": {"width": size, "height": size},
    }


def client(project: str, key_file: str, url: str, profile: str, threads: int, until: float,
           out: str) -> None:  # fmt: skip
    """Runs one project's load until the wall-clock time `until`; writes its records as JSON."""
    import ee
    from ee import _cloud_api_utils
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    class Recording(_cloud_api_utils._Http):  # the client's own transport, counting answers
        def request(self, *args: Any, **kwargs: Any) -> Any:
            response, content = super().request(*args, **kwargs)
            with lock:
                statuses[int(response.status)] += 1
            return response, content

    key = json.loads(Path(key_file).read_text())
    import requests

    ee.Initialize(
        ee.ServiceAccountCredentials(key["client_email"], key_file),
        project=project,
        url=url,
        http_transport=Recording(requests.Session(), 300),
    )
    median = (
        ee.ImageCollection(COLLECTION)
        .filterBounds(ee.Geometry.Point(list(POINT)))
        .filterDate("2023-08-01", "2023-09-01")
        .median()
        .select(["B4", "B3", "B2"])
    )

    def value(i: int) -> None:
        assert ee.Number(i).add(1).getInfo() == i + 1

    def asset(_: int) -> None:
        ee.data.getAsset(COLLECTION)

    def pixels(_: int) -> None:
        ee.data.computePixels({"expression": median, "fileFormat": "NPY", "grid": _grid(64, 100)})

    def token(_: int) -> None:
        credentials = service_account.Credentials.from_service_account_file(
            key_file, scopes=[EE_SCOPE]
        )
        credentials.refresh(Request())

    def heavy_value(_: int) -> None:
        mapped = ee.List.sequence(0, 20000).map(lambda x: ee.Number(x).add(1))
        assert mapped.size().getInfo() == 20001

    def heavy_pixels(_: int) -> None:
        ee.data.computePixels({"expression": median, "fileFormat": "NPY", "grid": _grid(512, 30)})

    if profile == "heavy":
        mix = [heavy_value, heavy_pixels]
    else:
        mix = [value, asset, pixels, value, asset, pixels, value, token]
    records: list[list[Any]] = []

    def worker(offset: int) -> None:
        i = offset
        while time.time() < until:
            call = mix[i % len(mix)]
            started = time.time()
            error = ""
            try:
                call(i)
            except Exception as exc:  # a refused or failed call is a figure, not a crash
                error = f"{type(exc).__name__}: {str(exc)[:120]}"
            with lock:
                records.append([call.__name__, started, time.time() - started, error])
            i += 1

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    Path(out).write_text(json.dumps({"records": records, "statuses": dict(statuses)}))


# ---- the driver -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(data_dir: Path, *argv: str) -> None:
    cmd = [sys.executable, "-m", "openee", *argv, "--data-dir", str(data_dir)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _phase(
    url: str, keys: dict[str, Path], projects: dict[str, tuple[str, int]], duration: float,
    tmp: Path, name: str,
) -> dict[str, Any]:  # fmt: skip
    until = time.time() + duration
    procs = {}
    for project, (profile, threads) in projects.items():
        out = tmp / f"{name}-{project}.json"
        cmd = [sys.executable, __file__, "--client", project, str(keys[project]), url, profile,
               str(threads), str(until), str(out)]  # fmt: skip
        procs[project] = (subprocess.Popen(cmd), out)
    results = {}
    for project, (proc, out) in procs.items():
        if proc.wait() != 0:
            sys.exit(f"the {project} client failed")
        results[project] = json.loads(out.read_text())
    return results


def _summary(result: dict[str, Any], duration: float) -> dict[str, Any]:
    records = result["records"]
    statuses = Counter({int(k): v for k, v in result["statuses"].items()})
    latencies = [r[2] for r in records]
    by_kind: dict[str, list[float]] = {}
    for kind, _, seconds, error in records:
        if not error:
            by_kind.setdefault(kind, []).append(seconds)
    answers = sum(statuses.values())
    return {
        "calls": len(records),
        "per_s": len(records) / duration,
        "errors": Counter(r[3].split(":")[0] for r in records if r[3]),
        "answers": answers,
        "5xx": sum(v for k, v in statuses.items() if k >= 500),
        "429": statuses.get(429, 0),
        "p50": _percentile(latencies, 50),
        "p99": _percentile(latencies, 99),
        "kinds": {k: (len(v), _percentile(v, 50), _percentile(v, 99)) for k, v in by_kind.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--quiet", type=int, default=2, help="threads of the quiet project")
    parser.add_argument("--steady", type=int, default=4, help="threads of the steady project")
    parser.add_argument("--noisy", type=int, default=24, help="threads of the noisy project")
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    parser.add_argument("--client", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        project, key, url, profile, threads, until, out = args.client
        client(project, key, url, profile, int(threads), float(until), out)
        return
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data_dir, port = tmp / "data", _free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        log = open(tmp / "server.log", "wb")  # noqa: SIM115 - open for the server's life
        server = subprocess.Popen(
            [sys.executable, "-m", "openee", "serve", "--port", str(port), "--data-dir",
             str(data_dir)], stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        try:
            import requests

            deadline = time.monotonic() + 90
            while True:
                try:
                    requests.get(f"{url}/$discovery/rest?version=v1", timeout=2)
                    break
                except requests.RequestException:
                    if time.monotonic() > deadline or server.poll() is not None:
                        sys.exit((tmp / "server.log").read_text()[-3000:])
                    time.sleep(0.3)
            keys = {}
            for project in PROJECTS:
                account = f"load-{project}"
                _cli(data_dir, "service-accounts", "create", account, "--project", project)
                keys[project] = tmp / f"{project}.json"
                _cli(data_dir, "keys", "create", "--account", account, "--project", project,
                     "--port", str(port), "--out", str(keys[project]))  # fmt: skip
            interactive = {
                "quiet": ("interactive", args.quiet),
                "steady": ("interactive", args.steady),
            }
            # A short warm-up (imports, first reads of the demo files) outside the figures.
            _phase(url, keys, {"quiet": ("interactive", 2)}, 5, tmp, "warm")
            load = os.getloadavg()[0]
            alone = _phase(url, keys, interactive, args.duration, tmp, "alone")
            crowded = _phase(
                url, keys, {**interactive, "noisy": ("heavy", args.noisy)}, args.duration, tmp,
                "crowded",
            )  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    report = _report(args, alone, crowded, load)
    print(report)
    if args.out:
        args.out.write_text(report)


def _report(
    args: argparse.Namespace, alone: dict[str, Any], crowded: dict[str, Any], load: float
) -> str:
    lines = [
        "# Load and fairness",
        "",
        "Written by `.venv/bin/python bench/fairness.py --out bench/FAIRNESS.md` (what it runs:"
        " the script's docstring). calls: calls of the stock client; HTTP answers: responses the"
        " client's transport received, its own retries of 429 and 5xx included, token grants"
        " not; latencies per call as the user sees them, retries included.",
        "",
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores"
        f" ({platform.processor() or platform.machine()}), {args.duration:.0f} s per phase;"
        f" threads: quiet {args.quiet}, steady {args.steady}, noisy {args.noisy}; the machine's"
        f" 1-minute load average before the phases: {load:.1f} (server and clients share the"
        " cores).",
        "",
        "| phase | project | calls | calls/s | HTTP answers | 5xx | 429 | client errors"
        " | p50 s | p99 s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    kinds = []
    for phase, results in (("A: without noisy", alone), ("B: with noisy", crowded)):
        for project, result in results.items():
            s = _summary(result, args.duration)
            errors = ", ".join(f"{k} x{v}" for k, v in s["errors"].items()) or "0"
            lines.append(
                f"| {phase} | {project} | {s['calls']} | {s['per_s']:.1f} | {s['answers']}"
                f" | {s['5xx']} | {s['429']} | {errors} | {s['p50']:.3f} | {s['p99']:.3f} |"
            )
            for kind, (n, p50, p99) in sorted(s["kinds"].items()):
                kinds.append(f"| {phase} | {project} | {kind} | {n} | {p50:.3f} | {p99:.3f} |")
    quiet_a = _summary(alone["quiet"], args.duration)["p99"]
    quiet_b = _summary(crowded["quiet"], args.duration)["p99"]
    lines += [
        "",
        f"Noisy neighbour: the quiet project's p99 is {quiet_a:.3f} s without the noisy project"
        f" and {quiet_b:.3f} s with it ({quiet_b / quiet_a:.1f}x).",
        "",
        "Per kind of call (successful calls):",
        "",
        "| phase | project | call | n | p50 s | p99 s |",
        "|---|---|---|---|---|---|",
        *kinds,
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
