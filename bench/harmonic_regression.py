"""Harmonic regression at one pixel (issue 11, item 14), through the stock client.

The model of Earth Engine's arrays guide (samples/python/guides/arrays04.py): predictors
[1, t, sin(2 pi t), cos(2 pi t)] and a response per image, `ImageCollection.toArray()`, then
the coefficients by matrixInverse, matrixPseudoInverse and matrixSolve, read at one point with
reduceRegion; and the same model as ee.Array values (value:compute only). 90 images: the demo
catalog's 10 Sentinel-2 scenes cycled (file reads), and 90 constant images built on the server.

    .venv/bin/python bench/harmonic_regression.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

N_IMAGES = 90
START_MS = 1_546_300_800_000  # 2019-01-01
STEP_MS = 8 * 86_400_000


def _serve(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "openee", "serve", "--port", str(port), "--data-dir", str(root)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if requests.get(f"{url}/$discovery/rest", params={"version": "v1"}, timeout=2).ok:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.25)
    proc.kill()
    raise SystemExit("openee serve did not start")


def _scenes(ee):  # type: ignore[no-untyped-def]
    """90 images cycling the demo catalog's 10 Sentinel-2 scenes, 8 days apart: file reads."""
    scenes = ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED").toList(10)
    images = [
        ee.Image(scenes.get(i % 10))
        .normalizedDifference(["B8", "B4"])
        .rename("NDVI")
        .set("system:time_start", START_MS + i * STEP_MS)
        for i in range(N_IMAGES)
    ]
    return ee.ImageCollection(images)


def _collection(ee):  # type: ignore[no-untyped-def]
    """90 constant images built on the server: no file reads."""

    def image(i):  # type: ignore[no-untyped-def]
        t_ms = ee.Number(START_MS).add(ee.Number(i).multiply(STEP_MS))
        t = t_ms.divide(365.25 * 86_400_000).add(0.3)
        ndvi = t.multiply(2 * math.pi).sin().multiply(0.2).add(0.5).add(t.multiply(0.01))
        return ee.Image.constant(ndvi).rename("NDVI").set("system:time_start", t_ms)

    return ee.ImageCollection(ee.List.sequence(0, N_IMAGES - 1).map(image))


def _variables(ee, image):  # type: ignore[no-untyped-def]
    year = ee.Image(image.date().difference(ee.Date("1970-01-01"), "year"))
    season = year.multiply(2 * math.pi)
    return (
        image.select([])
        .addBands(ee.Image(1))
        .addBands(year.rename("t"))
        .addBands(season.sin().rename("sin"))
        .addBands(season.cos().rename("cos"))
        .addBands(image.select("NDVI"))
        .toFloat()
    )


def pipelines(ee, collection):  # type: ignore[no-untyped-def]
    array = collection.map(lambda i: _variables(ee, i)).toArray()
    x, y = array.arraySlice(1, 0, 4), array.arraySlice(1, 4)
    point = ee.Geometry.Point(15.7, 45.55)  # in the demo scenes of tile 33TWL

    def at_point(coefficients):  # type: ignore[no-untyped-def]
        flat = coefficients.arrayProject([0]).arrayFlatten([["c", "t", "sin", "cos"]])
        return flat.reduceRegion(ee.Reducer.first(), point, 30)

    inverse = (
        x.arrayTranspose().matrixMultiply(x).matrixInverse()
        .matrixMultiply(x.arrayTranspose()).matrixMultiply(y)
    )  # fmt: skip
    rows = ee.List.sequence(0, N_IMAGES - 1).map(
        lambda i: ee.Number(START_MS).add(ee.Number(i).multiply(STEP_MS))
        .divide(365.25 * 86_400_000).add(0.3)
    )  # fmt: skip
    design = ee.Array(rows.map(lambda t: ee.List([1, t, ee.Number(t).multiply(2 * math.pi).sin(),
                                                  ee.Number(t).multiply(2 * math.pi).cos()])))  # fmt: skip
    response = ee.Array(rows.map(lambda t: ee.List([ee.Number(t).multiply(2 * math.pi).sin()])))
    return {
        "image matrixInverse": at_point(inverse),
        "image matrixPseudoInverse": at_point(x.matrixPseudoInverse().matrixMultiply(y)),
        "image matrixSolve": at_point(x.matrixSolve(y)),
        "Array matrixSolve (value)": design.matrixSolve(response),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = _serve(Path(tmp))
        try:
            import ee

            key = json.loads((Path(tmp) / "keys" / "default.json").read_text())
            credentials = ee.ServiceAccountCredentials(
                key["client_email"], str(Path(tmp) / "keys" / "default.json")
            )
            ee.Initialize(credentials, project=key["project_id"], url=url)
            runs = {
                **{f"S2 files, {k}": v for k, v in pipelines(ee, _scenes(ee)).items()},
                **{f"constants, {k}": v for k, v in pipelines(ee, _collection(ee)).items()},
            }
            for name, expression in runs.items():
                if name.startswith("S2 files, Array"):
                    continue  # the same value pipeline twice
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    value = expression.getInfo()
                    times.append(time.perf_counter() - start)
                best, median = min(times), sorted(times)[len(times) // 2]
                print(f"{name:42s} best {best * 1000:7.0f} ms  median {median * 1000:7.0f} ms  "
                      f"{json.dumps(value)[:70]}")  # fmt: skip
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
