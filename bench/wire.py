"""The wire (issue 17, item 3): computePixels NPY responses sent as they are, gzip or zstd, end to
end, on loopback and on a link shaped to a given rate. A benchmark, not a test.

The shaped link is a network namespace of this benchmark's own (`oewire`) joined to the host by
a veth pair, each end shaped with `tc ... tbf` to --rate (default 1gbit); `openee serve` runs
inside the namespace on 10.231.0.2, the client outside (10.231.0.1), so the server sees a
remote client and its default policy (OPENEE_RESPONSE_COMPRESSION=auto) applies. On loopback the
server runs with `always`, since `auto` never compresses for a loopback client: that is the
measurement that decides it. Needs root (ip netns, tc); the namespace is removed at the end.

The client is a google-auth AuthorizedSession (requests, what the stock `ee` client sends its
calls through) with Accept-Encoding set per case:
  identity             nothing compressed
  gzip, deflate        what the stock `ee` client sends (googleapiclient sets it)
  gzip, deflate, zstd  what requests/urllib3 send when the client has backports.zstd
and, once per link, the stock client itself (`ee.data.computePixels`). Each request is repeated
(--repeat, after one warm-up) on the same grid, so the computation is warm and the differences
are the wire's: the server's compressor, the transfer, the client's decoder. Bodies are checked
equal to the identity body.

Run (root):
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/wire.py
Results: printed as a Markdown table (copied into bench/RESULTS.md by hand).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from bench_common import (  # noqa: E402
    COLLECTION_ID,
    REPO_ROOT,
    Grid,
    make_cog_catalog,
    request_body,
)

NETNS = "oewire"
HOST_IF, NS_IF = "oew-h", "oew-n"
HOST_IP, NS_IP = "10.231.0.1", "10.231.0.2"
PORT = 8080
READY_TIMEOUT_S = 90.0
ACCEPTS = {
    "identity": "identity",
    "gzip (stock ee header)": "gzip, deflate",
    "zstd (requests + backports.zstd)": "gzip, deflate, zstd",
}
# (label, grid): the 2048x2048 case (100 m; the grid passes the tile's footprint, whose
# surroundings are masked: zeros) and a grid inside the footprint (no masked border).
CASES = [
    ("2048x2048 float64 x3, 100 m", Grid.centered(2048, 100.0)),
    ("1024x1024 float64 x3, 60 m, inside the footprint", Grid.centered(1024, 60.0)),
    ("640x640 float64 x3, 100 m", Grid.centered(640, 100.0)),
]


def sh(*cmd: str, check: bool = True) -> None:
    subprocess.run(cmd, check=check, capture_output=True)


@contextlib.contextmanager
def shaped_link(rate: str) -> Iterator[None]:
    """The namespace, the veth pair and a token bucket of `rate` on both ends."""
    sh("ip", "netns", "del", NETNS, check=False)
    sh("ip", "link", "del", HOST_IF, check=False)
    try:
        sh("ip", "netns", "add", NETNS)
        sh("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF)
        sh("ip", "link", "set", NS_IF, "netns", NETNS)
        sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", HOST_IF)
        sh("ip", "link", "set", HOST_IF, "up")
        ns = ("ip", "netns", "exec", NETNS)
        sh(*ns, "ip", "addr", "add", f"{NS_IP}/24", "dev", NS_IF)
        sh(*ns, "ip", "link", "set", NS_IF, "up")
        sh(*ns, "ip", "link", "set", "lo", "up")
        # burst: at least one GSO packet (64 KiB) and the rate's worth of a few timer ticks.
        tbf = ("root", "tbf", "rate", rate, "burst", "512kb", "latency", "50ms")
        sh("tc", "qdisc", "add", "dev", HOST_IF, *tbf)
        sh(*ns, "tc", "qdisc", "add", "dev", NS_IF, *tbf)
        yield
    finally:
        sh("ip", "link", "del", HOST_IF, check=False)
        sh("ip", "netns", "del", NETNS, check=False)


@contextlib.contextmanager
def server(data_dir: Path, log: Path, host: str, policy: str, netns: bool) -> Iterator[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT / "src"), env.get("PYTHONPATH", "")])
    env["OPENEE_RESPONSE_COMPRESSION"] = policy
    cmd = [sys.executable, "-m", "openee", "serve", "--host", host, "--port", str(PORT)]
    cmd += ["--data-dir", str(data_dir)]
    if netns:
        cmd = ["ip", "netns", "exec", NETNS, *cmd]
    base = f"http://{host}:{PORT}"
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)  # fmt: skip
    try:
        import requests

        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"openee serve exited early: {log.read_text()[-2000:]}")
            try:
                if requests.get(f"{base}/$discovery/rest?version=v1", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("openee serve not ready")
            time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def key_for(data_dir: Path, base: str, work: Path) -> Path:
    """The data dir's key with its token URI on `base` (for google-auth and the ee client)."""
    key = json.loads((data_dir / "keys" / "default.json").read_text())
    key["token_uri"] = f"{base}/token"
    path = work / f"key-{abs(hash(base))}.json"
    path.write_text(json.dumps(key))
    return path


def measure_link(
    label: str, base: str, key_path: Path, repeat: int
) -> list[tuple[str, str, float, int, float]]:
    """(link, case, accept, seconds (median), bytes on the wire, ratio) rows."""
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    key = json.loads(key_path.read_text())
    credentials = service_account.Credentials.from_service_account_file(
        str(key_path), scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    session = AuthorizedSession(credentials)
    url = f"{base}/v1/projects/{key['project_id']}/image:computePixels"
    rows: list[Any] = []
    for case, grid in CASES:
        body = request_body(grid, with_expression=True)
        reference = None
        for accept_label, accept in ACCEPTS.items():
            times, wire_bytes, coding = [], 0, ""
            for i in range(repeat + 1):
                started = time.perf_counter()
                r = session.post(url, json=body, headers={"Accept-Encoding": accept},
                                 stream=True, timeout=600)  # fmt: skip
                content = r.content
                seconds = time.perf_counter() - started
                coding = r.headers.get("Content-Encoding", "identity")
                assert r.status_code == 200, r.text[:300]
                if reference is None:
                    reference = content
                assert content == reference, "decoded body differs"
                if i:
                    times.append(seconds)
            # What went over the wire, not decoded (an extra request, not timed).
            with session.post(url, json=body, headers={"Accept-Encoding": accept},
                              stream=True, timeout=600) as r:  # fmt: skip
                wire_bytes = sum(len(b) for b in r.raw.stream(1 << 20, decode_content=False))
            rows.append(
                (
                    label,
                    case,
                    f"{accept_label} -> {coding}",
                    statistics.median(times),
                    wire_bytes,
                    len(reference) / max(1, wire_bytes),
                )
            )
            print(rows[-1], flush=True)
    session.close()
    return rows


def stock_client(base: str, key_path: Path, repeat: int) -> tuple[float, list[str]]:
    """Seconds (median) for `ee.data.computePixels` of the 2048 case, by the stock client."""
    script = r"""
import json, statistics, sys, time
import ee, requests
sys.path.insert(0, sys.argv[4])
from bench_common import Grid, request_body
key = json.load(open(sys.argv[2]))
ee.Initialize(ee.ServiceAccountCredentials(key["client_email"], sys.argv[2]),
              project=key["project_id"], url=sys.argv[1])
codings = []
original = requests.Session.request
def recording(self, *a, **kw):
    r = original(self, *a, **kw)
    if "computePixels" in str(a[1] if len(a) > 1 else kw.get("url")):
        codings.append(r.headers.get("Content-Encoding", "identity"))
    return r
requests.Session.request = recording
body = request_body(Grid.centered(2048, 100.0), with_expression=True)
body["expression"] = ee.deserializer.decodeCloudApi(body["expression"])
times = []
for i in range(int(sys.argv[3]) + 1):
    t = time.perf_counter()
    data = ee.data.computePixels(body)
    if i:
        times.append(time.perf_counter() - t)
print(json.dumps({"seconds": statistics.median(times), "codings": sorted(set(codings)),
                  "bytes": len(data)}))
"""
    out = subprocess.run(
        [sys.executable, "-c", script, base, str(key_path), str(repeat), str(BENCH_DIR)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    answer = json.loads(out.stdout.splitlines()[-1])
    print("stock ee client", answer, flush=True)
    return float(answer["seconds"]), list(answer["codings"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", action="append", help="tc rate of a shaped link (1gbit)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="reuse this work directory")
    args = parser.parse_args()
    rates = args.rate or ["1gbit"]
    work = args.work or Path(tempfile.mkdtemp(prefix="openee-wire-"))
    data_dir = work / "cog-data"
    if not (data_dir / "catalog.sqlite").exists():
        from openee.bootstrap import bootstrap
        from openee.catalog.profiles import SENTINEL2_L2A
        from openee.catalog.sqlite import SqliteCatalog
        from openee.catalog.stac_ingest import ingest_stac
        from openee.settings import Settings

        catalog_dir = make_cog_catalog(work / "cog")
        data_dir.mkdir(parents=True, exist_ok=True)
        store = SqliteCatalog(data_dir / "catalog.sqlite")
        ingest_stac(store, catalog_dir / "catalog.json", COLLECTION_ID, SENTINEL2_L2A)
        store.close()
        bootstrap(Settings(data_dir=data_dir))
    log = work / "server.log"
    print(f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()}", flush=True)
    rows, stock = [], []
    with server(data_dir, log, "127.0.0.1", "always", netns=False) as base:
        key = key_for(data_dir, base, work)
        rows += measure_link("loopback (policy always)", base, key, args.repeat)
        stock.append(("loopback (policy always)", *stock_client(base, key, args.repeat)))
    for rate in rates:
        with shaped_link(rate), server(data_dir, log, NS_IP, "auto", netns=True) as base:
            key = key_for(data_dir, base, work)
            label = f"veth {rate} (policy auto)"
            rows += measure_link(label, base, key, args.repeat)
            stock.append((label, *stock_client(base, key, args.repeat)))
    print(f"\nload after {os.getloadavg()}\n")
    print("| link | grid | Accept-Encoding -> Content-Encoding | s (median) | bytes sent | ratio |")
    print("|---|---|---|---:|---:|---:|")
    for link, case, accept, seconds, sent, ratio in rows:
        print(f"| {link} | {case} | {accept} | {seconds:.3f} | {sent:,} | {ratio:.1f} |")
    print("\n| link | stock `ee.data.computePixels`, 2048x2048 | s (median) |")
    print("|---|---|---:|")
    for link, seconds, codings in stock:
        print(f"| {link} | Content-Encoding {', '.join(codings)} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
