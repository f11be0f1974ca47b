"""Map ids are content-addressed (ADR 0037): the stock client's `getMapId` for the same layer
gets the same id, from the same principal only, and the id and its tile URL survive a restart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests
from auth_server import AuthServer, launch, server_env
from oracle import load_items

ITEM = next(i for i in load_items() if i.id == "S2A_33TWL_20230815_0_L2A")

# The stock client: the same layer asked for twice, and another visualization of it.
MAP_ID_SCRIPT = """
import json, sys, ee
base_url, key_path, item = sys.argv[1:4]
project = json.load(open(key_path))["project_id"]
ee.Initialize(ee.ServiceAccountCredentials(None, key_path), project=project, url=base_url)
image = ee.Image(item)
vis = {"bands": ["B4"], "min": 0, "max": 3000}
first, second = image.getMapId(vis), image.getMapId(vis)
other = image.getMapId({**vis, "max": 2000})
print(json.dumps({"ids": [first["mapid"], second["mapid"]], "other": other["mapid"],
                  "url_format": first["tile_fetcher"].url_format}))
"""


def map_ids(srv: AuthServer, key_path: Path, tmp_path: Path) -> dict[str, Any]:
    # The key file names the token URL of the server that wrote it: this one's port may differ.
    key = json.loads(key_path.read_text())
    key_path = tmp_path / f"current-{key_path.name}"
    key_path.write_text(json.dumps({**key, "token_uri": srv.token_url}))
    result = subprocess.run(
        [sys.executable, "-c", MAP_ID_SCRIPT, srv.base_url, str(key_path), ITEM.image_id],
        env=server_env({"HOME": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    for name in (*out["ids"], out["other"]):
        srv.secret(name.rsplit("/", 1)[1])
    return out


def tile_path(out: dict[str, Any]) -> str:
    """The tile URL's path (the port changes with the restart), tile 4/8/5 over the image."""
    url: str = out["url_format"].format(z=4, x=8, y=5)
    return url[url.index("/v1/") :]


def test_the_same_layer_gets_the_same_id_across_a_restart(tmp_path: Path) -> None:
    root = tmp_path / "server"
    with launch(root) as srv:
        mine = map_ids(srv, srv.key_path, tmp_path)
        other_key_path = tmp_path / "other.json"
        srv.new_key("other-viewer", other_key_path)
        theirs = map_ids(srv, other_key_path, tmp_path)
        tile = requests.get(srv.base_url + tile_path(mine), timeout=60)
        assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
    first, second = mine["ids"]
    assert first == second
    assert mine["other"] != first  # another visualization, another id
    assert theirs["ids"][0] == theirs["ids"][1] and theirs["ids"][0] != first  # another creator
    with launch(root) as srv:
        for name in mine["ids"]:
            srv.secret(name.rsplit("/", 1)[1])
        again = requests.get(srv.base_url + tile_path(mine), timeout=60)
        assert again.status_code == 200 and again.content == tile.content
        assert map_ids(srv, srv.key_path, tmp_path)["ids"] == mine["ids"]
