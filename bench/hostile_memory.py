"""Memory of the hostile-raster corpus (issue 16, items 12-14): peak resident growth of a live
`openee serve` per family of files, and peak resident size of `openee ingest` per family.

A measurement, not a test (tests/security/test_security_hostile_rasters.py holds a bound). The
34 files of tests/security/hostile_corpus.py, by family, go through:

  server   a fresh `openee serve --no-auth` on 127.0.0.1; after a warm-up (the base file
           imported and read), per family: the server's peak resident size is reset (Linux
           /proc/PID/clear_refs), then each file is copied into the project's area, imported
           (image:import), read by :getPixels (64 x 64 at 120 m and 960 m) when the import
           succeeded, and read by Image.loadGeoTIFF in computePixels; growth = peak (VmHWM) less
           the resident size before the family. The HTTP statuses are counted.
  ingest   `openee ingest FAMILY_DIR` in a fresh process per family; its peak resident size
           (wait4's ru_maxrss) and exit status.

    .venv/bin/python bench/hostile_memory.py
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "security"))

from hostile_corpus import BOMBS, build_corpus  # noqa: E402
from security_kit import PROJECT, Api, succeeded  # noqa: E402


class Client(requests.Session):
    """What security_kit.Api uses of a test client: post and get of paths under one base URL."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", 120)
        return super().request(method, f"{self.base_url}{url!s}", *args, **kwargs)


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "openee", "serve", "--no-auth", "--port", str(port)]
    with open(log, "wb") as err:
        proc = subprocess.Popen([*cmd, "--data-dir", str(data_dir)], stdout=err, stderr=err)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/$discovery/rest?version=v1", timeout=2)
            return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(log.read_text()[-2000:])


def exercise(api: Api, path: Path, statuses: Counter[str]) -> None:
    """image:import, :getPixels at two scales, loadGeoTIFF of one file of the project's area."""
    name = f"m_{path.stem}"
    answer = api.import_image(name, [str(path)])
    if succeeded(answer):
        statuses["import 200"] += 1
        for scale in (120.0, 960.0):
            code = api.get_pixels(name, scale=scale, size=64).status_code
            statuses[f"getPixels {code}"] += 1
    elif isinstance(answer, dict):
        statuses["import FAILED"] += 1
    else:
        statuses[f"import {answer.status_code}"] += 1
    statuses[f"loadGeoTIFF {api.load_geotiff(str(path)).status_code}"] += 1


def ingest_peak(folder: Path, data_dir: Path, asset: str) -> tuple[int, int]:
    """Peak resident KiB and exit status of `openee ingest folder`."""
    cmd = [sys.executable, "-m", "openee", "ingest", str(folder), "--asset-id", asset]
    proc = subprocess.Popen(
        [*cmd, "--data-dir", str(data_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss, proc.returncode


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        families = build_corpus(root)
        data_dir, port = root / "data", free_port()
        area = data_dir / "projects" / PROJECT / "corpus"
        area.mkdir(parents=True)
        proc = serve(data_dir, port, root / "server.log")
        rows = []
        try:
            with Client(f"http://127.0.0.1:{port}") as client:
                api = Api(client, data_dir)  # type: ignore[arg-type]
                warm = Counter[str]()
                exercise(api, Path(shutil.copy(root / "base.tif", area / "base.tif")), warm)
                for family, paths in families.items():
                    copies = [Path(shutil.copy(p, area / p.name)) for p in paths]
                    with open(f"/proc/{proc.pid}/clear_refs", "w") as f:
                        f.write("5")
                    before = status_kib(proc.pid, "VmRSS")
                    statuses: Counter[str] = Counter()
                    for path in copies:
                        exercise(api, path, statuses)
                    growth = status_kib(proc.pid, "VmHWM") - before
                    rows.append([family, len(paths), growth, statuses])
            server_rss = status_kib(proc.pid, "VmRSS")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        for row in rows:
            folder = root / f"ingest_{row[0]}"
            folder.mkdir()
            for path in families[row[0]]:
                shutil.copy(path, folder / path.name)
            peak, code = ingest_peak(folder, root / f"ingest_data_{row[0]}", f"H/{row[0]}")
            row += [peak, code]
    print(f"server resident size after the corpus: {server_rss / 1024:.0f} MiB")
    print("| family | files | server peak growth | answers | ingest peak RSS | ingest exit |")
    print("|---|---|---|---|---|---|")
    for family, count, growth, statuses, peak, code in rows:
        what = BOMBS.get(f"{family}.tif", family)
        answers = ", ".join(f"{k} x{v}" for k, v in sorted(statuses.items()))
        print(
            f"| {what} | {count} | {growth / 1024:.1f} MiB | {answers} | {peak / 1024:.0f} MiB"
            f" | {code} |"
        )


if __name__ == "__main__":
    main()
