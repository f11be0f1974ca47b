"""Asset ids and names, as the stock client forms them.

The client turns an id into a REST name (`ee/_cloud_api_utils.py:convert_asset_id_to_asset_name`):
`COPERNICUS/S2` -> `projects/earthengine-public/assets/COPERNICUS/S2`; `users/...` and other
`projects/...` ids -> `projects/earthengine-legacy/assets/...`. Names are canonical here.
"""

from __future__ import annotations

import re

from openee.errors import InvalidArgumentError

PUBLIC = "earthengine-public"
LEGACY = "earthengine-legacy"

_PROJECT_ASSET = re.compile(r"^projects/((?:[a-z][a-z0-9.:-]*))/assets(?:/(.*))?$")
_SEGMENT = re.compile(r"^[A-Za-z0-9_.\-]+$")


def _check_path(path: str) -> str:
    parts = path.split("/")
    for part in parts:
        if not part or part in (".", "..") or not _SEGMENT.match(part):
            raise InvalidArgumentError(f"Invalid asset id: '{path[:200]}'.")
    return path


def name_from_id(asset_id: str) -> str:
    """The canonical asset name for an id or a name."""
    asset_id = asset_id.strip().strip("/")
    match = _PROJECT_ASSET.match(asset_id)
    if match:
        project, rest = match.group(1), match.group(2) or ""
        if project == LEGACY and rest.startswith("projects/"):
            return name_from_id(rest)
        return (
            f"projects/{project}/assets/{_check_path(rest)}"
            if rest
            else f"projects/{project}/assets"
        )
    if asset_id.startswith("users/"):
        return f"projects/{LEGACY}/assets/{_check_path(asset_id)}"
    if asset_id.startswith("projects/"):
        raise InvalidArgumentError(f"Invalid asset id: '{asset_id[:200]}'.")
    return f"projects/{PUBLIC}/assets/{_check_path(asset_id)}"


def id_from_name(name: str) -> str:
    """The id the client shows for a name: public assets drop the `projects/.../assets/` part."""
    prefix = f"projects/{PUBLIC}/assets/"
    if name.startswith(prefix):
        return name[len(prefix) :]
    legacy = f"projects/{LEGACY}/assets/"
    if name.startswith(legacy):
        return name[len(legacy) :]
    return name


def parent_of(name: str) -> str:
    return name.rsplit("/", 1)[0]
