"""`openee ingest` of hostile STAC catalogs (issue 16, items 7 and 14): asset hrefs that are
absolute paths outside, `../`, `http://` or `/vsicurl/` URLs, and child links to URLs are refused
one by one (the confined items are still ingested); the command reports each bad source on one
line, ingests the rest and exits non-zero."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from security_kit import Listener, Outside, write_tif

from openee.catalog.ingest import ingest
from openee.catalog.sqlite import SqliteCatalog

COLLECTION = "projects/earthengine-public/assets/STAC"


def stac_item(folder: Path, item_id: str, href: str) -> Path:
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "geometry": {"type": "Point", "coordinates": [13.5, 45.5]},
        "bbox": [13.5, 45.5, 13.5, 45.5],
        "properties": {"datetime": "2023-01-01T00:00:00Z"},
        "assets": {"B1": {"href": href, "type": "image/tiff; application=geotiff"}},
        "links": [],
    }
    path = folder / item_id / f"{item_id}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(item))
    return path


def hostile_catalog(folder: Path, canary: Listener, outside: Outside) -> Path:
    folder.mkdir()
    write_tif(folder / "good.tif", 7)
    hrefs = {
        "good": "../good.tif",
        "absolute": str(outside.dir / "secret.tif"),
        "dotdot": "../../" + os.path.relpath(outside.dir / "secret.tif", folder.parent),
        "http": f"{canary.url}/x.tif",
        "gdalcurl": f"/vsicurl/{canary.url}/x.tif",
    }
    links = [{"rel": "item", "href": f"./{i}/{i}.json", "type": "application/json"}
             for i in hrefs]  # fmt: skip
    for item_id, href in hrefs.items():
        stac_item(folder, item_id, href)
    links.append({"rel": "child", "href": f"{canary.url}/catalog.json"})
    catalog = {"type": "Catalog", "stac_version": "1.0.0", "id": "c", "description": "c",
               "links": links}  # fmt: skip
    path = folder / "catalog.json"
    path.write_text(json.dumps(catalog))
    return path


def test_hostile_stac_hrefs_are_refused_one_by_one(
    tmp_path: Path, canary: Listener, outside: Outside
) -> None:
    hostile_catalog(tmp_path / "stac", canary, outside)
    store = SqliteCatalog(tmp_path / "c.sqlite")
    report = ingest(store, [tmp_path / "stac"], "STAC")
    assert report.images == 1 and store.get(f"{COLLECTION}/good") is not None
    failed = "\n".join(f"{what}: {why}" for what, why in report.failed)
    for item_id in ("absolute", "dotdot", "http", "gdalcurl"):
        assert f"#{item_id}:" in failed and store.get(f"{COLLECTION}/{item_id}") is None
    assert canary.hits == [] and outside.untouched()


@pytest.mark.parametrize("flag", [False, True])
def test_the_command_reports_each_bad_file_and_exits_non_zero(
    tmp_path: Path, outside: Outside, flag: bool
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    write_tif(source / "good.tif", 7)
    (source / "broken.tif").write_bytes(b"II*\x00" + b"\x00" * 100)
    (source / "linked.tif").symlink_to(outside.dir / "secret.tif")
    extra = ["--allow-root", str(outside.dir)] if flag else []
    done = subprocess.run(
        [sys.executable, "-m", "openee", "ingest", str(source), "--asset-id", "CLI",
         "--data-dir", str(tmp_path / "data"), *extra],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("openee ingest: ")]
    named = sorted(Path(line.split(": ")[1]).name for line in lines)
    # An operator's --allow-root lets the linked file in; the broken one never is.
    assert named == (["broken.tif"] if flag else ["broken.tif", "linked.tif"])
    images = 2 if flag else 1
    assert f"{images} images" in done.stderr.splitlines()[-1]
