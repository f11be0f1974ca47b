"""Download links of Drive exports (beyond Earth Engine, which links to Google Drive):
`GET /v1/drive/{owner}/{path}` serves a file an export published to `<data dir>/drive/<owner>/`
to that principal only, with its media type, `Content-Disposition: attachment` and byte ranges
(`Range: bytes=...`, answered 206). Any other caller, a missing file, a hidden or staged name
and a path leaving the folder all get the same 404 (docs/decisions/0044).
"""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from openee.api.deps import get_state, require_principal
from openee.api.state import AppState
from openee.auth import Principal
from openee.errors import NotFoundError
from openee.services.destinations import DRIVE_ROUTE, drive_file

router = APIRouter()

State = Annotated[AppState, Depends(get_state)]
Caller = Annotated[Principal, Depends(require_principal)]

# Types mimetypes does not know everywhere (its table comes from the system's files).
MEDIA_TYPES = {
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".json": "application/json",
    ".geojson": "application/geo+json",
    ".csv": "text/csv",
    ".kml": "application/vnd.google-earth.kml+xml",
    ".kmz": "application/vnd.google-earth.kmz",
    ".mp4": "video/mp4",
    ".parquet": "application/vnd.apache.parquet",
    ".shp": "application/octet-stream",
    ".dbf": "application/octet-stream",
    ".shx": "application/octet-stream",
}


def media_type(name: str) -> str:
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


@router.get(DRIVE_ROUTE + "/{owner}/{path:path}")
def download(owner: str, path: str, state: State, principal: Caller) -> FileResponse:
    """A Drive export's file, to its owner."""
    found = drive_file(state.settings.data_dir, principal.email, owner, path)
    if found is None:
        raise NotFoundError(f"File '{path[:200]}' not found.")
    return FileResponse(found, media_type=media_type(found.name), filename=found.name)
