"""Concurrent computePixels requests together stay within the process-wide memory budget."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient

from openee.api.app import create_app
from openee.settings import DEFAULT_PROJECT, Limits, Settings

MIB = 2**20
GRID = {
    "crsCode": "EPSG:4326",
    "affineTransform": {"scaleX": 1e-4, "translateX": 15.0, "scaleY": -1e-4, "translateY": 46.0},
    "dimensions": {"width": 1024, "height": 1024},
}
LONLAT = {
    "result": "0",
    "values": {
        "0": {"functionInvocationValue": {"functionName": "Image.pixelLonLat", "arguments": {}}}
    },
}


def test_concurrent_requests_share_the_process_budget(tmp_path: Path) -> None:
    # Each request: 1024 x 1024 x 2 float64 bands = 16 MiB of pixels, ~32 MiB at its peak.
    limits = Limits(process_memory_budget_bytes=80 * MIB)
    settings = Settings(data_dir=tmp_path, auth_enabled=False, limits=limits, admission_wait_s=30)
    app = create_app(settings)
    body = {"expression": LONLAT, "fileFormat": "NPY", "grid": GRID}
    url = f"/v1/projects/{DEFAULT_PROJECT}/image:computePixels"
    with TestClient(app) as client, ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda _: client.post(url, json=body), range(6)))
    assert all(r.status_code == 200 for r in responses), [r.text[:200] for r in responses]
    ledger = app.state.memory_ledger
    assert 16 * MIB <= ledger.high_water <= 80 * MIB  # reservations happened, within budget
    assert ledger.reserved == 0  # all given back
